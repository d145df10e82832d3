// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyServer
import MoxyTestSupport
import MoxyValidation
import Testing

/// A JSON response with the given fields.
func json(_ body: String, status: Int = 200, _ headers: [(String, String)] = [("Cache-Control", "max-age=1")]) -> OriginRoute {
    OriginRoute(status: status, headers: [("Content-Type", "application/json; charset=UTF-8")] + headers, body: Array(body.utf8))
}

/// The WordPress recipe's rules, built in code, with a short back-off so tests can wait it out.
func wordPressValidation(_ change: (inout ValidationConfiguration) -> Void = { _ in }) throws -> ValidationConfiguration {
    var validation = ValidationConfiguration(rules: [
        ValidationRule(name: "status", check: .status([200])),
        ValidationRule(name: "content_type", check: .contentType(["application/json"])),
        ValidationRule(name: "min_bytes", check: .minBytes(2)),
        ValidationRule(name: "json", check: .json),
        ValidationRule(name: "not-wp-error", check: .pointer(try JSONPointer("/code"), .absent)),
    ])
    // Long enough that a loaded CI machine still sends the next request inside it.
    validation.backoff = 1
    validation.maxBackoff = 2
    change(&validation)
    return validation
}

/// Whether a response is the last good entry served instead of an invalid upstream answer (stale,
/// so a negative `ttl`), saying why: the failing rule for a body sent with a success status,
/// `UPSTREAM-STATUS` for an error status.
func isLastGood(_ response: TestResponse, upstreamStatus: Int, rule: String? = nil) -> Bool {
    guard let value = response.header("cache-status") else { return false }
    let detail = upstreamStatus >= 400 ? "UPSTREAM-STATUS" : "INVALID-BODY:" + (rule ?? "")
    return value.hasPrefix("moxy; hit; fwd=stale; fwd-status=\(upstreamStatus); ttl=-")
        && (rule == nil && upstreamStatus < 400 ? value.contains("; detail=INVALID-BODY:") : value.hasSuffix("; detail=" + detail))
}

let goodJSON = #"{"id":1,"title":{"rendered":"Hello"}}"#
let wpError = #"{"code":"internal_server_error","message":"There has been a critical error.","data":{"status":500}}"#

