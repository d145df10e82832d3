// SPDX-License-Identifier: Apache-2.0

/// Why a Redis operation failed. Compare by ``code``; the message is for logs and never holds a
/// password.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable reason.
    public enum Code: String, Sendable, Hashable {
        /// The server's bytes are not RESP, or break a limit (depth, length).
        case protocolError = "protocol-error"
        /// The server answered the command with an error (`-ERR`, `-WRONGTYPE`, `-MOVED` …).
        case server
        /// The credentials were refused (`WRONGPASS`, `NOAUTH`), or the server wants some.
        case authentication
        /// No connection could be made within the connect timeout.
        case connectFailed = "connect-failed"
        /// No answer within the command timeout (the connection is closed: later answers would
        /// be matched to the wrong commands).
        case timeout
        /// The connection closed before the answer.
        case connectionClosed = "connection-closed"
        /// The waiting task was cancelled (a shared-tier call past its budget); the command may
        /// still run, and its answer is dropped.
        case cancelled
        /// A `redis://` URL or an endpoint that cannot be used.
        case badConfiguration = "bad-configuration"
    }

    /// The reason.
    public let code: Code
    /// What happened, in one line.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`.
    public var description: String { "\(code.rawValue): \(message)" }

    /// For a server error, its first word (`ERR`, `WRONGTYPE`, `MOVED`, `ASK`, `NOPROTO` …).
    public var serverPrefix: Substring? {
        guard code == .server else { return nil }
        return message.split(separator: " ", maxSplits: 1).first
    }
}
