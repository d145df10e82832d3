// SPDX-License-Identifier: Apache-2.0

import Prometheus
import MoxyHTTP
import Logging
import MoxyCache
import NIOConcurrencyHelpers
import MoxyValidation
import NIOCore

/// The one spine of both modes: a cache request that cannot be answered from the store goes
/// forward here, coalesced per key (or not, for hit-for-miss keys), and ``ExchangeMachine``'s
/// decisions about the upstream's answer are carried out: store, freshen, pass, serve the stored
/// entry, fail, and the per-key effects in ``KeyStateTable``.
final class CacheExchange: Sendable {
    let tier: TieredCache
    let keys: KeyStateTable
    let upstream: UpstreamClient
    let renderer: ResponseRenderer
    let validationLog: ValidationLog
    let background: BackgroundWork
    let clock: MoxyClock
    let logger: Logger
    private let maxFetches: Int
    private let fetchesInFlight = NIOLockedValueBox(0)
    /// The server's metrics.
    var metrics: MoxyMetrics { upstream.metrics }

    init(
        tier: TieredCache,
        keys: KeyStateTable,
        upstream: UpstreamClient,
        renderer: ResponseRenderer,
        validationLog: ValidationLog,
        background: BackgroundWork,
        maxFetches: Int,
        clock: MoxyClock,
        logger: Logger
    ) {
        self.tier = tier
        self.keys = keys
        self.upstream = upstream
        self.renderer = renderer
        self.validationLog = validationLog
        self.background = background
        self.maxFetches = maxFetches
        self.clock = clock
        self.logger = logger
    }

    /// Fetches (or validates) a request's response through the coalescer and delivers the outcome on `eventLoop`.
    ///
    /// Waiters reuse the leader's outcome only when it was stored (so it is shareable) and matches
    /// their `Vary` fields; otherwise they go forward on their own.
    func fetch(_ request: CacheRequest, lookup: CacheLookup, on eventLoop: any EventLoop) -> EventLoopFuture<ProxyOutcome> {
        if keys.isHitForMiss(request.key, nowMilliseconds: clock.nowMilliseconds()) {
            return exchangeInBackground(request, lookup: lookup, on: eventLoop).map { outcome in
                var outcome = outcome
                if outcome.cacheStatus.forward != .stale { outcome.cacheStatus.forward = .bypass }
                switch outcome.cacheStatus.outcome {
                case .stored(nil): outcome.cacheStatus.outcome = .stored(.hitForMiss)
                case .notStored(nil): outcome.cacheStatus.outcome = .notStored(.hitForMiss)
                default: break
                }
                return outcome
            }
        }
        let (future, isLeader) = keys.join(lookup.storeKey, on: eventLoop, nowMilliseconds: clock.nowMilliseconds())
        guard isLeader else {
            metrics.count("moxy_coalesced_waits_total", [], help: "Requests that waited for another request's upstream fetch.")
            return future.flatMap { outcome in
                // Signed-URL fetches carry no client fields and Moxy's own errors name no client, so
                // both are shareable; a route response is shareable once it was stored, and so is a
                // stored entry served instead of the upstream's answer.
                if outcome.cacheStatus.stored || outcome.cacheStatus.hit || outcome.isError || request.source.isSigned,
                    let response = outcome.reusable,
                    response.varyNames.isEmpty || self.tier.lookup(request.key, headers: request.headers).entry === response
                {
                    var shared = ProxyOutcome.complete(response, outcome.cacheStatus, isError: outcome.isError)
                    shared.cacheStatus.collapsed = true
                    return eventLoop.makeSucceededFuture(shared)
                }
                return self.exchangeInBackground(request, lookup: lookup, on: eventLoop)
            }
        }
        background.submit {
            var outcome: ProxyOutcome
            let current = self.tier.lookup(request.key, headers: request.headers)
            if let entry = current.entry, lookup.entry !== entry,
                ReusePolicy.decide(entry.freshness, age: entry.age(at: self.clock.now()), request: request.directives) == .serve(stale: false)
            {
                // Stored by a fetch that finished between our lookup and our join.
                outcome = .complete(entry, CacheStatus(.hit(.memory)))
            } else if current.entry == nil, let found = await self.slowerLookup(request) {
                // On disk (written before a restart, or too large for memory): served as any stored entry.
                outcome = self.isFresh(found, request) ? .complete(found.entry!, CacheStatus(.hit(found.tier))) : await self.exchange(request, lookup: found)
            } else {
                // An entry that appeared since the request's lookup (stored meanwhile, a large file
                // opened) is the one to revalidate or fall back on.
                let chosen = lookup.entry == nil && current.entry != nil ? current : lookup
                outcome = chosen.entry == nil ? await self.coldFetch(request, lookup: chosen) : await self.exchange(request, lookup: chosen)
            }
            self.keys.complete(lookup.storeKey, with: outcome, nowMilliseconds: self.clock.nowMilliseconds())
        } refused: {
            self.keys.complete(lookup.storeKey, with: self.renderer.stoppedOutcome(profile: request.source.errorProfile), nowMilliseconds: self.clock.nowMilliseconds())
        }
        return future
    }

