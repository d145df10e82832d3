// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP

/// What a purge removes (or marks stale): entries by store key, by key prefix, by surrogate key,
/// or everything.
public enum PurgeSelector: Sendable, Hashable {
    /// These primary keys and all their `Vary` variants.
    case keys([String])
    /// Every key starting with one of these prefixes.
    case prefixes([String])
    /// Every entry carrying this surrogate key (`Surrogate-Key`, `xkey`, `Cache-Tag`).
    case tag(String)
    /// Everything.
    case all

    /// Whether an entry with this store key (``StoreKey/encoded``) and these surrogate keys is
    /// selected. Pure. A variant is selected with its primary key.
    public func matches(key: String, tags: @autoclosure () -> [String]) -> Bool {
        switch self {
        case .all: return true
        case .keys(let keys):
            let primary = StoreKey(encoded: key).primary
            return keys.contains(primary)
        case .prefixes(let prefixes):
            let primary = StoreKey(encoded: key).primary
            return prefixes.contains { primary.hasPrefix($0) }
        case .tag(let tag): return tags().contains(tag)
        }
    }
}

/// One purge as the purge log keeps it: what it selected, whether it was soft, and when.
public struct PurgeRecord: Sendable, Hashable {
    /// What it selected.
    public var selector: PurgeSelector
    /// Soft: entries become stale (still usable as last good and for `stale-if-error`); hard: removed.
    public var soft: Bool
    /// Unix seconds when it was made; it applies to entries whose response arrived at or before.
    public var time: Int64

    /// Creates a record.
    public init(selector: PurgeSelector, soft: Bool, time: Int64) {
        self.selector = selector
        self.soft = soft
        self.time = time
    }

    /// What this purge does to an entry (its response time, store key and surrogate keys): nil
    /// when it does not apply. Pure.
    public func verdict(responseTime: Int64, key: String, tags: @autoclosure () -> [String]) -> Verdict? {
        guard responseTime <= time, selector.matches(key: key, tags: tags()) else { return nil }
        return soft ? .stale(since: time) : .remove
    }

    /// What a purge does to one entry.
    public enum Verdict: Sendable, Hashable {
        /// Delete it.
        case remove
        /// Serve it only as stale from this moment.
        case stale(since: Int64)
    }

    /// The record as one line of the log: `TIME hard|soft KIND VALUE…` (values percent-encoded).
    public var line: String {
        let kind: String
        let values: [String]
        switch selector {
        case .all: (kind, values) = ("all", [])
        case .keys(let keys): (kind, values) = ("keys", keys)
        case .prefixes(let prefixes): (kind, values) = ("prefixes", prefixes)
        case .tag(let tag): (kind, values) = ("tag", [tag])
        }
        return ([String(time), soft ? "soft" : "hard", kind] + values.map({ PercentEncoding.encode($0, keeping: "/:") })).joined(separator: " ")
    }

    /// A record from its line, or nil for a line that is not one (a torn last line after a crash).
    public init?(line: Substring) {
        let parts = line.split(separator: " ")
        guard parts.count >= 3, let time = Int64(parts[0]), parts[1] == "soft" || parts[1] == "hard" else { return nil }
        let values = parts.dropFirst(3).map { PercentEncoding.decode($0) }
        switch parts[2] {
        case "all": selector = .all
        case "keys" where !values.isEmpty: selector = .keys(values)
        case "prefixes" where !values.isEmpty: selector = .prefixes(values)
        case "tag" where values.count == 1: selector = .tag(values[0])
        default: return nil
        }
        self.time = time
        self.soft = parts[1] == "soft"
    }
}
