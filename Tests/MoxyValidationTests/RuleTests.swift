// SPDX-License-Identifier: Apache-2.0

import MoxyValidation
import NIOCore
import Testing

/// Validates one response against one rule; returns the failure reason or `nil`.
func check(
    _ check: ValidationRule.Check,
    body: String? = "{}",
    status: Int = 200,
    headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
) -> String? {
    let validation = ValidationConfiguration(rules: [ValidationRule(name: "r", check: check)])
    return validation.validate(status: status, headers: headers, body: body.map { ByteBuffer(string: $0) })?.reason
}

let wpErrorBody = #"{"code":"rest_no_route","message":"No route","data":{"status":404}}"#
let post = #"{"id":7,"title":"Hi","tags":[1,2,3],"score":4.5,"draft":false,"parent":null,"slug":"hello-world"}"#

@Suite struct RuleTests {
    @Test func statusContentTypeAndSize() {
        #expect(check(.status([200, 404])) == nil)
        #expect(check(.status([200]), status: 500) == "status 500 is not allowed")
        #expect(check(.contentType(["application/json"]), headers: [("content-type", "Application/JSON; charset=utf-8")]) == nil)
        #expect(check(.contentType(["application/*"]), headers: [("Content-Type", "application/ld+json")]) == nil)
        #expect(check(.contentType(["*/*"]), headers: [("Content-Type", "text/html")]) == nil)
        #expect(check(.contentType(["application/json"]), headers: [("Content-Type", "text/html")]) != nil)
        #expect(check(.contentType(["application/json"]), headers: []) == "no Content-Type")
        #expect(check(.minBytes(2), body: "") == "body has 0 bytes, fewer than 2")
        #expect(check(.minBytes(2), body: "[]") == nil)
        #expect(check(.maxBytes(3), body: "[1,2]") == "body has 5 bytes, more than 3")
        #expect(check(.maxBytes(5), body: "[1,2]") == nil)
    }

    @Test func headerPredicates() throws {
        let headers: [(name: String, value: String)] = [("Content-Type", "application/json"), ("X-WP-Total", " 12 "), ("Link", "<a>"), ("Link", "<b>")]
        #expect(check(.header("x-wp-total", .present), headers: headers) == nil)
        #expect(check(.header("x-wp-missing", .present), headers: headers) == "x-wp-missing is missing")
        #expect(check(.header("x-wp-missing", .absent), headers: headers) == nil)
        #expect(check(.header("x-wp-total", .absent), headers: headers) == "x-wp-total is present")
        #expect(check(.header("x-wp-total", .equals("12")), headers: headers) == nil)
        #expect(check(.header("x-wp-total", .equals("13")), headers: headers) != nil)
        #expect(check(.header("link", .matches(try Pattern("<b>"))), headers: headers) == nil)
        #expect(check(.header("link", .matches(try Pattern("^<c>$"))), headers: headers) != nil)
    }

    @Test func jsonAndEveryPointerPredicate() throws {
        #expect(check(.json, body: post) == nil)
        #expect(check(.json, body: "<html>")?.hasPrefix("body is not JSON") == true)
        func pointer(_ path: String, _ predicate: ValidationRule.JSONPredicate, _ body: String = post) throws -> String? {
            check(.pointer(try JSONPointer(path), predicate), body: body)
        }
        #expect(try pointer("/id", .exists) == nil)
        #expect(try pointer("/nope", .exists) == "'/nope' is missing")
        #expect(try pointer("/code", .absent) == nil)
        #expect(try pointer("/code", .absent, wpErrorBody) == "'/code' is present (\"rest_no_route\")")
        #expect(try pointer("/parent", .exists) == nil)  // null exists
        #expect(try pointer("/id", .equals(.number(7))) == nil)
        #expect(try pointer("/id", .equals(.string("7"))) != nil)
        #expect(try pointer("/tags", .equals(.array([.number(1), .number(2), .number(3)]))) == nil)
        #expect(try pointer("/draft", .notEquals(.bool(true))) == nil)
        #expect(try pointer("/missing", .notEquals(.bool(true))) == nil)
        #expect(try pointer("/data/status", .notEquals(.number(404)), wpErrorBody) == "'/data/status' is 404")
        #expect(try pointer("/slug", .oneOf([.string("a"), .string("hello-world")])) == nil)
        #expect(try pointer("/slug", .oneOf([.string("a")])) != nil)
        #expect(try pointer("/score", .lessThan(5)) == nil)
        #expect(try pointer("/score", .lessThan(4.5)) != nil)
        #expect(try pointer("/score", .atMost(4.5)) == nil)
        #expect(try pointer("/score", .greaterThan(4.5)) != nil)
        #expect(try pointer("/score", .atLeast(4.5)) == nil)
        #expect(try pointer("/slug", .atLeast(1)) == "'/slug' is \"hello-world\", not a number")
        #expect(try pointer("/slug", .matches(try Pattern("^hello-"))) == nil)
        #expect(try pointer("/slug", .matches(try Pattern("^bye"))) != nil)
        #expect(try pointer("/id", .matches(try Pattern("7"))) != nil)  // not a string
        for (path, kind) in [("", JSONValue.Kind.object), ("/tags", .array), ("/slug", .string), ("/id", .number), ("/draft", .bool), ("/parent", .null)] {
            #expect(try pointer(path, .type(kind)) == nil, "\(path)")
            #expect(try pointer(path, .type(kind == .null ? .object : .null)) != nil, "\(path)")
        }
        #expect(try pointer("/tags", .minItems(3)) == nil)
        #expect(try pointer("/tags", .minItems(4)) == "'/tags' has 3 items, fewer than 4")
        #expect(try pointer("", .minItems(0), "[]") == nil)
        #expect(try pointer("/id", .exists, "not json")?.hasPrefix("body is not JSON") == true)
    }

