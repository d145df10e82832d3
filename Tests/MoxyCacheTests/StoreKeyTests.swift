// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import Testing

/// The one key of an entry in every tier, and purge selectors that match its fields.
@Suite struct StoreKeyTests {
    @Test func aVariantKeyReadsBackToItsFields() {
        let key = StoreKey(primary: "route:api example.com /v1/posts", variant: .init(generation: 42, values: "accept-language:en\n"))
        #expect(key.encoded == "route:api example.com /v1/posts\u{1}42\u{1}accept-language:en\n")
        #expect(StoreKey(encoded: key.encoded) == key)
        #expect(StoreKey(encoded: "https://img.example/a.png") == StoreKey(primary: "https://img.example/a.png"))
        // A text whose variant part is not one is a primary key as it is (never a crash).
        #expect(StoreKey(encoded: "a\u{1}b").variant == nil && StoreKey(encoded: "a\u{1}b").primary == "a\u{1}b")
    }

    @Test func theHashIsTheDiskFilesName() {
        // SHA-256("abc") starts with ba7816bf8f01cfea.
        #expect(StoreKey.hex(StoreKey(primary: "abc").hash) == "ba7816bf8f01cfea")
    }

    @Test func purgeSelectorsMatchThePrimaryKeyOfAVariant() {
        let variant = StoreKey(primary: "https://a.example/x", variant: .init(generation: 7, values: "v")).encoded
        #expect(PurgeSelector.keys(["https://a.example/x"]).matches(key: variant, tags: []))
        #expect(!PurgeSelector.keys(["https://a.example/x7"]).matches(key: variant, tags: []))
        #expect(!PurgeSelector.keys(["https://a.example/"]).matches(key: variant, tags: []))
        #expect(PurgeSelector.prefixes(["https://a.example/"]).matches(key: variant, tags: []))
        // A prefix that reaches into the variant part does not select it: fields, not text.
        #expect(!PurgeSelector.prefixes(["https://a.example/x\u{1}7"]).matches(key: variant, tags: []))
    }
}
