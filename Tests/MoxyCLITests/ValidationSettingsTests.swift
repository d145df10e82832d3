// SPDX-License-Identifier: Apache-2.0

import MoxyYAML
import Foundation
import MoxyCLI
import MoxyServer
import MoxyTestSupport
import MoxyValidation
import NIOCore
import NIOPosix
import Testing

/// Loads a config file text and returns the named route's validation settings.
func routeValidation(_ yaml: String, route: String = "api") throws -> ValidationConfiguration? {
    let settings = try MoxySettings.load(environment: [:], configFile: temporaryFile(yaml))
    return settings.server.routes.first(where: { $0.name == route })?.validation
}

/// The first failing rule's name for a JSON body with status 200.
func failingRule(_ validation: ValidationConfiguration, _ body: String, headers: [(name: String, value: String)] = [("Content-Type", "application/json")]) -> String? {
    validation.validate(status: 200, headers: headers, body: ByteBuffer(string: body))?.rule
}

@Suite struct ValidationSettingsTests {
    @Test func yamlTreesWithMappingsInLists() throws {
        let tree = try YAMLSubset.parseTree("""
            rules:
              - name: a
                pointer: /code
                absent: true
              - {pointer: "/x", equals: "500", in: [1, 'two', {k: v}]}
              - any:
                  - header: X-A
                    present: true
                  - - nested
                    - list
            empty: []
            """)
        guard case .map(let root) = tree, case .list(let rules)? = root.first?.value else {
            Issue.record("not a mapping with a list")
            return
        }
        #expect(rules.count == 3)
        #expect(rules[0] == .map([.init(key: "name", value: .scalar("a", quoted: false)), .init(key: "pointer", value: .scalar("/code", quoted: false)), .init(key: "absent", value: .scalar("true", quoted: false))]))
        #expect(rules[1] == .map([
            .init(key: "pointer", value: .scalar("/x", quoted: true)),
            .init(key: "equals", value: .scalar("500", quoted: true)),
            .init(key: "in", value: .list([.scalar("1", quoted: false), .scalar("two", quoted: true), .map([.init(key: "k", value: .scalar("v", quoted: false))])])),
        ]))
        #expect(rules[2] == .map([
            .init(key: "any", value: .list([
                .map([.init(key: "header", value: .scalar("X-A", quoted: false)), .init(key: "present", value: .scalar("true", quoted: false))]),
                .list([.scalar("nested", quoted: false), .scalar("list", quoted: false)]),
            ]))
        ]))
        #expect(try YAMLProvider(text: "empty: []\n").shape(at: ["empty"]) == .list(count: 0))
        for bad in ["a: {b: 1\n", "a: [1, 2\n", "a: {b: 1, b: 2}\n", "- a\nb: 1\n", "a:\n  - x\n   y: 1\n", "a: [1] x\n", "a: {b}\n"] {
            #expect(throws: YAMLSubset.ParseError.self, "\(bad)") { try YAMLProvider(text: bad) }
        }
    }

    @Test func everyRuleKindCompilesFromTheConfigFile() throws {
        let validation = try #require(
            try routeValidation("""
                routes:
                  api:
                    upstream: http://127.0.0.1:9
                    validate:
                      statuses: [200, 404]
                      content_types: [application/json, "application/*+json"]
                      min_bytes: 2
                      max_bytes: 1KiB
                      json: true
                      deny_body: ["Fatal error"]
                      deny_body_regex: ['(?i)database error']
                      rules:
                        - {name: no-code, pointer: /code, absent: true}
                        - {pointer: /id, exists: true, type: number, gte: 1, lt: 1000000}
                        - {pointer: /status, in: [publish, "future"]}
                        - {pointer: /type, equals: post}
                        - {pointer: /sticky, not_equals: true}
                        - {pointer: /slug, matches: "^[a-z0-9-]+$"}
                        - {pointer: /score, lte: 5, gt: 0}
                        - {pointer: /tags, min_items: 1}
                        - {header: X-WP-Total, present: true}
                        - {header: X-Bad, absent: true}
                        - {header: Server, equals: nginx}
                        - {header: X-Powered-By, matches: "^PHP/8"}
                        - any:
                            - {pointer: /parent, type: "null"}
                            - {pointer: /parent, gt: 0}
                        - not: {pointer: /data/status, gte: 500}
                        - all: [{status: 200}, {content_type: application/json}, {min_bytes: 1}, {max_bytes: 1MiB}, {json: true}, {deny_body: "<b>Warning</b>"}, {deny_body_regex: "on line <b>"}]
                      keep_last_good: 2d
                      on_invalid: error
                      validate_max_bytes: 512KiB
                      too_large: pass
                      backoff: 2s
                      max_backoff: 1m
                """))
        #expect(validation.rules.count == 22)
        #expect(validation.keepLastGood == 2 * 86_400 && validation.onInvalid == .error)
        #expect(validation.validateMaxBytes == 512 << 10 && validation.passTooLarge && validation.backoff == 2 && validation.maxBackoff == 60)
        let headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"), ("X-WP-Total", "3"), ("Server", "nginx"), ("X-Powered-By", "PHP/8.2"),
        ]
        let good = #"{"id":7,"status":"publish","type":"post","sticky":false,"slug":"hello","score":4,"tags":[1],"parent":null,"title":"t"}"#
        #expect(failingRule(validation, good, headers: headers) == nil)
        func breaking(_ change: (String) -> String, _ rule: String, headers: [(name: String, value: String)] = headers) {
            #expect(failingRule(validation, change(good), headers: headers) == rule, "\(rule)")
        }
        breaking({ $0.replacingOccurrences(of: "\"id\":7,", with: "\"code\":\"x\",\"id\":7,") }, "no-code")
        breaking({ $0.replacingOccurrences(of: "\"id\":7", with: "\"id\":0") }, "/id exists true, /id type number, /id gte 1, /id lt 1000000")
        breaking({ $0.replacingOccurrences(of: "publish", with: "draft") }, "/status in [publish, \"future\"]")
        breaking({ $0.replacingOccurrences(of: "\"post\"", with: "\"page\"") }, "/type equals post")
        breaking({ $0.replacingOccurrences(of: "\"sticky\":false", with: "\"sticky\":true") }, "/sticky not_equals true")
        breaking({ $0.replacingOccurrences(of: "hello", with: "Hello World") }, "/slug matches \"^[a-z0-9-]+$\"")
        breaking({ $0.replacingOccurrences(of: "\"score\":4", with: "\"score\":6") }, "/score lte 5, /score gt 0")
        breaking({ $0.replacingOccurrences(of: "[1]", with: "[]") }, "/tags min_items 1")
        breaking({ $0 }, "header x-wp-total present true", headers: headers.filter { $0.name != "X-WP-Total" })
        breaking({ $0 }, "header x-bad absent true", headers: headers + [("X-Bad", "1")])
        breaking({ $0 }, "header server equals nginx", headers: headers.filter { $0.name != "Server" } + [("Server", "apache")])
        breaking({ $0 }, "header x-powered-by matches \"^PHP/8\"", headers: headers.filter { $0.name != "X-Powered-By" } + [("X-Powered-By", "PHP/7.4")])
        breaking({ $0.replacingOccurrences(of: "\"parent\":null", with: "\"parent\":\"x\"") }, "any(/parent type \"null\"; /parent gt 0)")
        breaking({ $0.replacingOccurrences(of: "\"id\":7,", with: "\"data\":{\"status\":503},\"id\":7,") }, "not(/data/status gte 500)")
        breaking({ $0.replacingOccurrences(of: "hello", with: "Fatal error") }, "deny_body Fatal error")
        breaking({ $0.replacingOccurrences(of: "hello", with: "Database Error") }, "deny_body_regex (?i)database error")
        breaking({ $0.replacingOccurrences(of: "\"t\"", with: "\"<b>Warning</b>\"") }, "all(status; content_type; min_bytes; max_bytes; json; deny_body \"<b>Warning</b>\"; deny_body_regex \"on line <b>\")")
        breaking({ _ in "[1" }, "json")
        breaking({ _ in "1" }, "min_bytes")
        breaking({ $0 + String(repeating: " ", count: 1100) }, "max_bytes")
        breaking({ $0 }, "content_type", headers: [("Content-Type", "text/html")] + headers.dropFirst())
        #expect(validation.validate(status: 500, headers: headers, body: ByteBuffer(string: good))?.rule == "status")
    }

    @Test func badRulesAreConfigErrorsNamingRouteRuleAndReason() {
        let cases: [(String, String)] = [
            ("rules: [{pointer: code, absent: true}]", "routes.api.validate.rules[0]: a JSON pointer is empty or starts with '/'"),
            ("rules: [{pointer: /a}]", "routes.api.validate.rules[0]: a pointer rule needs a predicate"),
            ("rules: [{pointer: /a, exist: true}]", "routes.api.validate.rules[0]: unknown key 'exist' for a pointer rule"),
            ("rules: [{name: x, pointer: /a, lt: ten}]", "routes.api.validate.rules[0] (x): lt needs a number"),
            ("rules: [{pointer: /a, matches: \"(\"}]", "routes.api.validate.rules[0]: bad regular expression '('"),
            ("rules: [{pointer: /a, type: integer}]", "routes.api.validate.rules[0]: type must be one of"),
            ("rules: [{pointer: /a, header: b, exists: true}]", "routes.api.validate.rules[0]: one rule kind per rule"),
            ("rules: [{exists: true}]", "routes.api.validate.rules[0]: no rule kind"),
            ("rules: [{header: X-A}]", "routes.api.validate.rules[0]: a header rule takes one of"),
            ("rules: [{any: []}]", "routes.api.validate.rules[0]: any takes a list of rules"),
            ("rules: [{not: {pointer: /a, absent: maybe}}]", "routes.api.validate.rules[0].not: absent must be true or false"),
            ("rules: [{all: [{status: 200}, {status: 999}]}]", "routes.api.validate.rules[0].all[1]: '999' is not a status"),
            ("statuses: [ok]", "routes.api.validate.statuses: 'ok' is not a status"),
            ("content_types: [json]", "routes.api.validate.content_types: 'json' is not a media type"),
            ("on_invalid: drop", "invalid routes.api.validate.on_invalid: 'drop' (use pass or error)"),
            ("too_large: maybe", "invalid routes.api.validate.too_large"),
            ("validate_max_bytes: lots", "invalid routes.api.validate.validate_max_bytes"),
            ("keep_last_good: forever", "invalid routes.api.validate.keep_last_good"),
            ("stauses: [200]", "unknown key 'routes.api.validate.stauses'"),
        ]
        for (section, expected) in cases {
            let yaml = "routes:\n  api:\n    upstream: http://127.0.0.1:9\n    validate:\n      \(section)\n"
            do {
                _ = try routeValidation(yaml)
                Issue.record("accepted: \(section)")
            } catch {
                #expect("\(error)".contains(expected), "\(section): \(error)")
            }
        }
    }

    @Test func signedURLsHaveTheirOwnSection() throws {
        let settings = try MoxySettings.load(
            environment: ["MOXY_KEY": "k"],
            configFile: temporaryFile("signed:\n  validate:\n    json: true\n    on_invalid: error\n")
        )
        let validation = try #require(settings.server.signedValidation)
        #expect(validation.rules.map(\.name) == ["json"] && validation.onInvalid == .error)
        #expect(try MoxySettings.load(environment: ["MOXY_KEY": "k"], configFile: temporaryFile("key: x\n")).server.signedValidation == nil)
    }
}


