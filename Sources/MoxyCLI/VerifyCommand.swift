// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import MoxyServer
import MoxySigning

/// `moxy verify PATH_OR_URL`: prints the target URL or fails with the reason.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Verify a Moxy path or URL.")

    @OptionGroup var common: CommonOptions
    @Argument(help: "A Moxy path (/sig/...) or full Moxy URL.") var pathOrURL: String

    func run() throws {
        let signer = try loadSigner(configFile: common.config)
        do {
            let target = try signer.verify(path: VerifyCommand.path(of: pathOrURL), now: UnixTime.now())
            print(target.url)
        } catch let error as SigningError {
            throw CLIFailure("\(error.code): \(error.message)")
        }
    }

    /// The path of a full URL (without query), or the text itself when it is a path.
    static func path(of text: String) -> Substring {
        var rest = Substring(text)
        if let scheme = rest.firstRange(of: "://") {
            rest = rest[scheme.upperBound...]
            rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
        }
        if let query = rest.firstIndex(of: "?") { rest = rest[..<query] }
        return rest
    }
}
