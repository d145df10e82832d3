// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import Logging
import MoxyCache
import MoxySigning
import MoxyValidation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

extension ProxyCore {
    /// Fetches (or validates) a request's response through the coalescer and delivers the outcome on `eventLoop`.
    ///
    /// Waiters reuse the leader's outcome only when it was stored (so it is shareable) and matches
    /// their `Vary` fields; otherwise they go forward on their own.
    func fetch(_ request: CacheRequest, lookup: CacheLookup, on eventLoop: any EventLoop) -> EventLoopFuture<ProxyOutcome> {
        let now = UnixTime.now()
        if isHitForMiss(request.key, now: now) {
            let promise = eventLoop.makePromise(of: ProxyOutcome.self)
            promise.completeWithTask {
                var outcome = await self.exchange(request, lookup: lookup)
                if outcome.cacheStatus.forward != .stale { outcome.cacheStatus.forward = .bypass }
                if outcome.cacheStatus.detail == nil { outcome.cacheStatus.detail = "hit-for-miss" }
                return outcome
            }
            return promise.futureResult
        }
        let (future, isLeader) = coalescer.join(lookup.storeKey, on: eventLoop)
        guard isLeader else {
            return future.flatMap { outcome in
                // Signed-URL fetches carry no client fields and Moxy's own errors name no client, so
                // both are shareable; a route response is shareable once it was stored, and so is a
                // stored entry served instead of the upstream's answer.
                if outcome.cacheStatus.stored || outcome.cacheStatus.hit || outcome.isError || request.isSigned,
                    let response = outcome.response,
                    response.varyNames.isEmpty
                        || self.lookup(request.key, headers: request.headers).entry === response
                {
                    var shared = outcome
                    shared.cacheStatus.collapsed = true
                    return eventLoop.makeSucceededFuture(shared)
                }
                let promise = eventLoop.makePromise(of: ProxyOutcome.self)
                promise.completeWithTask { await self.exchange(request, lookup: lookup) }
                return promise.futureResult
            }
        }
        Task {
            let outcome: ProxyOutcome
            let current = self.lookup(request.key, headers: request.headers)
            if let entry = current.entry, lookup.entry !== entry,
                ReusePolicy.decide(entry.freshness, age: entry.age(at: UnixTime.now()), request: request.directives)
                    == .serve(stale: false)
            {
                // Stored by a fetch that finished between our lookup and our join.
                outcome = .complete(entry, CacheStatus(hit: true))
            } else {
                outcome = await exchange(request, lookup: lookup)
            }
            coalescer.complete(lookup.storeKey, with: outcome)
        }
        return future
    }

    /// Refreshes a stale entry in the background (stale-while-revalidate); one refresh per key at a time.
    func refreshInBackground(_ request: CacheRequest, lookup: CacheLookup) {
        let started = refreshing.withLockedValue { $0.insert(lookup.storeKey).inserted }
        guard started else { return }
        Task {
            let outcome = await exchange(request, lookup: lookup)
            refreshing.withLockedValue { _ = $0.remove(lookup.storeKey) }
            if outcome.cacheStatus.stored == false {
                logger.debug("background refresh kept the stored entry", metadata: ["key": "\(request.key)"])
            }
        }
    }

    /// Goes forward once: a conditional request when a stale entry has validators, a plain one otherwise.
    func exchange(_ request: CacheRequest, lookup: CacheLookup) async -> ProxyOutcome {
        guard acquireFetch() else {
            // Past the cap: a stale entry that may be served on error is better than a 503.
            if let stale = staleOnError(lookup.entry, status: nil, forward: .stale, detail: "busy") { return stale }
            let error = ProxyError(.busy, "too many upstream fetches in flight")
            return .complete(errorResponse(error, profile: request.isSigned ? nil : .moxy), CacheStatus(detail: "busy"), isError: true)
        }
        defer { releaseFetch() }
        let entry = lookup.entry
        // A fresh entry that is bypassed went forward because of the request; a stale one, because it was stale.
        let forward: CacheStatus.Forward =
            entry.map { $0.isFresh(at: UnixTime.now()) && !$0.freshness.alwaysRevalidate ? .request : .stale } ?? lookup.forward
        var validators: [(name: String, value: String)] = []
        if let entry {
            if let etag = entry.etag { validators.append(("If-None-Match", etag)) }
            if let modified = entry.fields.first(named: "last-modified") { validators.append(("If-Modified-Since", modified)) }
        }
        switch request.source {
        case .signed(let target):
            return await exchangeSigned(request, target: target.url, lookup: lookup, forward: forward, validators: validators)
        case .route(let route, let url):
            return await exchangeRoute(request, route: route, url: url, lookup: lookup, forward: forward, validators: validators)
        }
    }

