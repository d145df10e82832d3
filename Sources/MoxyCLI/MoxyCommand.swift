// SPDX-License-Identifier: Apache-2.0

public import ArgumentParser
import MoxyServer

/// The `moxy` command line: `serve`, `sign`, `verify`, `config check`, `validate`.
public struct MoxyCommand: AsyncParsableCommand {
    /// The command tree.
    public static let configuration = CommandConfiguration(
        commandName: "moxy",
        abstract: "A signed-URL caching proxy.",
        version: "moxy \(MoxyBuild.version) (commit \(MoxyBuild.commit), \(MoxyBuild.flavour) build)",
        subcommands: [
            ServeCommand.self, SignCommand.self, VerifyCommand.self, ConfigCommand.self, ValidateCommand.self, PurgeCommand.self,
            StatsCommand.self, EntriesCommand.self, RewriteCommand.self, WarmCommand.self,
        ]
    )

    /// Creates the command (used by the argument parser).
    public init() {}
}

/// Options shared by every subcommand.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "A YAML config file (see docs/configuration.md).")
    var config: String?
}

/// A one-line failure that the argument parser prints as `Error: …` with exit code 1.
struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension MoxyCommand {
    /// Parses the process arguments and runs the chosen subcommand, exiting with its status.
    public static func runFromCommandLine() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
