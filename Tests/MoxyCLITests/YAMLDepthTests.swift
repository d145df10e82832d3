// SPDX-License-Identifier: Apache-2.0

import MoxyYAML
import Testing

/// Hostile nesting is a one-line error, never a stack overflow.
@Suite struct YAMLDepthTests {
    @Test func deepFlowCollectionsAreRefused() {
        let deep = "a: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: YAMLSubset.ParseError.self) { try YAMLProvider(text: deep) }
        let fine = "a: " + String(repeating: "[", count: 10) + "x" + String(repeating: "]", count: 10)
        #expect(throws: Never.self) { try YAMLProvider(text: fine) }
    }

    @Test func deepBlockNestingIsRefused() {
        var text = ""
        for level in 0..<200 { text += String(repeating: " ", count: level) + "k\(level):\n" }
        do {
            _ = try YAMLProvider(text: text)
            Issue.record("200 levels were accepted")
        } catch {
            #expect(error.description.contains("nested deeper than 64 levels"))
        }
        var lists = ""
        for level in 0..<200 { lists += String(repeating: " ", count: level * 2) + "-\n" }
        #expect(throws: YAMLSubset.ParseError.self) { try YAMLProvider(text: "a:\n" + lists + String(repeating: " ", count: 400) + "x") }
    }
}
