// SPDX-License-Identifier: Apache-2.0

import Crypto

/// The key an entry is stored under, in every tier: a primary key (a signed URL's target, or a
/// route's `route:NAME HOST TARGET`) and, for a response with `Vary`, the variant (the marker's
/// generation and the request's values of the varying fields). Purges select by its fields;
/// the one text form (``encoded``) and one hash (``hash``) name the entry in a disk file and in
/// the shared tier alike.
public struct StoreKey: Sendable, Hashable {
    /// The URI's key.
    public var primary: String
    /// The variant, for a response with `Vary`.
    public var variant: Variant?

    /// One variant of a URI whose responses vary.
    public struct Variant: Sendable, Hashable {
        /// The generation of the marker it belongs to.
        public var generation: UInt64
        /// The request's values of the varying fields (``VaryKey/secondary(_:requestHeaders:)``).
        public var values: String

        /// Creates a variant.
        public init(generation: UInt64, values: String) {
            self.generation = generation
            self.values = values
        }
    }

    /// Creates a key.
    public init(primary: String, variant: Variant? = nil) {
        self.primary = primary
        self.variant = variant
    }

    /// The separator of the text form: a control character no primary key holds (targets and
    /// routes' keys are URLs, which refuse control characters).
    private static let separator: Character = "\u{1}"

    /// The key from its text form; a text without a valid variant part is a primary key.
    public init(encoded: String) {
        guard let first = encoded.firstIndex(of: Self.separator) else {
            self.init(primary: encoded)
            return
        }
        let rest = encoded[encoded.index(after: first)...]
        guard let second = rest.firstIndex(of: Self.separator), let generation = UInt64(rest[..<second]) else {
            self.init(primary: encoded)
            return
        }
        self.init(
            primary: String(encoded[..<first]),
            variant: Variant(generation: generation, values: String(rest[rest.index(after: second)...])))
    }

    /// The text form: the primary key, then for a variant the separator, the generation, the
    /// separator and the values (the disk format's key since version 1).
    public var encoded: String {
        guard let variant else { return primary }
        return primary + "\u{1}\(variant.generation)\u{1}" + variant.values
    }

    /// The first 64 bits of the text form's SHA-256: a disk file's name, a shared-tier key's hash tag.
    public var hash: UInt64 { Self.hash(encoded) }

    /// ``hash`` of a text form.
    public static func hash(_ encoded: String) -> UInt64 {
        SHA256.hash(data: Array(encoded.utf8)).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// A hash as 16 lowercase hex digits.
    public static func hex(_ hash: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: (0..<16).map { digits[Int((hash >> (60 - 4 * UInt64($0))) & 0x0F)] }, as: UTF8.self)
    }
}
