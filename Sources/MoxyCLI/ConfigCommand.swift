// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import MoxyServer
import MoxySigning
import MoxyValidation

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
            let settings: MoxySettings
            do {
                settings = try MoxySettings.load(environment: ProcessEnvironment.current, configFile: common.config)
            } catch let error as SettingsError {
                throw CLIFailure(error.message)
            }
            let routes = settings.server.routes
            guard settings.signer != nil || settings.server.camoSigner != nil || !routes.isEmpty else {
                throw CLIFailure("no signing key and no route: set MOXY_KEY (or key/keys in the config file), or add routes")
            }
            if let signer = settings.signer {
                print("ok: keys \(signer.keyIDs.joined(separator: ", ")) (default \(signer.defaultKeyID))")
            } else {
                print("ok: no Moxy signing key")
            }
            if let camo = settings.server.camoSigner {
                print("camo formats: \(camo.formats.names.joined(separator: ", ")); profile \(settings.server.compatProfile.rawValue)")
            }
            for route in routes {
                let rules = route.validation.map { " (\(Self.describe($0)))" } ?? ""
                print("route \(route.name): \(route.host ?? "*")\(route.pathPrefix) -> \(route.upstream)\(rules)")
            }
            if let validation = settings.server.signedValidation {
                print("signed URLs: \(Self.describe(validation))")
            }
        }

        /// `9 validation rules, on_invalid pass, keep_last_good 604800s`.
        static func describe(_ validation: ValidationConfiguration) -> String {
            "\(validation.rules.count) validation rules, on_invalid \(validation.onInvalid.rawValue), keep_last_good \(validation.keepLastGood)s"
        }
    }
}