    /// The request's entry in a slower tier after a memory miss (promoted to memory when it fits).
    func slowerLookup(_ request: CacheRequest) async -> CacheLookup? {
        let found = await tier.slowerLookup(request.key, headers: request.headers) { response in
            // Encoded again as when it was stored: its gzip, brotli and zstd forms come back.
            ResponseRenderer.stored(
                status: response.status, fields: response.fields, body: response.body, responseTime: response.responseTime,
                freshness: response.freshness, downstreamMaxAge: response.downstreamMaxAge, isSigned: request.source.isSigned,
                compress: request.source.overrides.compress, surrogateKeys: response.surrogateKeys)
        }
        return found?.entry == nil ? nil : found
    }

    /// Whether a lookup's entry may answer the request as it is.
    func isFresh(_ lookup: CacheLookup, _ request: CacheRequest) -> Bool {
        guard let entry = lookup.entry else { return false }
        return ReusePolicy.decide(entry.freshness, age: entry.age(at: clock.now()), request: request.directives) == .serve(stale: false)
    }

    /// Refreshes a stale entry in the background (stale-while-revalidate); one refresh per key at a time.
    func refreshInBackground(_ request: CacheRequest, lookup: CacheLookup) {
        guard keys.startRefresh(lookup.storeKey, nowMilliseconds: clock.nowMilliseconds()) else { return }
        let end: @Sendable () -> Void = { self.keys.endRefresh(lookup.storeKey, nowMilliseconds: self.clock.nowMilliseconds()) }
        background.submit {
            let outcome = await self.exchange(request, lookup: lookup)
            end()
            if !outcome.cacheStatus.stored {
                self.logger.debug("background refresh kept the stored entry", metadata: ["key": "\(request.key)"])
            }
        } refused: {
            end()
        }
    }

    /// One uncoalesced exchange, run by the background work, delivered on `eventLoop`.
    private func exchangeInBackground(_ request: CacheRequest, lookup: CacheLookup, on eventLoop: any EventLoop)
        -> EventLoopFuture<ProxyOutcome>
    {
        inBackground(request, on: eventLoop) { await self.exchange(request, lookup: lookup) }
    }

    /// Runs `work` in the background work and delivers its outcome on `eventLoop` (the stopped
    /// server's answer when the work is refused).
    func inBackground(
        _ request: CacheRequest,
        on eventLoop: any EventLoop,
        _ work: @escaping @Sendable () async -> ProxyOutcome
    ) -> EventLoopFuture<ProxyOutcome> {
        let promise = eventLoop.makePromise(of: ProxyOutcome.self)
        background.submit {
            promise.succeed(await work())
        } refused: {
            promise.succeed(self.renderer.stoppedOutcome(profile: request.source.errorProfile))
        }
        return promise.futureResult
    }

