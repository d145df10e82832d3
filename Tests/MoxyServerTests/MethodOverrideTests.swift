// SPDX-License-Identifier: Apache-2.0

import MoxyServer
import MoxyTestSupport
import NIOHTTP1
import Testing

@testable import MoxyServer

/// A route's answer to a `GET` that carries a method-override field (issue 21: WordPress before
/// 6.3.2 answers `X-HTTP-Method-Override: HEAD` with an empty `200`, which was stored under the
/// `GET`'s key and served to everyone).
@Suite struct MethodOverrideTests {
    /// An origin that behaves as such a framework: the override's method decides the answer.
    static func wordpressLike(_ request: OriginRequest) -> OriginRoute {
        let named = ["x-http-method-override", "x-http-method", "x-method-override"].compactMap { request.headers.first(name: $0) }.first
        switch named?.uppercased() {
        case "HEAD": return text("", [("Cache-Control", "max-age=60")])
        case "DELETE": return text("deleted", [("Cache-Control", "max-age=60")])
        default: return text("the page", [("Cache-Control", "max-age=60")])
        }
    }

    @Test func anOverriddenGetIsNeitherServedFromNorStoredInTheCache() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.respond("/p", Self.wordpressLike)
            for name in ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"] {
                let poisoned = try await moxy.request("/p", headers: [(name, "HEAD")])
                #expect(poisoned.status == 200 && poisoned.body.isEmpty)
                #expect(poisoned.header("cache-status") == "moxy; fwd=bypass; fwd-status=200; detail=method-override")
                let plain = try await moxy.request("/p")
                #expect(plain.text == "the page", "after \(name)")
            }
            // The plain GET was stored by the first plain request; an override is not answered from it.
            #expect(moxy.origin.count("/p") == 4)
            let again = try await moxy.request("/p", headers: [("x-http-method-override", "HEAD")])
            #expect(again.body.isEmpty)
            #expect(moxy.origin.count("/p") == 5)
            let stored = try await moxy.request("/p")
            #expect(stored.text == "the page" && stored.header("cache-status")?.contains("hit") == true)
            #expect(moxy.origin.requests("/p").last?.headers.first(name: "x-http-method-override") == "HEAD")
            // A HEAD with an override passes through as a HEAD.
            let head = try await moxy.request("/p", method: .HEAD, headers: [("X-HTTP-Method-Override", "GET")])
            #expect(head.status == 200 && head.body.isEmpty)
            #expect(head.header("cache-status") == "moxy; fwd=bypass; fwd-status=200; detail=method-override")
            #expect(moxy.origin.requests("/p").last?.method == .HEAD)
        }
    }

    @Test func anOverrideNamingAnUnsafeMethodInvalidatesLikeIt() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.respond("/p", Self.wordpressLike)
            _ = try await moxy.request("/p")
            #expect(try await moxy.request("/p").header("cache-status")?.contains("hit") == true)
            // A safe method named (HEAD) leaves the entry alone.
            _ = try await moxy.request("/p", headers: [("X-HTTP-Method-Override", "HEAD")])
            #expect(try await moxy.request("/p").header("cache-status")?.contains("hit") == true)
            #expect(moxy.origin.count("/p") == 2)
            let deleted = try await moxy.request("/p", headers: [("X-HTTP-Method-Override", "delete")])
            #expect(deleted.text == "deleted")
            let after = try await moxy.request("/p")
            #expect(after.text == "the page")
            #expect(after.header("cache-status") == "moxy; fwd=uri-miss; fwd-status=200; stored")
            #expect(moxy.origin.count("/p") == 4)
        }
    }

    @Test func stripRemovesTheFieldsAndCachesAsAPlainGet() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0) { $0.methodOverride = .strip }] }) { moxy in
            moxy.origin.respond("/p", Self.wordpressLike)
            let first = try await moxy.request("/p", headers: [("X-HTTP-Method-Override", "HEAD"), ("X-Method-Override", "DELETE")])
            #expect(first.text == "the page")
            #expect(first.header("cache-status") == "moxy; fwd=uri-miss; fwd-status=200; stored")
            let seen = try #require(moxy.origin.headers("/p"))
            #expect(!seen.contains(name: "x-http-method-override") && !seen.contains(name: "x-method-override"))
            let second = try await moxy.request("/p", headers: [("X-HTTP-Method", "HEAD")])
            #expect(second.text == "the page" && second.header("cache-status")?.contains("hit") == true)
            #expect(moxy.origin.count("/p") == 1)
        }
    }

    @Test func thePlanReadsEveryFieldAndTheFirstUnsafeMethod() {
        let bypass = MethodOverride.bypass
        #expect(bypass.plan([("Accept", "*/*")]) == .cache)
        #expect(bypass.plan([("X-HTTP-Method-Override", "HEAD")]) == .bypass(invalidatingAs: nil))
        #expect(bypass.plan([("x-http-method", "")]) == .bypass(invalidatingAs: nil))
        #expect(bypass.plan([("X-Method-Override", "get, Put")]) == .bypass(invalidatingAs: .PUT))
        #expect(bypass.plan([("X-HTTP-Method", "OPTIONS"), ("X-HTTP-Method-Override", "PATCH")]) == .bypass(invalidatingAs: .PATCH))
        #expect(bypass.plan([("X-HTTP-Method-Override", "PURGE")]) == .bypass(invalidatingAs: .RAW(value: "PURGE")))
        #expect(MethodOverride.strip.plan([("X-HTTP-Method-Override", "DELETE")]) == .strip)
        #expect(MethodOverride.stripped([("X-HTTP-Method", "DELETE"), ("Accept", "a")]).map(\.name) == ["Accept"])
    }
}
