// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxyCache
@testable import MoxyStorage
import NIOCore
import Testing

/// The janitor removes entries whose last usable window has passed, and nothing else.
@Suite struct DiskJanitorTests {
    static let now: Int64 = 1_764_583_200

    /// A response that arrived `age` seconds before ``now``, fresh for `lifetime`.
    static func response(age: Int64, lifetime: Int64, staleIfError: Int64 = 0, etag: Bool = false) -> CachedResponse {
        CachedResponse(
            status: 200, fields: [("Content-Type", "image/png")] + (etag ? [("ETag", "\"v1\"")] : []), body: ByteBuffer(string: "bytes"),
            responseTime: now - age, freshness: Freshness(lifetime: lifetime, initialAge: 0, isExplicit: true, staleIfError: staleIfError),
            downstreamMaxAge: lifetime)
    }

    @Test func theLastUsableMomentCoversFreshnessStaleWindowsAndLastGood() {
        #expect(StoredEntry(key: "k", response: Self.response(age: 0, lifetime: 600)).usableUntil == Self.now + 600)
        #expect(StoredEntry(key: "k", response: Self.response(age: 0, lifetime: 600, staleIfError: 3600)).usableUntil == Self.now + 4200)
        #expect(StoredEntry(key: "k", response: Self.response(age: 0, lifetime: 600, etag: true)).usableUntil == nil, "revalidatable")
        let good = Self.response(age: 0, lifetime: 60)
        let keep = StoredEntry.lastGoodUntil(good, keepLastGood: 86_400)
        #expect(keep == Self.now + 60 + 86_400)
        #expect(StoredEntry(key: "k", response: good, lastGoodUntil: keep).usableUntil == keep)
        #expect(StoredEntry(key: "k", response: .variantMarker(names: ["accept"], generation: 3)).usableUntil == nil)
    }

    /// Expired entries go, at the first run and after a restart (their window read from the
    /// files' modification times, then checked against the file itself).
    @Test func expiredEntriesAreRemovedAndOthersKept() async throws {
        try await DiskStoreTests.withStore { store, directory in
            await store.put(StoredEntry(key: "fresh", response: Self.response(age: 0, lifetime: 600)))
            await store.put(StoredEntry(key: "expired", response: Self.response(age: 1_000, lifetime: 60)))
            await store.put(StoredEntry(key: "revalidatable", response: Self.response(age: 1_000, lifetime: 60, etag: true)))
            let good = Self.response(age: 1_000, lifetime: 60)
            await store.put(StoredEntry(key: "last-good", response: good, lastGoodUntil: StoredEntry.lastGoodUntil(good, keepLastGood: 86_400)))
            await store.put(StoredEntry(key: "also-expired", response: Self.response(age: 1_000, lifetime: 60)))
            #expect(await store.removeExpired(now: Self.now) == 2)
            #expect(store.stats.expired == 2 && store.stats.entries == 3)
            for key in ["expired", "also-expired"] { #expect(!FileManager.default.fileExists(atPath: store.location(of: key))) }
            for key in ["fresh", "revalidatable", "last-good"] { #expect(await store.get(key) != nil, "\(key) is kept") }

            // After a restart the loader learns each window from the file's modification time.
            let restarted = DiskStore(directory: directory)
            _ = await restarted.load()
            #expect(restarted.stats.entries == 3)
            #expect(await restarted.removeExpired(now: Self.now + 601) == 1, "the fresh one's window has passed")
            #expect(await restarted.get("last-good") != nil && restarted.stats.entries == 2)

            // A modification time that a copy changed is not trusted: the file's header decides.
            let path = restarted.location(of: "last-good")
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000)], ofItemAtPath: path)
            let copied = DiskStore(directory: directory)
            _ = await copied.load()
            #expect(await copied.removeExpired(now: Self.now + 601) == 0)
            #expect(FileManager.default.fileExists(atPath: path) && copied.stats.entries == 2)
        }
    }
}