    /// Goes forward once: a conditional request when the entry has validators, a plain one otherwise.
    func exchange(_ request: CacheRequest, lookup: CacheLookup) async -> ProxyOutcome {
        let source = request.source
        let entry = lookup.entry
        let now = clock.now()
        var machine = makeMachine(request, lookup: lookup, now: now)
        guard acquireFetch() else {
            // Past the cap: a stale entry that may be served on error is better than a 503.
            let step = machine.upstreamFailed(ProxyError(.busy, "too many upstream fetches in flight"), now: now)
            return perform(step, request: request, lookup: lookup, answer: nil)
        }
        defer { releaseFetch() }
        // What this fetch brings is not stored when a purge made from now on selects it.
        let purgeMark = tier.purgeMark
        var validators: [(name: String, value: String)] = []
        if let entry {
            if let etag = entry.etag { validators.append(("If-None-Match", etag)) }
            if let modified = entry.fields.first(named: "last-modified") { validators.append(("If-Modified-Since", modified)) }
        }
        while true {
            let answer: UpstreamAnswer
            do {
                answer = try await upstream.fetch(request, validators: validators)
            } catch {
                logger.info("upstream failed", metadata: ["source": "\(source.name)", "url": "\(request.url)", "error": "\(error)"])
                return perform(machine.upstreamFailed(error, now: clock.now()), request: request, lookup: lookup, answer: nil)
            }
            let head = machine.receivedHead(
                status: answer.status,
                fields: answer.fields,
                requestTime: answer.requestTime,
                responseTime: answer.responseTime,
                now: clock.now()
            )
            switch head.action {
            case .refetch:
                validators = []
                continue
            case .readBody(let bound):
                apply(head.effects, request: request, lookup: lookup, answer: answer, body: nil)
                let read: (read: ExchangeMachine.BodyRead, rest: ResponseBodyReader?)
                do {
                    read = try await answer.read(upTo: bound)
                } catch {
                    let failure = UpstreamFetcher.mapError(error)
                    logger.info("upstream body failed", metadata: ["source": "\(source.name)", "url": "\(request.url)", "error": "\(failure)"])
                    return perform(machine.upstreamFailed(failure, now: clock.now()), request: request, lookup: lookup, answer: nil)
                }
                let step = machine.receivedBody(read.read, contentLength: answer.contentLength, now: clock.now())
                if case .streamToDisk(let freshness, let status) = step.action {
                    apply(step.effects, request: request, lookup: lookup, answer: answer, body: nil)
                    return await streamToDisk(
                        request, lookup: lookup, answer: answer, prefix: read.read.bytes, rest: read.rest, freshness: freshness, status: status,
                        limit: machine.inputs.storeLimit, purgeMark: purgeMark)
                }
                return perform(step, request: request, lookup: lookup, answer: answer, read: read.read, rest: read.rest, purgeMark: purgeMark)
            default:
                return perform(head, request: request, lookup: lookup, answer: answer, purgeMark: purgeMark)
            }
        }
    }

    /// The decisions of one exchange for a request and its stored entry.
    func makeMachine(_ request: CacheRequest, lookup: CacheLookup, now: Int64) -> ExchangeMachine {
        let source = request.source
        // A fresh entry that is bypassed went forward because of the request; a stale one, because it was stale.
        let forward: CacheStatus.Forward =
            lookup.entry.map { $0.isFresh(at: now) && !$0.freshness.alwaysRevalidate ? .request : .stale } ?? lookup.forward
        return ExchangeMachine(
            .init(
                entry: lookup.entry,
                forward: forward,
                policy: source.policy,
                validation: source.validation,
                requestHeaders: request.headers,
                hitForMiss: source.overrides.hitForMiss,
                storeLimit: min(source.maxObjectSize, tier.maxEntrySize),
                memoryLimit: tier.store.maxEntrySize,
                streamsToDisk: tier.disk != nil
            )
        )
    }

