// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyHTTP
import Logging
import NIOHTTP1
import MoxyValidation
import NIOCore

extension CacheExchange {
    /// A `HEAD` that the store cannot answer goes upstream as `HEAD` (never coalesced with the
    /// `GET`s of its key, whose answers have bodies), and its answer updates or stales the stored
    /// `GET` response (RFC 9111 §4.3.5). Nothing is stored from a `HEAD`.
    /// An entry only on disk answers it as a `GET` would be answered.
    func fetchHead(_ request: CacheRequest, lookup: CacheLookup, on eventLoop: any EventLoop) -> EventLoopFuture<ProxyOutcome> {
        inBackground(request, on: eventLoop) {
            guard lookup.entry == nil, let found = await self.slowerLookup(request) else { return await self.head(request, lookup: lookup) }
            return self.isFresh(found, request) ? .complete(found.entry!, CacheStatus(.hit(found.tier))) : await self.head(request, lookup: found)
        }
    }

    func head(_ request: CacheRequest, lookup: CacheLookup) async -> ProxyOutcome {
        var machine = makeMachine(request, lookup: lookup, now: clock.now())
        let purgeMark = tier.purgeMark
        let answer: UpstreamAnswer
        do {
            answer = try await upstream.fetch(request, validators: [], method: .HEAD)
        } catch {
            logger.info("upstream failed", metadata: ["source": "\(request.source.name)", "url": "\(request.url)", "error": "\(error)"])
            return perform(machine.upstreamFailed(error, now: clock.now()), request: request, lookup: lookup, answer: nil)
        }
        let now = clock.now()
        var status = CacheStatus(.notStored(nil), forward: machine.inputs.forward, forwardStatus: answer.status)
        switch ExchangeMachine.head(entry: lookup.entry, status: answer.status, fields: answer.fields, validation: request.source.validation, now: now) {
        case .serveStale:
            guard let entry = lookup.entry else { break }
            return .complete(entry, CacheStatus(.stale(.ifError), forward: .stale, forwardStatus: answer.status))
        case .freshen:
            guard let entry = lookup.entry else { break }
            return perform(ExchangeMachine.Step(action: .freshen(entry, status)), request: request, lookup: lookup, answer: answer, purgeMark: purgeMark)
        case .markStale:
            if let entry = lookup.entry { _ = tier.replace(lookup.storeKey, ExchangeMachine.expired(entry, now: now), keepLastGood: request.source.validation?.keepLastGood) }
            status.outcome = .notStored(.headChanged)
        case .pass:
            break
        }
        return renderer.passedHead(answer, source: request.source, status: status)
    }
}
