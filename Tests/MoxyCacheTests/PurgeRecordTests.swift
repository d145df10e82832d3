// SPDX-License-Identifier: Apache-2.0

@testable import MoxyCache
import Testing

/// The purge log's records: what they select, what they do, and their line form.
@Suite struct PurgeRecordTests {
    @Test func selectorsMatchKeysVariantsPrefixesAndTags() {
        let keys = PurgeSelector.keys(["route:a  /x"])
        #expect(keys.matches(key: "route:a  /x", tags: []))
        #expect(keys.matches(key: "route:a  /x\u{1}7\u{1}en", tags: []), "a variant goes with its primary key")
        #expect(!keys.matches(key: "route:a  /xy", tags: []))
        let prefixes = PurgeSelector.prefixes(["https://img.example/a/"])
        #expect(prefixes.matches(key: "https://img.example/a/b.png", tags: []))
        #expect(!prefixes.matches(key: "https://img.example/b.png", tags: []))
        #expect(PurgeSelector.tag("t").matches(key: "k", tags: ["s", "t"]))
        #expect(!PurgeSelector.tag("t").matches(key: "k", tags: ["tt"]))
        #expect(PurgeSelector.all.matches(key: "anything", tags: []))
    }

    @Test func aPurgeAppliesToEntriesThatArrivedUpToItsTime() {
        let hard = PurgeRecord(selector: .all, soft: false, time: 100)
        #expect(hard.verdict(responseTime: 99, key: "k", tags: []) == .remove)
        #expect(hard.verdict(responseTime: 100, key: "k", tags: []) == .remove)
        #expect(hard.verdict(responseTime: 101, key: "k", tags: []) == nil, "stored after the purge")
        let soft = PurgeRecord(selector: .tag("t"), soft: true, time: 100)
        #expect(soft.verdict(responseTime: 50, key: "k", tags: ["t"]) == .stale(since: 100))
        #expect(soft.verdict(responseTime: 50, key: "k", tags: ["u"]) == nil)
    }

    @Test func linesRoundTripAndTornLinesAreSkipped() {
        let records = [
            PurgeRecord(selector: .keys(["route:a  /x y", "https://h/ä?q=1&r"]), soft: false, time: 1_796_000_000),
            PurgeRecord(selector: .prefixes(["/p/"]), soft: true, time: 5),
            PurgeRecord(selector: .tag("a%b c"), soft: false, time: 6),
            PurgeRecord(selector: .all, soft: false, time: 7),
        ]
        for record in records {
            #expect(!record.line.contains("\n"))
            #expect(PurgeRecord(line: Substring(record.line)) == record, "\(record.line)")
        }
        for torn in ["", "17", "17 hard", "17 maybe all", "x hard all", "17 hard keys", "17 hard tag", "17 hard nope v"] {
            #expect(PurgeRecord(line: Substring(torn)) == nil, "\(torn)")
        }
    }
}