    /// Carries out a step that ends the exchange.
    func perform(
        _ step: ExchangeMachine.Step,
        request: CacheRequest,
        lookup: CacheLookup,
        answer: UpstreamAnswer?,
        read: ExchangeMachine.BodyRead? = nil,
        rest: ResponseBodyReader? = nil,
        purgeMark: UInt64? = nil
    ) -> ProxyOutcome {
        apply(step.effects, request: request, lookup: lookup, answer: answer, body: read?.bytes)
        switch step.action {
        case .serveStored(let entry, let status):
            if status.outcome == .stale(.ifError) { logger.info("serving stale on error", metadata: ["key": "\(request.key)"]) }
            return .complete(entry, status)
        case .fail(let error, let status):
            return .complete(renderer.error(error, profile: request.source.errorProfile), status, isError: true)
        case .freshen(let entry, var status):
            guard let answer else { preconditionFailure("freshen without an answer") }
            let (response, decision) = ExchangeMachine.freshened(
                entry,
                update: renderer.updateFields(answer.fields, source: request.source),
                received: answer.fields,
                policy: request.source.policy,
                requestHeaders: request.headers,
                requestTime: answer.requestTime,
                responseTime: answer.responseTime
            )
            switch decision {
            case .store:
                guard let response = tier.unlessPurged(response, after: purgeMark, key: lookup.storeKey) else {
                    status.outcome = .notStored(.purged)
                    return .complete(response, status)
                }
                if tier.replace(lookup.storeKey, response, keepLastGood: request.source.validation?.keepLastGood) { status.outcome = .stored(nil) }
            case .doNotStore(let reason):
                invalidate(request.key)
                status.outcome = .notStored(.policy(reason))
            }
            return .complete(response, status)
        case .store(let freshness, var status):
            guard let answer, case .complete(let body) = read else { preconditionFailure("store without a body") }
            let transformed = transform(answer, body: body, request: request)
            let response = renderer.response(answer, body: body, freshness: freshness, source: request.source, transformed: transformed)
            if let storable = tier.unlessPurged(response, after: purgeMark, key: request.key) {
                let stored = tier.save(request.key, storable, requestHeaders: request.headers, keepLastGood: request.source.validation?.keepLastGood)
                status.outcome = stored ? .stored(nil) : .notStored(.tooLargeForMemory)
            } else {
                status.outcome = .notStored(.purged)
            }
            guard !freshness.withheldFields.isEmpty else { return .complete(response, status) }
            // The fields a qualified no-cache / private names are sent with the answer that came
            // from the upstream; only reuse goes without them.
            var outcome = ProxyOutcome.complete(
                renderer.response(answer, body: body, freshness: freshness, source: request.source, withholding: false, transformed: transformed),
                status
            )
            outcome.shared = response
            return outcome
        case .pass(let status):
            guard let answer else { preconditionFailure("pass without an answer") }
            return renderer.passed(answer, read: read, rest: rest, source: request.source, status: status)
        case .refetch, .readBody, .streamToDisk:
            preconditionFailure("not a step perform carries out")
        }
    }

    private func apply(
        _ effects: [ExchangeMachine.Effect],
        request: CacheRequest,
        lookup: CacheLookup,
        answer: UpstreamAnswer?,
        body: ByteBuffer?
    ) {
        for effect in effects {
            switch effect {
            case .invalidate:
                invalidate(request.key)
            case .markHitForMiss(let until):
                keys.markHitForMiss(request.key, untilMilliseconds: until * 1000, nowMilliseconds: clock.nowMilliseconds())
            case .backOff(let standIn):
                if let validation = request.source.validation { keys.backOff(lookup.storeKey, validation, standIn: standIn, nowMilliseconds: clock.nowMilliseconds()) }
            case .clearBackoff:
                keys.clearBackoff(lookup.storeKey, nowMilliseconds: clock.nowMilliseconds())
            case .recordInvalid(let failure):
                var excerpt = body
                if excerpt == nil, let answer, case .complete(let whole) = answer.body { excerpt = whole }
                validationLog.record(failure, source: request.source.name, url: request.url, status: answer?.status ?? 0, body: excerpt, time: clock.now())
            }
        }
    }

    /// Removes every stored response for a primary key and its hit-for-miss mark.
    func invalidate(_ key: String) {
        tier.invalidate(key)
        keys.clearHitForMiss(key, nowMilliseconds: clock.nowMilliseconds())
    }

    private func acquireFetch() -> Bool {
        fetchesInFlight.withLockedValue { count in
            guard count < maxFetches else { return false }
            count += 1
            return true
        }
    }

    private func releaseFetch() {
        fetchesInFlight.withLockedValue { $0 -= 1 }
    }
}
