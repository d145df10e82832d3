// SPDX-License-Identifier: Apache-2.0

import MoxyValidation
import Testing

@Suite struct JSONParserTests {
    static let valid: [(String, JSONValue)] = [
        ("null", .null),
        (" true ", .bool(true)),
        ("false", .bool(false)),
        ("0", .number(0)),
        ("-12", .number(-12)),
        ("3.25", .number(3.25)),
        ("1e3", .number(1000)),
        ("-0.5E-1", .number(-0.05)),
        ("12345678901234567890", .number(12345678901234567890)),
        (#""a\"b\\c\/d\n\u00e9\ud83d\ude00""#, .string("a\"b\\c/d\né😀")),
        ("\"héllo\"", .string("héllo")),
        ("[]", .array([])),
        ("[1, [2], {}]", .array([.number(1), .array([.number(2)]), .object([])])),
        (#"{"a": {"b": [true, null]}}"#, .object([.init(name: "a", value: .object([.init(name: "b", value: .array([.bool(true), .null]))]))])),
    ]

    @Test func validDocumentsParse() throws {
        for (text, expected) in Self.valid {
            let parsed = try JSONParser.parse(Array(text.utf8))
            #expect(parsed == expected, "\(text)")
        }
    }

    static let invalid: [String] = [
        "", " ", "{", "}", "[1,]", "[1 2]", "{\"a\" 1}", "{\"a\":1,}", "{a:1}", "'a'", "01", "-", "1.", ".5", "1e", "+1",
        "tru", "nul", "\"abc", "\"a\u{01}b\"", #""\x""#, #""\u12""#, #""\ud83d""#, #""\ude00""#, "[1] x", "NaN", "Infinity",
        "// comment\n1", "\u{FEFF}1",
    ]

    @Test func invalidDocumentsAreRefused() {
        for text in Self.invalid {
            #expect(throws: JSONParser.ParseError.self, "\(text.debugDescription)") { try JSONParser.parse(Array(text.utf8)) }
        }
        // Invalid UTF-8 inside a string.
        #expect(throws: JSONParser.ParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func checkingOnlyTheSyntaxAgreesWithTheFullParse() throws {
        for (text, _) in Self.valid {
            #expect(throws: Never.self, "\(text)") { try JSONParser.parse(Array(text.utf8), keeping: .nothing) }
        }
        for text in Self.invalid {
            #expect(throws: JSONParser.ParseError.self, "\(text.debugDescription)") { try JSONParser.parse(Array(text.utf8), keeping: .nothing) }
        }
        // Malformed UTF-8 in strings: overlong, surrogate, past U+10FFFF, bad continuation, truncated.
        for bytes: [UInt8] in [[0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xC3, 0x28], [0xE2, 0x82]] {
            let document = [0x5B, 0x22] + bytes + [0x22, 0x5D]  // ["…"]
            #expect(throws: JSONParser.ParseError.self, "\(bytes)") { try JSONParser.parse(document, keeping: .nothing) }
            #expect(throws: JSONParser.ParseError.self, "\(bytes)") { try JSONParser.parse(document) }
        }
        let fine: [UInt8] = [0x5B, 0x22, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0x22, 0x5D]  // ["é€😀"]
        #expect(throws: Never.self) { try JSONParser.parse(fine, keeping: .nothing) }
    }

    @Test func onlyThePointedPartsAreBuilt() throws {
        let text = #"{"code":"x","data":{"status":500,"extra":[1,2]},"items":[{"id":1},{"id":2,"tags":["a"]}],"big":"\u00e9 skipped"}"#
        let pointers = try ["/code", "/data/status", "/items/1", "/missing/deep", "/items/7"].map { try JSONPointer($0) }
        let partial = try JSONParser.parse(Array(text.utf8), keeping: JSONPaths(pointers: pointers))
        let full = try JSONParser.parse(Array(text.utf8))
        for pointer in pointers {
            #expect(pointer.resolve(in: partial) == pointer.resolve(in: full), "\(pointer)")
        }
        // What no pointer reads is left out.
        #expect(try JSONPointer("/big").resolve(in: partial) == nil)
        #expect(try JSONPointer("/data/extra").resolve(in: partial) == nil)
        #expect(try JSONPointer("/items/1/tags/0").resolve(in: partial) == .string("a"))
        #expect(try JSONParser.parse(Array(text.utf8), keeping: JSONPaths(pointers: [try JSONPointer("")])) == full)
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParser.ParseError.self) { try JSONParser.parse(Array(deep.utf8)) }
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(throws: Never.self) { try JSONParser.parse(Array(fine.utf8)) }
    }

    @Test func errorsSayWhere() {
        do {
            _ = try JSONParser.parse(Array(#"{"a": tru}"#.utf8))
            Issue.record("parsed")
        } catch {
            #expect(error.offset == 6)
            #expect(error.description == "unexpected character at byte 6")
        }
    }
}

@Suite struct JSONPointerTests {
    // The document and the table of RFC 6901 §5.
    static let document = try! JSONParser.parse(
        Array(
            #"""
            {"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4, "i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8}
            """#.utf8))

    @Test func rfc6901Examples() throws {
        let expectations: [(String, JSONValue)] = [
            ("/foo", .array([.string("bar"), .string("baz")])),
            ("/foo/0", .string("bar")),
            ("/", .number(0)),
            ("/a~1b", .number(1)),
            ("/c%d", .number(2)),
            ("/e^f", .number(3)),
            ("/g|h", .number(4)),
            ("/i\\j", .number(5)),
            ("/k\"l", .number(6)),
            ("/ ", .number(7)),
            ("/m~0n", .number(8)),
        ]
        for (pointer, value) in expectations {
            #expect(try JSONPointer(pointer).resolve(in: Self.document) == value, "\(pointer)")
        }
        #expect(try JSONPointer("").resolve(in: Self.document) == Self.document)
    }

    @Test func missingAndMalformed() throws {
        for missing in ["/nope", "/foo/2", "/foo/-", "/foo/01", "/foo/bar", "/foo/0/x", "/foo/-1"] {
            #expect(try JSONPointer(missing).resolve(in: Self.document) == nil, "\(missing)")
        }
        #expect(throws: JSONPointer.ParseError.self) { try JSONPointer("foo") }
        #expect(throws: JSONPointer.ParseError.self) { try JSONPointer("/a~2") }
        #expect(throws: JSONPointer.ParseError.self) { try JSONPointer("/a~") }
    }

    @Test func duplicateNamesResolveToTheLast() throws {
        let document = try JSONParser.parse(Array(#"{"a": 1, "a": 2}"#.utf8))
        #expect(try JSONPointer("/a").resolve(in: document) == .number(2))
    }
}
