// SPDX-License-Identifier: Apache-2.0

/// Why a Moxy URL could not be signed or verified.
///
/// Compare errors by ``code``; the ``message`` is for people. ``Code/description`` carries no
/// associated values, so it is safe as a metrics label.
public struct SigningError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-readable reason.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Backing: String, Hashable, Sendable {
            case malformedPath = "malformed-path"
            case badSignature = "bad-signature"
            case unknownKey = "unknown-key"
            case expired = "expired"
            case invalidOptions = "invalid-options"
            case invalidTarget = "invalid-target"
            case invalidKey = "invalid-key"
        }

        private let backing: Backing
        private init(_ backing: Backing) { self.backing = backing }

        /// The path does not follow the Moxy URL grammar.
        public static let malformedPath = Code(.malformedPath)
        /// The signature does not match the path.
        public static let badSignature = Code(.badSignature)
        /// The key id named in the URL (or the default key) is not configured.
        public static let unknownKey = Code(.unknownKey)
        /// The URL's expiry time has passed.
        public static let expired = Code(.expired)
        /// The options segment is not a valid option list.
        public static let invalidOptions = Code(.invalidOptions)
        /// The target is not an absolute `http` or `https` URL in UTF-8.
        public static let invalidTarget = Code(.invalidTarget)
        /// A signing key is empty or its id is not allowed.
        public static let invalidKey = Code(.invalidKey)

        /// The stable text of the code, e.g. `bad-signature`.
        public var description: String { backing.rawValue }
    }

    /// The stable reason.
    public let code: Code
    /// A one-line explanation for people.
    public let message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: The stable reason.
    ///   - message: A one-line explanation.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Two errors are equal when their codes are.
    public static func == (lhs: SigningError, rhs: SigningError) -> Bool { lhs.code == rhs.code }
    /// Hashes the code only.
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }
}
