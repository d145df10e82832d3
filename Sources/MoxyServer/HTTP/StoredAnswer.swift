// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import NIOHTTP1

/// How a stored response answers a request's conditionals and `Range` (RFC 9110 §13, §14), the
/// same whether its body is in memory or read from disk as it is sent. Pure.
enum StoredAnswer: Equatable {
    /// The whole response.
    case whole
    /// `304 Not Modified`.
    case notModified
    /// `206` with bytes `first...last` of `length`.
    case partial(first: Int, last: Int, length: Int)
    /// `416`: the range is outside the `length` bytes.
    case unsatisfiable(length: Int)

    /// The answer to `request` from `response`, whose body has `length` bytes (`nil` while not
    /// known yet: then a range is not answered, and the whole body goes).
    static func decide(_ response: CachedResponse, length: Int?, for request: ClientRequest) -> StoredAnswer {
        guard response.status == 200, !request.flags.isDisjoint(with: [.conditional, .range]) else { return .whole }
        if request.flags.contains(.conditional),
            Validators.notModified(requestHeaders: request.fields, etag: response.etag, lastModified: response.lastModified)
        {
            return .notModified
        }
        guard let length, request.flags.contains(.range), request.method == .GET,
            Validators.ifRangeHolds(
                request.headers.first(name: "if-range"), etag: response.etag, lastModified: response.lastModified, date: response.responseTime)
        else { return .whole }
        switch ByteRange.parse(request.headers.first(name: "range"), length: length) {
        case .satisfiable(let first, let last): return .partial(first: first, last: last, length: length)
        case .unsatisfiable: return .unsatisfiable(length: length)
        case .ignored: return .whole
        }
    }
}
