// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyServer
import MoxySigning
import MoxyTestSupport
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

/// A reload swaps routes, rules and keys for new requests at once; a request in flight finishes
/// under the settings it started with.
@Suite struct ReloadTests {
    @Test func requestsInFlightFinishUnderTheOldRoutes() async throws {
        let second = TestOrigin()
        try await second.start(group: MultiThreadedEventLoopGroup.singleton)
        second.route("/r/slow", text("from the second origin", [("Cache-Control", "no-store")]))
        second.route("/r/next", text("next from the second origin", [("Cache-Control", "no-store")]))
        try await MoxyHarness.run(routes: { [try originRoute($0, prefix: "/r/")] }) { moxy in
            moxy.origin.route("/r/slow", text("from the first origin", [("Cache-Control", "no-store")]))
            // The first request is held at the first origin until the request after the reload is answered.
            let answeredAfterReload = NIOLockedValueBox(false)
            moxy.origin.holdResponses(until: { answeredAfterReload.withLockedValue { $0 } })
            async let held = moxy.request("/r/slow")
            try await waitUntil { moxy.origin.count("/r/slow") == 1 }
            var configuration = ServerConfiguration(port: 0, eventLoopThreads: 1)
            configuration.upstream.addressPolicy = AddressPolicy(allowed: [.loopback])
            configuration.routes = [try originRoute(second, prefix: "/r/")]
            let result = moxy.server.reload(configuration: configuration, signer: moxy.signer)
            #expect(result.error == nil)
            // Another URL: one for the same key would wait for the fetch in flight (coalescing).
            let after = try await moxy.request("/r/next")
            #expect(after.text == "next from the second origin", "new requests use the new route")
            answeredAfterReload.withLockedValue { $0 = true }
            #expect(try await held.text == "from the first origin", "the request in flight kept its route")
            #expect(try await moxy.request("/r/slow").text == "from the second origin")
        }
        await second.stop()
    }

    @Test func aReloadNamesWhatNeedsARestart() async throws {
        try await MoxyHarness.run { moxy in
            var configuration = ServerConfiguration(port: 9, eventLoopThreads: 3)
            configuration.memoryCacheSize = 1 << 20
            let result = moxy.server.reload(configuration: configuration, signer: nil)
            #expect(result.notes.contains("listen changes only with a restart"))
            #expect(result.notes.contains("threads changes only with a restart"))
            #expect(result.notes.contains("cache.memory_size changes only with a restart"))
            #expect(result.notes.contains("keys: none"))
            let refused = try await moxy.get("/a.png")
            #expect(refused.status == 404, "without keys signed URLs are no longer served")
        }
    }
}
