// SPDX-License-Identifier: Apache-2.0

import MoxyValidation
import Testing

@Suite struct JSONSelectorTests {
    func select(_ patterns: [String], _ document: String) throws -> [(Int, String)] {
        let selector = JSONSelector(try patterns.map { try JSONPattern($0) })
        let bytes = Array(document.utf8)
        return try selector.matches(in: bytes).map { ($0.pattern, String(decoding: bytes[$0.range], as: UTF8.self)) }
    }

    @Test func wildcardsSelectEveryItemInDocumentOrder() throws {
        let document = #"[{"id": 1, "categories": [3, 4]}, {"id": 2, "categories": []}, {"title": "x"}]"#
        let matches = try select(["/*/id", "/*/categories/*"], document)
        #expect(matches.map(\.0) == [0, 1, 1, 0])
        #expect(matches.map(\.1) == ["1", "3", "4", "2"])
    }

    @Test func namesIndicesAndWholeValues() throws {
        let document = #"{"id": 7, "content": {"rendered": "<p>a<\/p>"}, "list": [10, 20]}"#
        let matches = try select(["/id", "/content/rendered", "/list/1", "/content", "/missing", "/id/deeper"], document)
        #expect(matches.map(\.1) == ["7", #"{"rendered": "<p>a<\/p>"}"#, #""<p>a<\/p>""#, "20"])
        #expect(matches.map(\.0) == [0, 3, 1, 2])
    }

