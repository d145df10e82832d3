// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import MoxyRewrite
import MoxyServer
import MoxySigning

#if canImport(Glibc)
import Glibc
#endif

/// `moxy rewrite < in.html > out.html`: the document's image URLs become signed Moxy URLs.
struct RewriteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewrite",
        abstract: "Rewrite the image URLs of an HTML document (standard input to standard output) into signed Moxy URLs.",
        discussion: """
            Rewrites img src and srcset, source srcset, video poster, link rel=icon href and CSS url() in \
            style attributes and <style> blocks. data: URLs, relative URLs (unless --origin resolves them), \
            hosts outside --allow-host and URLs already under --base are left alone, and so is every other \
            byte of the document. Streams: memory stays flat whatever the document's size.
            """
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "The Moxy base the signed paths go under, e.g. https://img.example.com (default: bare paths).")
    var base: String?
    @Flag(name: .customLong("only-insecure"), help: "Rewrite only http:// URLs (mixed content), not https:// ones.")
    var onlyInsecure = false
    @Option(
        name: .customLong("allow-host"), parsing: .upToNextOption,
        help: "Rewrite only URLs whose host matches one of these globs, e.g. '*.example.com'.")
    var allowHosts: [String] = []
    @Option(help: "The document's own URL: relative URLs are resolved against it and rewritten.")
    var origin: String?
    @Option(name: .customLong("key-id"), help: "Sign with this key id instead of the default key.")
    var keyID: String?
    @Option(help: "Lifetime of the signed URLs, e.g. 30d.")
    var expires: String?

    func run() throws {
        let signer = try loadSigner(configFile: common.config)
        var signOptions = SignOptions(keyID: keyID)
        if let expires {
            guard let seconds = ValueParsers.duration(expires), seconds >= 1 else {
                throw CLIFailure("invalid --expires '\(expires)' (e.g. 30m, 1h, 7d)")
            }
            signOptions.expires = UnixTime.now() + Int64(seconds)
        }
        for (flag, value) in [("--base", base), ("--origin", origin)] {
            if let value, !URLSigner.isSignableTarget(value) {
                throw CLIFailure("\(flag) must be an absolute http:// or https:// URL, not '\(value)'")
            }
        }
        // Fail on a bad key id now, not silently on every URL of the document.
        do { _ = try signer.sign("http://example.com/", options: signOptions) } catch let error as SigningError {
            throw CLIFailure(error.message)
        }
        let options = RewriteOptions(
            base: base ?? "", onlyInsecure: onlyInsecure, allowHosts: allowHosts, origin: origin, signOptions: signOptions)
        var rewriter = HTMLRewriter(signer: signer, options: options)
        var input = [UInt8](repeating: 0, count: 1 << 16)
        var output: [UInt8] = []
        output.reserveCapacity(1 << 17)
        while true {
            let count = input.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw CLIFailure("cannot read standard input: errno \(errno)") }
            if count == 0 { break }
            rewriter.feed(input[..<count], into: &output)
            try Self.write(&output)
        }
        rewriter.finish(into: &output)
        try Self.write(&output)
    }

    /// Writes and empties `bytes` to standard output.
    static func write(_ bytes: inout [UInt8]) throws {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress! + written, $0.count - written) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw CLIFailure("cannot write standard output: errno \(errno)") }
            written += count
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
