// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyHTTP
import MoxyValidation
import NIOCore

extension ExchangeMachine {
    /// What a `HEAD` answer from the upstream does to the stored `GET` response (RFC 9111 §4.3.5).
    enum HeadOutcome: Equatable {
        /// The validators match: merge the answer's fields into the stored response and freshen it.
        case freshen
        /// A `200` for another representation: the stored response is stale from now on.
        case markStale
        /// The upstream failed and the stored response may answer (stale-if-error).
        case serveStale
        /// Pass the answer on; the stored response stays as it is.
        case pass
    }

    /// Decides what a `HEAD` answer does, as a pure function of the stored entry and the answer.
    /// - Parameters:
    ///   - entry: The stored `GET` response this request would have been answered with, if any.
    ///   - status: The answer's status.
    ///   - fields: The answer's fields.
    ///   - validation: The source's rules: an answer whose status or fields fail them changes nothing.
    ///   - now: Unix seconds.
    static func head(
        entry: CachedResponse?,
        status: Int,
        fields: [(name: String, value: String)],
        validation: ValidationConfiguration?,
        now: Int64
    ) -> HeadOutcome {
        guard let entry, entry.variantGeneration == nil else { return .pass }
        if status >= 500 { return ReusePolicy.canServeOnError(entry.freshness, age: entry.age(at: now)) ? .serveStale : .pass }
        guard status == 200, entry.status == 200 else { return .pass }
        if let validation, validation.validateHead(status: status, headers: fields) != nil { return .pass }
        return validatorsMatch(entry, fields) ? .freshen : .markStale
    }

    /// Whether a `HEAD` answer describes the stored representation: every validator either has
    /// (`ETag`, `Last-Modified`) is present in both and equal; with no validator on either side, an
    /// announced `Content-Length` must equal the stored body's.
    static func validatorsMatch(_ entry: CachedResponse, _ fields: [(name: String, value: String)]) -> Bool {
        let etag = fields.first(named: "etag")
        let modified = fields.first(named: "last-modified").flatMap { HTTPDate.parse($0) }
        if etag != nil || entry.etag != nil {
            guard let etag, let stored = entry.etag, etag == stored else { return false }
        }
        if modified != nil || entry.lastModified != nil {
            guard modified == entry.lastModified else { return false }
        }
        if etag == nil, modified == nil, let length = fields.first(named: "content-length").flatMap({ Int($0.trimmingSpaces) }) {
            return length == entry.body.readableBytes
        }
        return true
    }

    /// The stored response made stale as of now (its windows for stale-if-error and the last good
    /// answer unchanged): the next `GET` validates it.
    static func expired(_ entry: CachedResponse, now: Int64) -> CachedResponse {
        var freshness = entry.freshness
        freshness.lifetime = min(freshness.lifetime, entry.age(at: now))
        let encoded = entry.encoded.map { $0.with(fields: $0.fields, freshness: freshness, varyNames: $0.varyNames, encoded: []) }
        return entry.with(fields: entry.fields, freshness: freshness, varyNames: entry.varyNames, encoded: encoded)
    }
}
