// SPDX-License-Identifier: Apache-2.0

/// A configuration problem, reported as one line before anything starts.
public struct SettingsError: Error, Sendable, CustomStringConvertible {
    /// The stable reason.
    public enum Code: String, Sendable {
        /// A value does not parse.
        case invalidValue = "invalid-value"
        /// The config file has an unknown key.
        case unknownKey = "unknown-key"
        /// The config file cannot be read or parsed.
        case file
        /// No signing key is configured.
        case noKey = "no-key"
    }

    /// The stable reason.
    public let code: Code
    /// The one-line explanation.
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The explanation.
    public var description: String { message }
}
