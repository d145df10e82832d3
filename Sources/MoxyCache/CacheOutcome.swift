// SPDX-License-Identifier: Apache-2.0

/// What the cache did for one request, typed where it happens and turned into `Cache-Status` text
/// once, by ``CacheStatus/value(cacheName:)`` at the writer; metrics and the access log switch
/// over it instead of reading the text back.
public enum CacheOutcome: Sendable, Hashable {
    /// A fresh stored response answered, found in this tier.
    case hit(CacheTierKind)
    /// A stale stored response answered, as the request or the response allowed.
    case stale(StaleReason)
    /// The last good stored response stood in for an upstream answer that failed or broke a rule.
    case lastGood(LastGoodReason)
    /// Went forward, and the answer was stored (or is being streamed into the disk tier).
    case stored(StoredNote?)
    /// Went forward, and the answer was not stored; why, when there is something to say.
    case notStored(NotStored?)
    /// Answered by Moxy without a cache lookup: a refusal, an error before the cache, a service path.
    case answered(String)

    /// Whether a stored response answered (fresh, stale or last good): `Cache-Status`'s `hit`.
    @inlinable
    public var isHit: Bool {
        switch self {
        case .hit, .stale, .lastGood: true
        case .stored, .notStored, .answered: false
        }
    }

    /// Whether the answer was stored: `Cache-Status`'s `stored`.
    @inlinable
    public var isStored: Bool {
        if case .stored = self { return true }
        return false
    }

    /// The `detail` parameter's value (a token or a quoted string), if any.
    public var detail: String? {
        switch self {
        case .hit(let tier): tier.detail
        case .stale(let reason): reason.rawValue
        case .lastGood(let reason): reason.detail
        case .stored(let note): note?.rawValue
        case .notStored(let reason): reason?.detail
        case .answered(let code): code
        }
    }
}

/// The tier a hit came from.
public enum CacheTierKind: String, Sendable, Hashable {
    /// The memory tier (no `detail`).
    case memory
    /// The disk tier (`detail=disk`): read from a file, or a large file already open.
    case disk
    /// The shared tier (`detail=shared`): read from the store several nodes share (Redis).
    case shared

    var detail: String? { self == .memory ? nil : rawValue }
}

/// Why a stale response answered.
public enum StaleReason: String, Sendable, Hashable {
    /// The request's `max-stale` accepted it.
    case maxStale = "max-stale"
    /// `stale-while-revalidate`: answered while a refresh runs in the background.
    case whileRevalidate = "stale-while-revalidate"
    /// `stale-if-error`: the upstream failed.
    case ifError = "stale-if-error"
}

/// Why the last good response stood in, as `Cache-Status` says it, so that an operator tells
/// "site down" from "bad body sent as 200" without reading the log.
public enum LastGoodReason: Sendable, Hashable {
    /// The upstream answered an error status (`UPSTREAM-STATUS`).
    case upstreamStatus
    /// The upstream's answer broke this rule (`INVALID-BODY:RULE`).
    case invalidBody(rule: String)
    /// The upstream could not be reached or failed with this error code (`UPSTREAM-ERROR:CODE`).
    case upstreamError(code: String)

    /// The `detail` value: a structured-field token when the text is one, else a quoted string.
    public var detail: String {
        switch self {
        case .upstreamStatus: "UPSTREAM-STATUS"
        case .invalidBody(let rule): Self.serialised("INVALID-BODY:" + rule)
        case .upstreamError(let code): Self.serialised("UPSTREAM-ERROR:" + code)
        }
    }

    /// A structured-field token when the text is one (RFC 8941 §3.3.4), else a quoted string.
    static func serialised(_ text: String) -> String {
        let isToken = text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
            default: "!#$%&'*+-.^_`|~:/".utf8.contains(byte)
            }
        }
        if isToken { return text }
        var quoted = "\""
        for scalar in text.unicodeScalars where scalar.isASCII && scalar.value >= 0x20 && scalar.value < 0x7f {
            if scalar == "\"" || scalar == "\\" { quoted.append("\\") }
            quoted.unicodeScalars.append(scalar)
        }
        return quoted + "\""
    }
}

/// Something to say about an answer that was stored.
public enum StoredNote: String, Sendable, Hashable {
    /// The body is being written to the disk tier as it arrives.
    case streamed
    /// The key was hit-for-miss (so not coalesced), and this answer could be stored after all.
    case hitForMiss = "hit-for-miss"
}

/// Why an answer that went forward was not stored.
public enum NotStored: Sendable, Hashable {
    /// The storage rules refused it (RFC 9111 §3).
    case policy(StoragePolicy.Refusal)
    /// A server error, which never replaces the stored response (kept for the next attempt).
    case keptStored
    /// Larger than the tiers take.
    case tooLarge
    /// Larger than the memory tier takes, with no disk tier.
    case tooLargeForMemory
    /// A purge since the fetch started selects it.
    case purged
    /// The disk tier could not start the download.
    case notStored
    /// The upstream's body ended before its `Content-Length`.
    case incomplete
    /// A `HEAD` whose answer differs from the stored `GET` response, which is marked stale.
    case headChanged
    /// The key is hit-for-miss: not coalesced, not stored.
    case hitForMiss
    /// The request carried a method-override field (never answered from or stored in the cache).
    case methodOverride
    /// The answer broke a rule and no last good entry could stand in.
    case invalid(LastGoodReason)
    /// The exchange failed with this error code.
    case error(String)

    /// The `detail` value.
    public var detail: String {
        switch self {
        case .policy(let refusal): refusal.rawValue
        case .keptStored: "kept-stored"
        case .tooLarge: "too-large"
        case .tooLargeForMemory: "too-large-for-memory"
        case .purged: "purged"
        case .notStored: "not-stored"
        case .incomplete: "incomplete"
        case .headChanged: "head-changed"
        case .hitForMiss: "hit-for-miss"
        case .methodOverride: "method-override"
        case .invalid(let reason): reason.detail
        case .error(let code): code
        }
    }
}
