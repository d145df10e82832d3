// SPDX-License-Identifier: Apache-2.0

/// Signs and verifies native Moxy URLs with a set of HMAC-SHA256 keys.
///
/// The grammar is in `docs/url-format.md`:
/// `/<sig>/[<opts>/]<b64url(target)>[.<ext>]`, where `sig = b64url(HMAC-SHA256(key, rest))` and
/// `rest` is the path after `/<sig>`. Several keys are active at once; a URL names its key with the
/// `k<id>` option, so verification costs exactly one HMAC.
public struct URLSigner: Sendable {
    /// The keys by id.
    @usableFromInline
    let keys: [String: SigningKey]
    /// The id of the key used when a URL has no `k` option.
    public let defaultKeyID: String
    /// Paths verified already (shared by the copies of this signer; a new signer starts empty).
    let verified = VerifiedPaths()

    /// Creates a signer.
    /// - Parameters:
    ///   - keys: The active keys; ids must be unique.
    ///   - defaultKeyID: The key used for URLs without a `k` option; defaults to the first key's id.
    /// - Throws: ``SigningError`` with code `invalidKey` when there is no key, an id repeats, or the
    ///   default id names no key.
    public init(keys: [SigningKey], defaultKeyID: String? = nil) throws {
        guard let first = keys.first else {
            throw SigningError(.invalidKey, "no signing key configured")
        }
        var byID: [String: SigningKey] = [:]
        for key in keys {
            guard byID.updateValue(key, forKey: key.id) == nil else {
                throw SigningError(.invalidKey, "key id '\(key.id)' is configured twice")
            }
        }
        let defaultID = defaultKeyID ?? first.id
        guard byID[defaultID] != nil else {
            throw SigningError(.invalidKey, "default key id '\(defaultID)' names no configured key")
        }
        self.keys = byID
        self.defaultKeyID = defaultID
    }

    /// The ids of all active keys, sorted.
    public var keyIDs: [String] { keys.keys.sorted() }
}
