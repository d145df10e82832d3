// SPDX-License-Identifier: Apache-2.0

import Foundation
@testable import MoxyCLI
import MoxyCache
import MoxyServer
import MoxyValidation
import Testing

/// Every setting the code reads is in `docs/configuration.md`, and every setting documented there
/// exists in the code: one table per section, compared both ways.
@Suite struct ConfigurationDocsTests {
    static let text: String = {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/configuration.md")
        return (try? String(contentsOf: docs, encoding: .utf8)) ?? ""
    }()

    /// The lines of the section under `## title`, up to the next `## `.
    static func section(_ title: String) -> [Substring] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0 == "## \(title)" }) else { return [] }
        let rest = lines[(start + 1)...]
        let end = rest.firstIndex { $0.hasPrefix("## ") } ?? rest.endIndex
        return Array(rest[..<end])
    }

    /// The names in the first column of the section's first table (`a`/`b` rows count as both).
    static func tableNames(_ title: String) -> Set<String> {
        var names: Set<String> = []
        var inTable = false
        for line in section(title) {
            guard line.hasPrefix("| ") else {
                if inTable { break }
                continue
            }
            inTable = true
            let cell = line.split(separator: "|", omittingEmptySubsequences: true).first ?? ""
            guard cell.contains("`") else { continue }  // the header row
            for part in cell.split(separator: "/") {
                let name = part.filter { $0 != "`" && $0 != " " }
                if !name.isEmpty { names.insert(name) }
            }
        }
        return names
    }

    @Test func theDocumentIsThere() {
        #expect(!Self.text.isEmpty)
    }

    @Test func everyTopLevelSettingIsDocumentedAndNothingElse() {
        let code = Set(SettingsKey.all.map(\.path).filter { !$0.hasPrefix("signed.cache.") }).union(["signed.cache.KNOB"])
        let documented = Self.tableNames("Settings")
        #expect(code.subtracting(documented).sorted() == [], "in the code, not in docs/configuration.md")
        #expect(documented.subtracting(code).sorted() == [], "in docs/configuration.md, not in the code")
    }

    @Test func everyCacheKnobIsDocumentedAndNothingElse() {
        let code = Set(CacheOverrides.knobs.map(\.name))
        let documented = Self.tableNames("Cache knobs")
        #expect(code.subtracting(documented).sorted() == [])
        #expect(documented.subtracting(code).sorted() == [])
    }

    @Test func everyValidationFieldIsDocumentedAndNothingElse() {
        let code = Set(ValidationConfiguration.fields.map(\.name))
        let documented = Self.tableNames("Response validation")
        #expect(code.subtracting(documented).sorted() == [])
        #expect(documented.subtracting(code).sorted() == [])
    }

    @Test func everyRouteFieldIsInTheExampleAndNothingElse() {
        // The example under "Origin routes" shows every field of a named route once.
        var documented: Set<String> = []
        var inRoute = false
        for line in Self.section("Origin routes") {
            if line.hasPrefix("  wordpress:") { inRoute = true; continue }
            guard inRoute else { continue }
            if line.hasPrefix("```") { break }
            // Fields of the route are indented by four spaces exactly.
            guard line.hasPrefix("    "), !line.hasPrefix("     "), let colon = line.firstIndex(of: ":") else { continue }
            documented.insert(String(line[line.index(line.startIndex, offsetBy: 4)..<colon]))
        }
        let code = RouteConfiguration.fields.union(["cache", "tags", "rewrite_json"])
        #expect(code.subtracting(documented).sorted() == [])
        #expect(documented.subtracting(code).sorted() == [])
    }

    @Test func everyTagFieldAndRewriteFieldIsDocumentedAndNothingElse() {
        #expect(Self.tableNames("Tags from the body") == Set(BodyTagRules.fields))
        #expect(Self.tableNames("Image URLs inside JSON") == Set(JSONImageRewrite.fields))
    }
}
