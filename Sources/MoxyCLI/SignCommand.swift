// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import MoxyServer
import MoxySigning

/// `moxy sign URL`: prints the Moxy path (or full URL with `--base`).
struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sign", abstract: "Sign a URL into a Moxy path.")

    @OptionGroup var common: CommonOptions
    @Argument(help: "The absolute http(s) URL to sign.") var url: String
    @Option(help: "Lifetime of the signed URL, e.g. 1h, 7d.") var expires: String?
    @Option(name: .customLong("key-id"), help: "Sign with this key id instead of the default key.") var keyID: String?
    @Option(help: "Prefix the path with this base, e.g. http://127.0.0.1:8080.") var base: String?
    @Option(help: "Append .EXT to the path as a content-type hint for CDNs.") var ext: String?

    func run() throws {
        let signer = try loadSigner(configFile: common.config)
        var options = SignOptions(keyID: keyID, fileExtension: ext)
        if let expires {
            guard let seconds = ValueParsers.duration(expires), seconds >= 1 else {
                throw CLIFailure("invalid --expires '\(expires)' (e.g. 30m, 1h, 7d)")
            }
            options.expires = UnixTime.now() + Int64(seconds)
        }
        do {
            let path = try signer.sign(url, options: options)
            print((base.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? "") + path)
        } catch let error as SigningError {
            throw CLIFailure(error.message)
        }
    }
}

/// Loads the signing keys from the environment and config file, or fails with a one-line reason.
func loadSigner(configFile: String?) throws -> URLSigner {
    do {
        let settings = try MoxySettings.load(environment: ProcessEnvironment.current, configFile: configFile)
        guard let signer = settings.signer else {
            throw CLIFailure("no signing key: set MOXY_KEY (or key/keys in the config file)")
        }
        return signer
    } catch let error as SettingsError {
        throw CLIFailure(error.message)
    }
}
