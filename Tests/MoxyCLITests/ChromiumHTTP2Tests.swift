// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxyServer
import MoxyTestSupport
import Testing

/// A real headless Chromium loads a page and a signed image from Moxy's TLS listener over HTTP/2.
@Suite struct ChromiumHTTP2Tests {
    /// A 1x1 PNG.
    static let pixel = Array(Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")!)

    @Test func aBrowserGetsAPageAndASignedImageOverHTTP2() async throws {
        let browser = try #require(StatusPageTests.chromium, "Chromium is needed: apt-get install chromium (.ci/run installs it)")
        let directory = try TLSFiles.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try await TLSFiles.makeCertificate("browser", in: directory)
        try await MoxyHarness.run(
            configure: { $0.tls = TLSListenerConfiguration(host: "127.0.0.1", port: 0, certificatePath: files.certificate, keyPath: files.key) },
            realTime: true, routes: { [try RouteConfiguration(name: "pages", pathPrefix: "/page", upstream: #require(TargetURL($0.url(""))))] }
        ) { moxy in
            moxy.origin.route("/cat.png", OriginRoute(headers: [("Content-Type", "image/png"), ("Cache-Control", "max-age=600")], body: Self.pixel))
            let image = try moxy.path("/cat.png")
            let page = """
                <html><body><p id="r">pending</p>
                <img src="\(image)" onload="document.getElementById('r').textContent = [performance.getEntriesByType('navigation')[0].nextHopProtocol, performance.getEntriesByType('resource')[0].nextHopProtocol, this.naturalWidth].join(' ')">
                </body></html>
                """
            moxy.origin.route("/page/index.html", OriginRoute(headers: [("Content-Type", "text/html"), ("Cache-Control", "max-age=600")], body: Array(page.utf8)))
            let port = try #require(moxy.server.tlsPort)
            let profile = directory + "/profile"
            let dom = try await MoxyBinary.runTool(
                browser,
                [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)", "--ignore-certificate-errors",
                    "--virtual-time-budget=5000", "--dump-dom", "https://127.0.0.1:\(port)/page/index.html",
                ])
            #expect(dom.contains("<p id=\"r\">h2 h2 1</p>"), "page, image and its width: \(dom)")
            #expect(moxy.origin.count("/cat.png") == 1)
        }
    }
}
