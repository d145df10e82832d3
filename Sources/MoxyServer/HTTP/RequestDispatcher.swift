// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxySigning
import NIOCore
import NIOHTTP1

/// Decides what one request is answered with, and returns it as one ``Answer``: limits and loops,
/// routing, the signature, the one hit path, the planner's choice between a stored entry and the
/// upstream. It writes nothing (the connection's writer does), so it is tested without a channel.
/// One per connection: it keeps the settings the connection reads, reread only after a reload.
final class RequestDispatcher {
    let proxy: Proxy
    /// The client's address (`X-Forwarded-For`, the access log).
    var remoteAddress: String?
    /// Whether the client connected over TLS (`X-Forwarded-Proto`).
    var secure = false
    /// The settings the request being handled is answered under (read once per request, so a
    /// reload never changes them halfway).
    private(set) var settings: ProxySettings
    /// The generation of ``settings`` (see ``Proxy/settings(ifReplacedSince:)``); -1: the first
    /// request rereads them once, then only after a reload.
    private var generation = -1

    /// Where a route's interim responses go, for a request that goes upstream (nil: nowhere).
    typealias InterimSinks = (RouteConfiguration) -> (@Sendable (HTTPResponseHead) -> Void)?

    init(proxy: Proxy) {
        self.proxy = proxy
        self.settings = proxy.settings
    }

    /// Rereads the settings when a reload replaced them (an atomic load otherwise).
    @inline(__always)
    func refreshSettings() {
        if let replaced = proxy.settings(ifReplacedSince: &generation) { settings = replaced }
    }

    /// The answer to a request.
    /// - Parameters:
    ///   - record: Notes what the request was routed to, for metrics and the access log.
    ///   - eventLoop: Where an upstream answer is delivered.
    ///   - interim: Where a route's interim responses go, made only for a request that goes upstream.
    func dispatch(
        _ request: borrowing ClientRequest,
        now: Int64,
        record: inout RequestRecord,
        eventLoop: any EventLoop,
        interim: InterimSinks
    ) -> Answer {
        refreshSettings()
        let settings = self.settings
        if let error = RequestPlanner.limitRefusal(
            uriBytes: request.uri.utf8.count, headerCount: request.headers.count, headerBytes: request.headerBytes, limits: settings.limits
        ) {
            // The rest of such a request cannot be trusted: answer and close.
            var answer = self.error(error, profile: .moxy)
            answer.closes = true
            return answer
        }
        if request.flags.contains(.via), proxy.configuration.compatProfile.isLoop(request.headers["via"], token: proxy.configuration.serverName) {
            return self.error(ProxyError(.loopDetected, "request loop detected"))
        }
        let host = request.headers.first(name: "host")
        switch settings.router.resolve(Substring(request.uri), host: host) {
        case .route(let source, let target):
            return route(request, source: source, target: target, host: host, now: now, record: &record, eventLoop: eventLoop, interim: interim)
        case .signed(let path):
            return signed(request, path: path, now: now, record: &record, eventLoop: eventLoop)
        case .notFound:
            return error(ProxyError(.notFound, "no route for this path"))
        }
    }

    /// An error answer, rendered for the compat profile (or `profile`).
    func error(_ error: ProxyError, profile: CompatProfile? = nil) -> Answer {
        Answer(kind: .response(proxy.renderer.error(error, profile: profile)), cacheStatus: CacheStatus(.answered("\(error.code)")).value())
    }

    /// The one hit path of both modes (signed URLs and routes): a fresh entry in memory for a
    /// plain request is answered at once (pre-encoded head, `Age`, `Cache-Status`), before any
    /// upstream work is prepared. Anything else (a condition, a range, request directives, a
    /// stale or disk entry, `Cache-Status` with the key) goes to the planner.
    @inline(__always)
    func freshHit(_ entry: CachedResponse?, for request: borrowing ClientRequest, now: Int64, lifetimeCap: Int64?) -> Answer? {
        guard let entry, entry.externalBody == nil, request.flags.isDisjoint(with: [.directives, .conditional, .range]),
            entry.isFresh(at: now), !entry.freshness.alwaysRevalidate, !settings.configuration.cacheStatusKey
        else { return nil }
        return .hit(entry, lifetimeCap: lifetimeCap)
    }

    /// The request's cache directives, when its source honours them.
    func directives(_ request: borrowing ClientRequest, _ overrides: CacheOverrides) -> RequestDirectives {
        guard overrides.honorRequestDirectives, request.flags.contains(.directives) else { return .none }
        return RequestDirectives(headers: request.fields)
    }

    /// A stored entry when the planner allows it, else the upstream's answer (later).
    func fromCache(
        _ request: borrowing ClientRequest,
        _ cacheRequest: CacheRequest,
        lookup: CacheLookup,
        now: Int64,
        lifetimeCap: Int64?,
        record: inout RequestRecord,
        eventLoop: any EventLoop,
        interim: InterimSinks
    ) -> Answer {
        // The key's backoff (a lock) is read only for an entry that would go forward.
        let keys = proxy.keys
        let clock = proxy.clock
        let plan = RequestPlanner.plan(
            entry: lookup.entry,
            directives: cacheRequest.directives,
            validation: cacheRequest.source.validation,
            backoff: { keys.backoff(lookup.storeKey, nowMilliseconds: clock.nowMilliseconds()) },
            now: now
        )
        let withKey = settings.configuration.cacheStatusKey
        switch plan {
        case .serve(let entry, var status), .serveAndRefresh(let entry, var status):
            if case .serveAndRefresh = plan { proxy.exchange.refreshInBackground(cacheRequest, lookup: lookup) }
            if withKey { status.key = cacheRequest.key }
            if entry.externalBody != nil, case .hit = status.outcome { status.outcome = .hit(.disk) }
            record.note(status)
            return Answer(kind: .stored(entry), cacheStatus: status.value(), lifetimeCap: lifetimeCap)
        case .fail(let error):
            return self.error(error)
        case .fetch:
            break
        }
        // Made only when the request goes upstream: a hit needs no sink for interim responses.
        var forwarded = cacheRequest
        if let route = forwarded.source.route { forwarded.interim = interim(route) }
        let cacheRequest = forwarded
        var future =
            request.isHead
            ? proxy.exchange.fetchHead(cacheRequest, lookup: lookup, on: eventLoop)
            : proxy.exchange.fetch(cacheRequest, lookup: lookup, on: eventLoop)
        if withKey {
            future = future.map { outcome in
                var outcome = outcome
                outcome.cacheStatus.key = cacheRequest.key
                return outcome
            }
        }
        return Answer(kind: .later(future, continueFirst: false), cacheStatus: "", lifetimeCap: lifetimeCap)
    }

    static func proxyError(for error: SigningError) -> ProxyError {
        switch error.code {
        case .malformedPath: ProxyError(.notFound, "not a Moxy URL")
        case .expired: ProxyError(.expired, "expired")
        case .invalidTarget: ProxyError(.invalidTarget, "signed target is not a fetchable http(s) URL")
        case .unknownKey: ProxyError(.badSignature, "unknown key id")
        default: ProxyError(.badSignature, "bad signature")
        }
    }
}