@Suite struct SavedResponseTests {
    @Test func curlOutputAndBareBodies() throws {
        let curl = try SavedResponse.parse(Array("HTTP/2 200\r\ncontent-type: application/json\r\nx-wp-total: 3\r\n\r\n[1]".utf8))
        #expect(curl.status == 200 && curl.body == Array("[1]".utf8))
        #expect(curl.headers.map(\.name) == ["content-type", "x-wp-total"] && curl.headers[1].value == "3")
        // `curl -i -L` writes the redirect's head first; `\n` line ends work too.
        let followed = try SavedResponse.parse(Array("HTTP/1.1 301 Moved\nLocation: /b\n\nHTTP/1.1 404 Not Found\nContent-Type: text/html\n\n<p>gone".utf8))
        #expect(followed.status == 404 && followed.body == Array("<p>gone".utf8) && followed.headers.count == 1)
        let bare = try SavedResponse.parse(Array(#"{"id":1}"#.utf8))
        #expect(bare.status == 200 && bare.headers.isEmpty && bare.body == Array(#"{"id":1}"#.utf8))
        #expect(throws: SettingsError.self) { try SavedResponse.parse(Array("HTTP/1.1 200 OK\r\nno blank line".utf8)) }
        #expect(throws: SettingsError.self) { try SavedResponse.parse(Array("HTTP/1.1 abc\r\n\r\n".utf8)) }
        #expect(throws: SettingsError.self) { try SavedResponse.parse(Array("HTTP/1.1 200 OK\r\nbad line\r\n\r\n".utf8)) }
    }
}
