// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxySigning
import MoxyStorage
import NIOCore
import NIOHTTP1

extension AdminAPI {
    /// The most tags one purge request may name (a WordPress publish names a handful).
    static let maxTagsPerPurge = 64

    /// `POST /purge` with `url=` (repeatable), `prefix=`, `tag=` (repeatable: each tag is purged,
    /// and the counts are their sum) or `all=1`, `soft=1`, and
    /// `wait=1`, as query parameters or a form body. Answers once the purge is logged and applied
    /// to memory, `{"purged": M, "memory": M, "disk": null, "disk_sweep": "background", …}`: the
    /// disk tier's files are swept in the background (purged files are refused when read
    /// meanwhile). With `wait=1` it answers after the sweep, with the disk's count too.
    func purge(_ request: AdminRequest) async -> AdminResponse {
        var parameters = request.query
        if request.body.readableBytes > 0 { parameters += AdminWire.form(Substring(String(buffer: request.body))) }
        func values(_ name: String) -> [String] { parameters.filter { $0.name == name }.map(\.value) }
        let soft = values("soft").contains { ["1", "true", "yes"].contains($0.lowercased()) }
        let all = values("all").contains { ["1", "true", "yes"].contains($0.lowercased()) }
        let wait = values("wait").contains { ["1", "true", "yes"].contains($0.lowercased()) }
        let urls = values("url"), prefixes = values("prefix"), tags = values("tag")
        let given = [!urls.isEmpty, !prefixes.isEmpty, !tags.isEmpty, all].filter { $0 }.count
        guard given == 1 else {
            return .error(.badRequest, "bad-purge", "give exactly one of url= (repeatable), prefix= (repeatable), tag= (repeatable) or all=1")
        }
        guard tags.count <= Self.maxTagsPerPurge else {
            return .error(.badRequest, "bad-purge", "at most \(Self.maxTagsPerPurge) tags per purge (\(tags.count) given)")
        }
        if urls.contains(where: \.isEmpty) || prefixes.contains(where: \.isEmpty) || tags.contains(where: \.isEmpty) {
            return .error(.badRequest, "bad-purge", "an empty url, prefix or tag selects nothing; use all=1 to purge everything")
        }
        if all && soft { return .error(.badRequest, "bad-purge", "a purge of everything is hard only (a new generation); drop soft=1") }
        let selectors: [PurgeSelector]
        let kind: String
        if all {
            (selectors, kind) = ([.all], "all")
        } else if !tags.isEmpty {
            (selectors, kind) = (Array(Set(tags)).sorted().map { .tag($0) }, "tag")
        } else if !urls.isEmpty {
            (selectors, kind) = ([.keys(Array(Set(urls.flatMap { keys(forURL: $0) })).sorted())], "url")
        } else {
            (selectors, kind) = ([.prefixes(Array(Set(prefixes.flatMap { keys(forURL: $0) })).sorted())], "prefix")
        }
        var count = PurgeCount()
        do {
            for selector in selectors {
                let one = try await proxy.tier.purge(selector, soft: soft, now: proxy.clock.now(), waitForDisk: wait)
                count.memory += one.memory
                count.entries += one.entries
                count.disk = count.disk.flatMap { sum in one.disk.map { sum + $0 } }
            }
        } catch {
            return .error(.internalServerError, "purge-not-persisted", error.description)
        }
        let metrics = proxy.metrics
        metrics.count(
            "moxy_purges_total", [("kind", kind), ("soft", soft ? "true" : "false")], by: Int64(selectors.count), help: "Purges made, by kind.")
        metrics.count("moxy_purged_entries_total", [("kind", kind)], by: Int64(count.entries), help: "Entries purged.")
        return .json(
            JSONWriter.object([
                ("purged", .int(count.entries)), ("memory", .int(count.memory)), ("disk", count.disk.map { .int($0) } ?? .null),
                ("disk_sweep", .string(proxy.tier.disk == nil ? "none" : count.disk == nil ? "background" : "done")), ("kind", .string(kind)),
                ("soft", .bool(soft)),
            ]))
    }

    /// The store keys (or key prefixes) a URL given to a purge stands for: itself (a signed URL's
    /// target is its key), the target of a Moxy or camo URL, and a route URL's key (`/path` or
    /// `http://host/path`, matched by the current routes as a request would be).
    func keys(forURL text: String) -> [String] {
        var keys = [text]
        let settings = proxy.settings
        let (host, target) = Self.split(text)
        guard target.hasPrefix("/") else { return keys }
        switch settings.router.resolve(Substring(target), host: host) {
        case .route(let source, let routeTarget):
            if let route = source.route { keys.append(Router.routeKey(route, host: host, target: routeTarget)) }
        case .signed(let path):
            let parts = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            if let camo = settings.configuration.camoSigner,
                let url = try? camo.verify(path: parts[0], query: parts.count > 1 ? parts[1] : nil)
            {
                keys.append(url)
            } else if let verified = try? settings.signer?.verify(path: parts[0], now: proxy.clock.now()) {
                keys.append(verified.url)
            }
        case .notFound:
            break
        }
        return keys
    }

    /// `http://host[:port]/target` as its host and target; a bare `/target` has no host.
    static func split(_ text: String) -> (host: String?, target: String) {
        guard let scheme = text.firstRange(of: "://") else { return (nil, text) }
        let rest = text[scheme.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return (String(rest), "/") }
        return (String(rest[..<slash]), String(rest[slash...]))
    }
}