    private func exchangeSigned(
        _ request: CacheRequest,
        target: String,
        lookup: CacheLookup,
        forward: CacheStatus.Forward,
        validators: [(name: String, value: String)]
    ) async -> ProxyOutcome {
        let upstream: UpstreamResponse
        do {
            upstream = try await fetcher.fetch(
                target,
                validators: validators,
                forwardedFor: fetcher.configuration.forwardClientAddress ? request.clientAddress : nil,
                logger: logger
            )
        } catch {
            logger.info("fetch failed", metadata: ["url": "\(target)", "error": "\(error)"])
            // Only failures of the origin (not refusals such as a wrong content type) serve stale.
            let originFailed = error.status >= 500 && error.status != 508
            if originFailed, let stale = staleOnError(lookup.entry, status: error.upstreamStatus, forward: forward, detail: "\(error.code)") {
                return stale
            }
            var status = CacheStatus(forward: forward, detail: "\(error.code)")
            status.forwardStatus = error.upstreamStatus
            return .complete(errorResponse(error), status, isError: true)
        }
        let fields = upstream.headers
        if upstream.status == 304, let entry = lookup.entry {
            return freshen(entry, with: fields, request: request, lookup: lookup, forward: forward, times: (upstream.requestTime, upstream.responseTime)) {
                $0.filter { ProxyCore.passedFields.contains($0.name.lowercased()) }
            }
        }
        let decision = signedPolicy.evaluate(
            requestHeaders: [],
            status: upstream.status,
            headers: fields,
            requestTime: upstream.requestTime,
            responseTime: upstream.responseTime
        )
        var status = CacheStatus(forward: forward, forwardStatus: upstream.status)
        if let validation = configuration.signedValidation, lookup.entry != nil || decision.isStore {
            let body = upstream.body.readableBytes <= validation.validateMaxBytes ? upstream.body : nil
            if let failure = validation.validate(status: upstream.status, headers: upstream.headers, body: body) {
                recordInvalid(failure, request: request, url: target, status: upstream.status, body: upstream.body)
                return invalidOutcome(
                    failure, validation: validation, request: request, lookup: lookup, forward: forward, status: upstream.status
                ) { .complete(makeResponse(upstream, freshness: .uncached), status) }
            }
            clearBackoff(lookup.storeKey)
        }
        switch decision {
        case .store(let freshness):
            let response = makeResponse(upstream, freshness: freshness)
            status.stored = save(request.key, response, requestHeaders: [])
            if !status.stored { status.detail = "too-large-for-memory" }
            return .complete(response, status)
        case .doNotStore(let reason):
            invalidate(request.key)
            markHitForMiss(request.key, now: upstream.responseTime, seconds: request.overrides.hitForMiss)
            status.detail = reason
            return .complete(makeResponse(upstream, freshness: .uncached), status)
        }
    }

    /// Applies a `304` to a stored entry (RFC 9111 §4.3.4): merged fields, new freshness, same body.
    func freshen(
        _ entry: CachedResponse,
        with update: [(name: String, value: String)],
        request: CacheRequest,
        lookup: CacheLookup,
        forward: CacheStatus.Forward,
        times: (requestTime: Int64, responseTime: Int64),
        filter: ([(name: String, value: String)]) -> [(name: String, value: String)]
    ) -> ProxyOutcome {
        let merged = HeaderFields.merged(entry.fields, with: filter(HeaderFields.endToEnd(update)))
        let timing = update.filter { ["date", "age"].contains($0.name.lowercased()) }
        let decision = policy(for: request).evaluate(
            requestHeaders: request.headers,
            status: entry.status,
            headers: merged + timing,
            requestTime: times.requestTime,
            responseTime: times.responseTime
        )
        var status = CacheStatus(forward: forward, forwardStatus: 304)
        switch decision {
        case .store(let freshness):
            let response = CachedResponse(
                status: entry.status,
                fields: merged,
                body: entry.body,
                responseTime: times.responseTime,
                freshness: freshness,
                downstreamMaxAge: entry.downstreamMaxAge
            )
            status.stored = store.put(lookup.storeKey, response)
            return .complete(response, status)
        case .doNotStore(let reason):
            invalidate(request.key)
            status.detail = reason
            let response = CachedResponse(
                status: entry.status,
                fields: merged,
                body: entry.body,
                responseTime: times.responseTime,
                freshness: .uncached,
                downstreamMaxAge: 0
            )
            return .complete(response, status)
        }
    }

    /// A stale entry served because the origin failed, when its freshness allows it (RFC 5861 §4).
    func staleOnError(_ entry: CachedResponse?, status: Int?, forward: CacheStatus.Forward, detail: String)
        -> ProxyOutcome?
    {
        guard let entry, ReusePolicy.canServeOnError(entry.freshness, age: entry.age(at: UnixTime.now())) else { return nil }
        logger.info("serving stale on error", metadata: ["detail": "\(detail)"])
        return .complete(entry, CacheStatus(hit: true, forward: .stale, forwardStatus: status, detail: "stale-if-error"))
    }
}

extension ByteBuffer {
    /// The bytes in a buffer of exactly their size (an accumulating buffer's slack would cost cache memory).
    static func exact(_ buffer: ByteBuffer) -> ByteBuffer {
        guard buffer.capacity > buffer.readableBytes + buffer.readableBytes / 8 + 64 else { return buffer }
        var exact = ByteBufferAllocator().buffer(capacity: buffer.readableBytes)
        exact.writeImmutableBuffer(buffer)
        return exact
    }
}
