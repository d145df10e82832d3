// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import NIOCore
import NIOHTTP1

extension RequestDispatcher {
    /// A request to an origin route: cached (GET, HEAD, a method override the route caches) or
    /// passed through with both bodies streamed.
    func route(
        _ request: borrowing ClientRequest,
        source: CacheSource,
        target: Substring,
        host: String?,
        now: Int64,
        record: inout RequestRecord,
        eventLoop: any EventLoop,
        interim: InterimSinks
    ) -> Answer {
        // The route's settings are read only past a fresh hit: reading them copies the struct.
        record.note(source)
        guard request.method == .GET || request.method == .HEAD else {
            guard let route = source.route else { return error(ProxyError(.notFound, "no route for this path")) }
            if let length = request.contentLength, length > route.maxRequestBody {
                request.body?.finish(ProxyError(.requestTooLarge, "request body too large"))
                var answer = error(ProxyError(.requestTooLarge, "request body exceeds \(route.maxRequestBody) bytes"), profile: .moxy)
                answer.closes = true
                return answer
            }
            let continueFirst = request.body != nil && request.headers.first(name: "expect")?.lowercased() == "100-continue"
            return pass(request, source: source, route: route, target: target, host: host, record: &record, eventLoop: eventLoop, interim: interim,
                continueFirst: continueFirst)
        }
        let key = Router.routeKey(prefix: source.keyPrefix, usesHost: source.keyUsesHost, host: host, target: target)
        guard request.flags.contains(.methodOverride) else {
            // Request fields are read only when the entry varies on some.
            let lookup = proxy.tier.lookup(key, headers: { request.fields })
            if let hit = freshHit(lookup.entry, for: request, now: now, lifetimeCap: nil) { return hit }
            guard let route = source.route else { return error(ProxyError(.notFound, "no route for this path")) }
            return cached(
                request, fields: request.fields, source: source, route: route, target: target, key: key, lookup: lookup, now: now,
                record: &record, eventLoop: eventLoop, interim: interim)
        }
        guard let route = source.route else { return error(ProxyError(.notFound, "no route for this path")) }
        var fields = request.fields
        switch route.methodOverride.plan(fields) {
        case .cache: break
        case .strip: fields = MethodOverride.stripped(fields)
        case .bypass(let method):
            return pass(
                request, source: source, route: route, target: target, host: host, record: &record, eventLoop: eventLoop, interim: interim,
                override: true,
                invalidatingAs: method)
        }
        let lookup = proxy.tier.lookup(key, headers: { fields })
        return cached(
            request, fields: fields, source: source, route: route, target: target, key: key, lookup: lookup, now: now, record: &record,
            eventLoop: eventLoop, interim: interim)
    }

    /// A route's request that is no fresh hit: the planner decides between the stored entry and
    /// the upstream.
    private func cached(
        _ request: borrowing ClientRequest,
        fields: [(name: String, value: String)],
        source: CacheSource,
        route: RouteConfiguration,
        target: Substring,
        key: String,
        lookup: CacheLookup,
        now: Int64,
        record: inout RequestRecord,
        eventLoop: any EventLoop,
        interim: InterimSinks
    ) -> Answer {
        let cacheRequest = CacheRequest(
            source: source,
            url: route.upstreamURL(for: target),
            key: key,
            headers: fields,
            directives: directives(request, route.cache),
            clientAddress: remoteAddress,
            clientSecure: secure,
            trace: record.startTrace(proxy.accessLog != nil)
        )
        return fromCache(request, cacheRequest, lookup: lookup, now: now, lifetimeCap: nil, record: &record, eventLoop: eventLoop, interim: interim)
    }

    /// Forwards a request that bypasses the cache (other methods, or a method override), with
    /// both bodies streamed.
    private func pass(
        _ request: borrowing ClientRequest,
        source: CacheSource,
        route: RouteConfiguration,
        target: Substring,
        host: String?,
        record: inout RequestRecord,
        eventLoop: any EventLoop,
        interim: InterimSinks,
        continueFirst: Bool = false,
        override: Bool = false,
        invalidatingAs: HTTPMethod? = nil
    ) -> Answer {
        let passing = PassThrough.Request(
            method: request.method,
            source: source,
            target: target,
            host: host,
            headers: request.fields,
            clientAddress: remoteAddress,
            clientSecure: secure,
            body: request.body,
            contentLength: request.contentLength,
            interim: interim(route),
            overriddenAs: invalidatingAs,
            isOverride: override,
            trace: record.startTrace(proxy.accessLog != nil)
        )
        let promise = eventLoop.makePromise(of: ProxyOutcome.self)
        let proxy = self.proxy
        proxy.background.submit {
            promise.succeed(await proxy.passThrough.pass(passing))
        } refused: {
            passing.body?.finish(ResponseRenderer.stopped)
            promise.succeed(proxy.renderer.stoppedOutcome(profile: .moxy))
        }
        return Answer(kind: .later(promise.futureResult, continueFirst: continueFirst), cacheStatus: "")
    }
}
