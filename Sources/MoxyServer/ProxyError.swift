// SPDX-License-Identifier: Apache-2.0

/// Why Moxy could not serve a request, with the status it answers.
///
/// Compare by ``code``; ``Code/description`` has no associated values, so it is safe as a metrics label.
public struct ProxyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable reason.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Backing: String, Sendable {
            case notFound = "not-found"
            case methodNotAllowed = "method-not-allowed"
            case badSignature = "bad-signature"
            case expired
            case invalidTarget = "invalid-target"
            case addressRefused = "address-refused"
            case loopDetected = "loop-detected"
            case tooLarge = "too-large"
            case contentType = "content-type"
            case upstreamStatus = "upstream-status"
            case upstreamError = "upstream-error"
            case connectFailed = "connect-failed"
            case timeout
            case tooManyRedirects = "too-many-redirects"
            case badRedirect = "bad-redirect"
            case badRequest = "bad-request"
            case notCached = "not-cached"
            case requestTooLarge = "request-too-large"
            case filtered
            case busy
            case headersTooLarge = "headers-too-large"
            case uriTooLong = "uri-too-long"
            case invalidResponse = "invalid-response"
        }

        fileprivate let backing: Backing
        fileprivate init(_ backing: Backing) { self.backing = backing }

        /// The path is not a Moxy URL (404).
        public static let notFound = Code(.notFound)
        /// Only GET and HEAD are served (405).
        public static let methodNotAllowed = Code(.methodNotAllowed)
        /// Signature, key id or options do not verify (403).
        public static let badSignature = Code(.badSignature)
        /// The URL has expired (403).
        public static let expired = Code(.expired)
        /// The signed target is not a fetchable http(s) URL (400).
        public static let invalidTarget = Code(.invalidTarget)
        /// The target or a redirect resolves to a refused address class (403).
        public static let addressRefused = Code(.addressRefused)
        /// The request already passed through this Moxy (508).
        public static let loopDetected = Code(.loopDetected)
        /// The object exceeds the size limit (413).
        public static let tooLarge = Code(.tooLarge)
        /// The content type is missing, malformed or not allowed (415).
        public static let contentType = Code(.contentType)
        /// The upstream answered a non-success status (404 for 4xx, 502 for 5xx).
        public static let upstreamStatus = Code(.upstreamStatus)
        /// The upstream connection failed mid-response or sent garbage (502).
        public static let upstreamError = Code(.upstreamError)
        /// No connection could be made (502).
        public static let connectFailed = Code(.connectFailed)
        /// Connect, read or total timeout (504).
        public static let timeout = Code(.timeout)
        /// More redirects than allowed (502).
        public static let tooManyRedirects = Code(.tooManyRedirects)
        /// A redirect without a usable `Location` (502).
        public static let badRedirect = Code(.badRedirect)
        /// The client request is malformed (400).
        public static let badRequest = Code(.badRequest)

        /// `only-if-cached` and nothing usable is stored (504, RFC 9111 §5.2.1.7).
        public static let notCached = Code(.notCached)
        /// The request body exceeds the route's limit (413).
        public static let requestTooLarge = Code(.requestTooLarge)

        /// The target matches no allow rule or a deny rule of the filter (403).
        public static let filtered = Code(.filtered)
        /// Too many upstream fetches in flight (503).
        public static let busy = Code(.busy)
        /// Too many or too large request header fields (431).
        public static let headersTooLarge = Code(.headersTooLarge)
        /// The request target is too long (414).
        public static let uriTooLong = Code(.uriTooLong)

        /// The upstream's response failed the route's validation rules and no good entry was stored (502).
        public static let invalidResponse = Code(.invalidResponse)

        /// The stable text, e.g. `too-large`.
        public var description: String { backing.rawValue }
    }

    /// The reason.
    public let code: Code
    /// The HTTP status Moxy answers with.
    public let status: Int
    /// A one-line reason, sent as the `text/plain` body.
    public let message: String
    /// The status the upstream answered, for ``Code/upstreamStatus``.
    public var upstreamStatus: Int?
    /// For ``Code/addressRefused``, the refused address class (`loopback`, `private`, …).
    public var addressClass: String?

    /// Creates an error.
    /// - Parameters:
    ///   - code: The reason.
    ///   - status: The status to answer; defaults to the code's usual status.
    ///   - message: A one-line reason.
    public init(_ code: Code, status: Int? = nil, _ message: String) {
        self.code = code
        self.status = status ?? ProxyError.defaultStatus(code)
        self.message = message
    }

    /// A target refused because its address is in a class that is not allowed.
    static func addressRefused(_ refused: AddressClass) -> ProxyError {
        var error = ProxyError(.addressRefused, "target address is \(refused.rawValue), which is not allowed")
        error.addressClass = refused.rawValue
        return error
    }

    /// `code (status): message`.
    public var description: String { "\(code) (\(status)): \(message)" }

    static func defaultStatus(_ code: Code) -> Int {
        switch code.backing {
        case .notFound: 404
        case .methodNotAllowed: 405
        case .badSignature, .expired, .addressRefused, .filtered: 403
        case .busy: 503
        case .headersTooLarge: 431
        case .uriTooLong: 414
        case .invalidTarget, .badRequest: 400
        case .loopDetected: 508
        case .tooLarge, .requestTooLarge: 413
        case .contentType: 415
        case .upstreamStatus, .upstreamError, .connectFailed, .tooManyRedirects, .badRedirect, .invalidResponse: 502
        case .timeout, .notCached: 504
        }
    }
}
