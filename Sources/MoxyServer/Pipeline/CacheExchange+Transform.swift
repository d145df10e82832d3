// SPDX-License-Identifier: Apache-2.0

import Logging
import MoxyCache
import NIOCore

extension CacheExchange {
    /// Runs the route's ``BodyTransform`` on an answer about to be stored, and counts what it
    /// dropped, rewrote and skipped.
    /// - Returns: The outcome, or `nil` when the source has no transform.
    func transform(_ answer: UpstreamAnswer, body: ByteBuffer, request: CacheRequest) -> BodyTransform.Outcome? {
        guard let transform = request.source.transform else { return nil }
        let outcome = transform.apply(fields: answer.fields, body: body, upstreamTags: SurrogateKeys.parse(answer.fields))
        let route = request.source.name
        if outcome.droppedTags > 0 {
            metrics.count(
                "moxy_surrogate_keys_dropped_total", [("route", route)], by: Int64(outcome.droppedTags),
                help: "Tags left off stored entries: over the count or length bound, or not valid tag text.")
        }
        if outcome.rewrittenStrings > 0 {
            metrics.count(
                "moxy_json_rewritten_strings_total", [("route", route)], by: Int64(outcome.rewrittenStrings),
                help: "JSON strings whose image URLs were rewritten into signed Moxy URLs before storing.")
        }
        if let reason = outcome.skipped {
            metrics.count(
                "moxy_json_rewrite_skipped_total", [("route", route)],
                help: "Stored answers whose image URLs were left as they came (not JSON, encoded, no-transform).")
            logger.debug("image rewriting skipped", metadata: ["route": "\(route)", "url": "\(request.url)", "reason": "\(reason)"])
        }
        return outcome
    }
}