@Suite struct ValidationFlowTests {
    @Test func theWordPressStory() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0) { $0.validation = try? wordPressValidation() }] }) { moxy in
            moxy.origin.route("/wp-json/wp/v2/posts/1", json(goodJSON))
            let first = try await moxy.request("/wp-json/wp/v2/posts/1")
            #expect(first.text == goodJSON && first.header("cache-status")?.contains("stored") == true)
            try await moxy.advance(seconds: 2.1)
            // The plugin breaks: errors arrive as 200 OK.
            moxy.origin.route("/wp-json/wp/v2/posts/1", json(wpError))
            let kept = try await moxy.request("/wp-json/wp/v2/posts/1")
            #expect(kept.status == 200 && kept.text == goodJSON)
            #expect(isLastGood(kept, upstreamStatus: 200, rule: "not-wp-error"))
            #expect(moxy.origin.count("/wp-json/wp/v2/posts/1") == 2)
            // Backing off: the good entry answers without asking the broken upstream again, and
            // says what the upstream last answered.
            let again = try await moxy.request("/wp-json/wp/v2/posts/1")
            #expect(again.text == goodJSON)
            #expect(again.header("cache-status")?.hasPrefix("moxy; hit; fwd-status=200; ttl=-") == true, "\(again.header("cache-status") ?? "")")
            #expect(again.header("cache-status")?.hasSuffix("; detail=INVALID-BODY:not-wp-error") == true)
            #expect(again.header("cache-status")?.contains("fwd=") == false)
            #expect(moxy.origin.count("/wp-json/wp/v2/posts/1") == 2)
            #expect(moxy.server.validationFailures[ValidationCount(source: "origin", rule: "not-wp-error")] == 1)
            // The site recovers: after the back-off, the new good body replaces the old.
            let fixed = #"{"id":1,"title":{"rendered":"Hello again"}}"#
            moxy.origin.route("/wp-json/wp/v2/posts/1", json(fixed, [("Cache-Control", "max-age=60")]))
            try await moxy.advance(seconds: 1.1)
            let recovered = try await moxy.request("/wp-json/wp/v2/posts/1")
            #expect(recovered.text == fixed)
            #expect(recovered.header("cache-status")?.contains("stored") == true)
            let hit = try await moxy.request("/wp-json/wp/v2/posts/1")
            #expect(hit.text == fixed && hitTTL(hit) != nil)
            #expect(moxy.origin.count("/wp-json/wp/v2/posts/1") == 3)
        }
    }

    struct BadAnswer: Sendable, CustomStringConvertible {
        var description: String
        var response: OriginRoute
        var rule: String
    }

    static let badAnswers: [BadAnswer] = [
        BadAnswer(description: "invalid JSON", response: json(#"{"id":1,"title":"#), rule: "json"),
        BadAnswer(
            description: "HTML error page with 200",
            response: OriginRoute(status: 200, headers: [("Content-Type", "text/html")], body: Array("<html><b>Fatal error</b></html>".utf8)),
            rule: "content_type"
        ),
        BadAnswer(description: "empty body", response: json(""), rule: "min_bytes"),
        BadAnswer(
            description: "wrong content type",
            response: OriginRoute(status: 200, headers: [("Content-Type", "text/plain")], body: Array(goodJSON.utf8)),
            rule: "content_type"
        ),
        BadAnswer(description: "a 503 maintenance page", response: json("{}", status: 503), rule: "status"),
        BadAnswer(description: "a WP_Error without freshness", response: json(wpError, [("Cache-Control", "no-store")]), rule: "not-wp-error"),
    ]

    @Test(arguments: badAnswers) func badAnswersNeverReplaceTheGoodEntry(_ bad: BadAnswer) async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0) { $0.validation = try? wordPressValidation() }] }) { moxy in
            moxy.origin.route("/api", json(goodJSON))
            _ = try await moxy.request("/api")
            try await moxy.advance(seconds: 2.1)
            moxy.origin.route("/api", bad.response)
            let kept = try await moxy.request("/api")
            #expect(kept.status == 200 && kept.text == goodJSON)
            #expect(kept.header("cache-status")?.contains("hit; fwd=stale") == true)
            let detail = bad.response.status >= 400 ? "UPSTREAM-STATUS" : "INVALID-BODY:" + bad.rule
            #expect(kept.header("cache-status")?.hasSuffix("detail=" + detail) == true, "\(kept.header("cache-status") ?? "")")
            #expect(moxy.origin.count("/api") == 2)
            #expect(moxy.server.validationFailures[ValidationCount(source: "origin", rule: bad.rule)] == 1)
            // What is stored is still the good entry: read again (during the back-off, from the
            // store), a stored bad body would answer here as a hit.
            let again = try await moxy.request("/api")
            #expect(again.status == 200 && again.text == goodJSON, "\(again.header("cache-status") ?? "")")
        }
    }

    @Test func staleIfErrorStillAnswersA500AndTheStatusRuleKeepsTheEntryPastIt() async throws {
        var cache = CacheOverrides()
        cache.staleIfError = 60
        try await MoxyHarness.run(routes: { origin in
            [
                // No status rule: a 500 is an origin failure, handled by stale-if-error.
                try originRoute(origin, prefix: "/sie", cache: cache) {
                    $0.name = "sie"
                    $0.validation = ValidationConfiguration(rules: [ValidationRule(name: "json", check: .json)])
                },
                // A status rule: the 500 fails validation, so the last good entry answers without any stale-if-error.
                try originRoute(origin, prefix: "/rule") {
                    $0.name = "rule"
                    $0.validation = try? wordPressValidation()
                },
            ]
        }) { moxy in
            moxy.origin.route("/sie/a", json(goodJSON))
            moxy.origin.route("/rule/a", json(goodJSON))
            _ = try await moxy.request("/sie/a")
            _ = try await moxy.request("/rule/a")
            try await moxy.advance(seconds: 2.1)
            moxy.origin.route("/sie/a", json("{}", status: 500))
            moxy.origin.route("/rule/a", json("{}", status: 500))
            let sie = try await moxy.request("/sie/a")
            #expect(sie.text == goodJSON && sie.header("cache-status")?.hasSuffix("detail=stale-if-error") == true)
            let rule = try await moxy.request("/rule/a")
            #expect(rule.text == goodJSON)
            #expect(isLastGood(rule, upstreamStatus: 500))
        }
    }

    @Test func aBackgroundRefreshWithAnInvalidBodyKeepsTheEntryAndBacksOff() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0) { $0.validation = try? wordPressValidation() }] }) { moxy in
            moxy.origin.route("/swr", json(goodJSON, [("Cache-Control", "max-age=1, stale-while-revalidate=60")]))
            _ = try await moxy.request("/swr")
            try await moxy.advance(seconds: 2.1)
            moxy.origin.route("/swr", json(wpError, [("Cache-Control", "max-age=60")]))
            let stale = try await moxy.request("/swr")
            #expect(stale.text == goodJSON && stale.header("cache-status")?.contains("stale-while-revalidate") == true)
            try await waitUntil { moxy.server.validationFailures[ValidationCount(source: "origin", rule: "not-wp-error")] == 1 }
            let kept = try await moxy.request("/swr")
            #expect(kept.text == goodJSON)
            #expect(kept.header("cache-status")?.hasSuffix("detail=INVALID-BODY:not-wp-error") == true)
            #expect(moxy.origin.count("/swr") == 2)
        }
    }

    @Test func withoutAGoodEntryOnInvalidPassesOrAnswers502() async throws {
        try await MoxyHarness.run(routes: { origin in
            [
                try originRoute(origin, prefix: "/pass") {
                    $0.name = "pass"
                    $0.validation = try? wordPressValidation()
                },
                try originRoute(origin, prefix: "/error") {
                    $0.name = "error"
                    $0.validation = try? wordPressValidation { $0.onInvalid = .error }
                },
            ]
        }) { moxy in
            moxy.origin.route("/pass/a", json(wpError, [("Cache-Control", "max-age=60")]))
            moxy.origin.route("/error/a", json(wpError, [("Cache-Control", "max-age=60")]))
            let passed = try await moxy.request("/pass/a")
            #expect(passed.status == 200 && passed.text == wpError)
            #expect(passed.header("cache-status") == "moxy; fwd=uri-miss; fwd-status=200; detail=INVALID-BODY:not-wp-error")
            _ = try await moxy.request("/pass/a")
            #expect(moxy.origin.count("/pass/a") == 2)  // never stored
            let failed = try await moxy.request("/error/a")
            #expect(failed.status == 502)
            #expect(failed.text == "upstream response failed validation (not-wp-error)\n")
            #expect(failed.header("cache-status") == "moxy; fwd=uri-miss; fwd-status=200; detail=INVALID-BODY:not-wp-error")
        }
    }

    @Test func theLastGoodEntryIsKeptOnlyForItsWindow() async throws {
        try await MoxyHarness.run(routes: { origin in
            [
                try originRoute(origin) {
                    $0.validation = try? wordPressValidation {
                        $0.keepLastGood = 1
                        $0.onInvalid = .error
                    }
                }
            ]
        }) { moxy in
            moxy.origin.route("/w", json(goodJSON))
            _ = try await moxy.request("/w")
            try await moxy.advance(seconds: 3.1)
            moxy.origin.route("/w", json(wpError))
            let response = try await moxy.request("/w")
            #expect(response.status == 502)
        }
    }

    @Test func bodiesAboveTheValidationLimitFailOrPassAsConfigured() async throws {
        let big = "[" + Array(repeating: "1", count: 200).joined(separator: ",") + "]"
        try await MoxyHarness.run(routes: { origin in
            [
                try originRoute(origin, prefix: "/fail") {
                    $0.name = "fail"
                    $0.validation = try? wordPressValidation {
                        $0.validateMaxBytes = 100
                        $0.onInvalid = .error
                    }
                },
                try originRoute(origin, prefix: "/pass") {
                    $0.name = "pass"
                    $0.validation = try? wordPressValidation {
                        $0.validateMaxBytes = 100
                        $0.passTooLarge = true
                    }
                },
                // Rules that need no body never make a body too large.
                try originRoute(origin, prefix: "/head") {
                    $0.name = "head"
                    var validation = ValidationConfiguration(rules: [ValidationRule(name: "status", check: .status([200]))])
                    validation.validateMaxBytes = 100
                    $0.validation = validation
                },
            ]
        }) { moxy in
            moxy.origin.route("/fail/big", json(big, [("Cache-Control", "max-age=60")]))
            moxy.origin.route("/pass/big", OriginRoute(headers: [("Content-Type", "application/json"), ("Cache-Control", "max-age=60")], body: Array(big.utf8), chunks: 4))
            let failed = try await moxy.request("/fail/big")
            #expect(failed.status == 502 && failed.text.contains("too_large"))
            #expect(moxy.server.validationFailures[ValidationCount(source: "fail", rule: "too_large")] == 1)
            let passed = try await moxy.request("/pass/big")
            #expect(passed.status == 200 && passed.text == big)
            #expect(passed.header("cache-status")?.contains("stored") == true)
            let hit = try await moxy.request("/pass/big")
            #expect(hit.text == big && hitTTL(hit) != nil)
            moxy.origin.route("/head/big", json(big, [("Cache-Control", "max-age=60")]))
            let headOnly = try await moxy.request("/head/big")
            #expect(headOnly.text == big && headOnly.header("cache-status")?.contains("stored") == true)
        }
    }

    @Test func signedURLsAreValidatedWithTheirOwnRules() async throws {
        try await MoxyHarness.run(configure: {
            $0.upstream.contentTypes = ["application/json"]
            $0.signedValidation = ValidationConfiguration(rules: [
                ValidationRule(name: "has-id", check: .pointer(try! JSONPointer("/id"), .exists))
            ])
        }) { moxy in
            moxy.origin.route("/data.json", json(goodJSON))
            let path = try moxy.path("/data.json")
            _ = try await moxy.request(path)
            try await moxy.advance(seconds: 2.1)
            moxy.origin.route("/data.json", json(#"{"error":"quota"}"#))
            let kept = try await moxy.request(path)
            #expect(kept.status == 200 && kept.text == goodJSON)
            #expect(isLastGood(kept, upstreamStatus: 200, rule: "has-id"))
            #expect(moxy.server.validationFailures[ValidationCount(source: "signed", rule: "has-id")] == 1)
        }
    }

    @Test func anUnreachableUpstreamKeepsTheLastGoodEntryAndSaysSo() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0) { $0.validation = try? wordPressValidation() }] }) { moxy in
            moxy.origin.route("/down", json(goodJSON))
            _ = try await moxy.request("/down")
            try await moxy.advance(seconds: 2.1)
            // The site goes down: every connection closes before an answer (the retry on a new
            // connection too).
            moxy.origin.closeEveryConnection()
            let kept = try await moxy.request("/down")
            #expect(kept.status == 200 && kept.text == goodJSON)
            #expect(kept.header("cache-status")?.hasPrefix("moxy; hit; fwd=stale; ttl=-") == true)
            #expect(kept.header("cache-status")?.hasSuffix("; detail=UPSTREAM-ERROR:upstream-error") == true, "\(kept.header("cache-status") ?? "")")
            // Backing off: the same answer and reason without trying the upstream again.
            let connectionsSeen = moxy.origin.connections
            let again = try await moxy.request("/down")
            #expect(again.text == goodJSON && again.header("cache-status")?.hasSuffix("; detail=UPSTREAM-ERROR:upstream-error") == true)
            #expect(moxy.origin.connections == connectionsSeen)
        }
    }
}
