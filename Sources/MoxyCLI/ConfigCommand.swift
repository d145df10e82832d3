// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import MoxyServer
import MoxySigning

/// `moxy config check`: loads the configuration and reports the first problem, or `ok`.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Inspect the configuration.",
        subcommands: [Check.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "check", abstract: "Validate the configuration.")
        @OptionGroup var common: CommonOptions

        func run() throws {
            let signer = try loadSigner(configFile: common.config)
            print("ok: keys \(signer.keyIDs.joined(separator: ", ")) (default \(signer.defaultKeyID))")
        }
    }
}