    @Test func combinators() throws {
        let isWPError = ValidationRule(
            name: "wp-error",
            check: .all([
                ValidationRule(name: "code", check: .pointer(try JSONPointer("/code"), .type(.string))),
                ValidationRule(name: "message", check: .pointer(try JSONPointer("/message"), .type(.string))),
            ])
        )
        #expect(check(.not(isWPError), body: post) == nil)
        #expect(check(.not(isWPError), body: wpErrorBody) == "matched wp-error")
        let listOrItem = ValidationRule.Check.any([
            ValidationRule(name: "list", check: .pointer(try JSONPointer(""), .type(.array))),
            ValidationRule(name: "item", check: .pointer(try JSONPointer("/id"), .exists)),
        ])
        #expect(check(listOrItem, body: "[1]") == nil)
        #expect(check(listOrItem, body: post) == nil)
        #expect(check(listOrItem, body: #"{"x":1}"#)?.hasPrefix("none passed") == true)
        #expect(check(.all([]), body: "") == nil)
    }

    @Test func bodyDenials() throws {
        let php = "<br />\n<b>Fatal error</b>:  Uncaught Error in <b>/var/www/wp.php</b> on line <b>3</b>"
        #expect(check(.bodyDenies(Array("<b>Fatal error</b>".utf8)), body: php) == "body contains '<b>Fatal error</b>'")
        #expect(check(.bodyDenies(Array("<b>Fatal error</b>".utf8)), body: post) == nil)
        #expect(check(.bodyDeniesPattern(try Pattern(#"on line <b>\d+</b>"#)), body: php) != nil)
        #expect(check(.bodyDeniesPattern(try Pattern(#"(?i)database error"#)), body: "<h1>Database Error</h1>") != nil)
        #expect(check(.bodyDeniesPattern(try Pattern(#"(?i)database error"#)), body: post) == nil)
        #expect(throws: (any Error).self) { try Pattern("(unclosed") }
        // The byte scan: overlapping starts, the very end, a needle longer than the body.
        #expect(check(.bodyDenies(Array("aab".utf8)), body: "aaab") != nil)
        #expect(check(.bodyDenies(Array("end".utf8)), body: "the end") != nil)
        #expect(check(.bodyDenies(Array("ends".utf8)), body: "the end") == nil)
        #expect(check(.bodyDenies(Array("longer than it".utf8)), body: "short") == nil)
        #expect(check(.bodyDenies(Array("é".utf8)), body: "caf\u{E9}") != nil)
    }

    @Test func tooLargeBodiesFailUnlessAllowedAndTheFirstFailureIsReported() {
        var validation = ValidationConfiguration(rules: [
            ValidationRule(name: "status", check: .status([200])),
            ValidationRule(name: "json", check: .json),
        ])
        #expect(validation.validate(status: 200, headers: [], body: nil)?.rule == "too_large")
        validation.passTooLarge = true
        #expect(validation.validate(status: 200, headers: [], body: nil) == nil)
        #expect(validation.validate(status: 500, headers: [], body: nil)?.rule == "status")
        #expect(validation.validate(status: 500, headers: [], body: ByteBuffer(string: "x"))?.rule == "status")
        #expect(validation.validate(status: 200, headers: [], body: ByteBuffer(string: "x"))?.rule == "json")
        #expect(validation.validateHead(status: 200, headers: []) == nil)
        // After validateHead passed, only the body rules run again.
        validation.passTooLarge = false
        #expect(validation.validate(status: 500, headers: [], body: ByteBuffer(string: "{}"), headChecked: true) == nil)
        #expect(validation.validate(status: 500, headers: [], body: ByteBuffer(string: "x"), headChecked: true)?.rule == "json")
        #expect(validation.validate(status: 500, headers: [], body: nil, headChecked: true)?.rule == "too_large")
    }

    @Test func excerptsAreBoundedAndEscaped() {
        #expect(BodyExcerpt.make(ByteBuffer(string: "a\nb\u{1B}[31m\tc\\")) == "a\\nb\\u{1B}[31m\\tc\\\\")
        let long = BodyExcerpt.make(ByteBuffer(string: String(repeating: "x", count: 500)))
        #expect(long == String(repeating: "x", count: 200) + "…")
        #expect(BodyExcerpt.make(ByteBuffer(bytes: [0x41, 0xFF, 0x42])) == "A\u{FFFD}B")
        #expect(BodyExcerpt.make(nil) == "")
    }
}
