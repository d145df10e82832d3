// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxySigning
import NIOCore
import NIOHTTP1

extension RequestDispatcher {
    /// A signed URL (or a camo-family one, or a compat profile's service path).
    func signed(_ request: borrowing ClientRequest, path: Substring, now: Int64, record: inout RequestRecord, eventLoop: any EventLoop) -> Answer {
        let mark = path.firstIndex(ofASCII: UInt8(ascii: "?"))
        let query = mark.map { path[path.index(after: $0)...] }
        let path = mark.map { path[..<$0] } ?? path
        let settings = self.settings
        record.note(settings.signedSource)
        if let answer = proxy.serviceAnswer(path) {
            return Answer(kind: .response(answer), cacheStatus: CacheStatus(.answered("service")).value())
        }
        guard request.method == .GET || request.method == .HEAD else {
            return error(ProxyError(.methodNotAllowed, "only GET and HEAD are served"))
        }
        let target: VerifiedTarget
        do {
            if let camo = settings.configuration.camoSigner, let url = try camo.verify(path: path, query: query) {
                target = VerifiedTarget(url: url, keyID: "camo", expires: nil)
            } else if let signer = settings.signer {
                target = try path.utf8.withContiguousStorageIfAvailable { try signer.verify(pathBytes: $0, now: now) }
                    ?? signer.verify(path: path, now: now)
            } else {
                return error(notSigned(ProxyError(.notFound, "not a signed URL"), path: path, query: query))
            }
        } catch let error as SigningError {
            proxy.metrics.count(
                "moxy_signature_failures_total", [("reason", error.code.description)], help: "Signed URLs refused, by reason.")
            let refusal = Self.proxyError(for: error)
            return self.error(error.code == .malformedPath ? notSigned(refusal, path: path, query: query) : refusal)
        } catch {
            return self.error(ProxyError(.badSignature, "bad signature"))
        }
        record.target = target.url
        let entry = proxy.tier.store.get(target.url)
        if let hit = freshHit(entry, for: request, now: now, lifetimeCap: target.expires) { return hit }
        let source = settings.signedSource
        let cacheRequest = CacheRequest(
            source: source,
            url: target.url,
            key: target.url,
            headers: [],
            directives: directives(request, source.overrides),
            clientAddress: remoteAddress,
            trace: record.startTrace(proxy.accessLog != nil)
        )
        // A memory miss looks where a route's lookup looks too: a large entry still arriving or
        // whose file is open answers (or is revalidated) as a route's does.
        let lookup = entry != nil ? CacheLookup(entry: entry, storeKey: target.url, forward: .uriMiss) : proxy.tier.lookup(target.url, headers: [])
        // Signed URLs have no interim responses (no route).
        return fromCache(
            request, cacheRequest, lookup: lookup, now: now, lifetimeCap: target.expires, record: &record, eventLoop: eventLoop,
            interim: { _ in nil })
    }

    /// The answer to a path that is no signed URL Moxy can read: a bad signature when it has the
    /// shape of a camo-family URL (a digest of the wrong length or form), as the originals answer
    /// it (go-camo: 403), else `error`.
    private func notSigned(_ error: ProxyError, path: Substring, query: Substring?) -> ProxyError {
        guard let camo = settings.configuration.camoSigner, camo.hasSignedShape(path: path, query: query) else { return error }
        return ProxyError(.badSignature, "bad signature")
    }
}