    @Test func aWildcardAndANameOnTheSameLevelBothApply() throws {
        let matches = try select(["/0/a", "/*/a"], #"[{"a": 1}, {"a": 2}]"#)
        #expect(matches.map(\.1) == ["1", "1", "2"])
    }

    @Test func notJSONThrows() throws {
        #expect(throws: JSONParser.ParseError.self) { try select(["/*/id"], #"[{"id": 1},]"#) }
        #expect(throws: JSONParser.ParseError.self) { try select(["/id"], #"{"id": 1} x"#) }
        #expect(throws: JSONParser.ParseError.self) { try select([""], "") }
    }
}

@Suite struct BodyTagRulesTests {
    static let collection = #"""
        [{"id": 12, "author": 3, "categories": [1, 5], "slug": "hello-world"},
         {"id": 13, "author": 3, "categories": [5], "slug": "two words"},
         {"id": 1.5, "author": null, "categories": [true]}]
        """#

    func tags(_ rules: BodyTagRules, upstream: [String] = [], _ body: String?) -> BodyTagRules.Result {
        guard let body else { return rules.tags(upstream: upstream, body: nil) }
        return Array(body.utf8).withUnsafeBytes { rules.tags(upstream: upstream, body: $0) }
    }

    func rules(_ pairs: [(String, String)], fixed: [String] = [], maxCount: Int = 64, maxLength: Int = 128) throws -> BodyTagRules {
        BodyTagRules(
            fixed: fixed, rules: try pairs.map { .init(pattern: try JSONPattern($0.0), template: $0.1) }, maxCount: maxCount, maxLength: maxLength)
    }

    @Test func tagsFromACollection() throws {
        let rules = try rules([("/*/id", "post-{}"), ("/*/author", "author-{}"), ("/*/categories/*", "category-{}"), ("/*/slug", "slug-{}")], fixed: ["wp"])
        let result = tags(rules, upstream: ["from-upstream"], Self.collection)
        #expect(result.tags == [
            "from-upstream", "wp", "post-12", "author-3", "category-1", "category-5", "slug-hello-world", "post-13",
            "post-1.5", "category-true",
        ])
        // "two words" cannot be a tag; null makes none.
        #expect(result.dropped == 1)
    }

    @Test func oneObjectAndATemplateUsedTwice() throws {
        let result = tags(try rules([("/id", "post-{}-{}")]), #"{"id": 42}"#)
        #expect(result == .init(tags: ["post-42-42"], dropped: 0))
    }

    @Test func boundsKeepTheFirstAndCountTheRest() throws {
        let body = "[" + (1...10).map { #"{"id": \#($0)}"# }.joined(separator: ",") + "]"
        let result = tags(try rules([("/*/id", "post-{}")], fixed: ["a-very-long-fixed-tag"], maxCount: 4, maxLength: 10), upstream: ["x"], body)
        #expect(result.tags == ["x", "post-1", "post-2", "post-3"])
        #expect(result.dropped == 1 + 7)  // the long fixed tag, then posts 4 to 10
    }

    @Test func aBodyThatIsNotJSONKeepsTheFixedTagsOnly() throws {
        let rules = try rules([("/*/id", "post-{}")], fixed: ["wp"])
        #expect(tags(rules, #"<b>Fatal error</b>"#) == .init(tags: ["wp"], dropped: 0))
        #expect(tags(rules, nil) == .init(tags: ["wp"], dropped: 0))
    }

    @Test func duplicatesCountOnce() throws {
        let result = tags(try rules([("/*/author", "author-{}")]), upstream: ["author-3"], Self.collection)
        #expect(result == .init(tags: ["author-3"], dropped: 0))
    }

    @Test func tagText() {
        #expect(BodyTagRules.isValidTag("post-1"))
        #expect(!BodyTagRules.isValidTag(""))
        #expect(!BodyTagRules.isValidTag("a b"))
        #expect(!BodyTagRules.isValidTag("a,b"))
        #expect(!BodyTagRules.isValidTag("é"))
        #expect(!BodyTagRules.isValidTag("a\"b"))
    }
}

@Suite struct JSONStringEditorTests {
    func edit(_ patterns: [String], _ document: String, _ transform: @escaping (Int, String) -> String?) throws -> String? {
        let selector = JSONSelector(try patterns.map { try JSONPattern($0) })
        let bytes = Array(document.utf8)
        let edited = try bytes.withUnsafeBytes { buffer throws(JSONParser.ParseError) in
            try JSONStringEditor.edit(buffer, selector: selector, transform: transform)
        }
        return edited.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func onlyTheChangedStringsChange() throws {
        let document = #"[ {"id":1,"content":{"rendered":"<img src=\"http:\/\/a\/x.png\">","protected":false}}, {"id":2,"content":{"rendered":"plain"}} ,{"n": 1.50e1}]"#
        let edited = try edit(["/*/content/rendered"], document) { _, text in
            text.contains("img") ? text.replacingOccurrences("http://a/x.png", "https://m/sig/x") : nil
        }
        #expect(edited == #"[ {"id":1,"content":{"rendered":"<img src=\"https:\/\/m\/sig\/x\">","protected":false}}, {"id":2,"content":{"rendered":"plain"}} ,{"n": 1.50e1}]"#)
    }

    @Test func nothingChangedIsNil() throws {
        #expect(try edit(["/a"], #"{"a": "x", "b": 1}"#) { _, text in text } == nil)
        #expect(try edit(["/a"], #"{"a": 5}"#) { _, _ in "never" } == nil)
    }

    @Test func theEscapingStyleOfTheOldValue() throws {
        // Non-ASCII escaped as PHP does: the new text is escaped the same way.
        let escaped = try edit(["/a"], #"{"a": "caf\u00e9 \/"}"#) { _, _ in "thé / 😀 \"q\"\n" }
        #expect(escaped == #"{"a": "th\u00e9 \/ \ud83d\ude00 \"q\"\n"}"#, "\(escaped ?? "nil")")
        // Raw UTF-8 and plain slashes stay raw.
        #expect(try edit(["/a"], #"{"a": "café /"}"#) { _, _ in "thé / \u{1}" } == #"{"a": "thé / \u0001"}"#)
    }

    @Test func everyEditedDocumentParsesToTheTransformedValues() throws {
        let texts = ["", "a\"b", "\\", "/", "é", "\u{7F}", "\u{0}", "😀", "<p class=\"x\">a</p>"]
        for text in texts {
            for original in [#""x""#, #""\/""#, #""\u00e9""#, #""é""#] {
                let document = #"{"k": \#(original), "z": [1]}"#
                let edited = try #require(try edit(["/k"], document) { _, _ in text + "!" })
                let parsed = try JSONParser.parse(Array(edited.utf8))
                #expect(parsed[member: "k"] == .string(text + "!"), "\(document) -> \(edited)")
                #expect(edited.hasSuffix(#", "z": [1]}"#))
            }
        }
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
