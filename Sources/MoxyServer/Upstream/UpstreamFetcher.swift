// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import AsyncHTTPClient
import Logging
import MoxyCache
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Fetches the targets of signed URLs safely: every hop's host and connected address are checked
/// against the ``AddressPolicy``, redirects are followed here (not by the HTTP client), and size,
/// type and time limits are enforced while the body streams.
public final class UpstreamFetcher: Sendable {
    let configuration: UpstreamConfiguration
    let client: HTTPClient
    let via: String
    let clock: MoxyClock

    /// Creates a fetcher whose HTTP client runs on the given event loops.
    /// - Parameters:
    ///   - configuration: Limits and policy.
    ///   - eventLoopGroup: The event loops for upstream connections.
    ///   - serverName: The token sent in `Via`.
    ///   - via: The whole `Via` value, when not `1.1 serverName` (camo and go-camo send the bare token).
    ///   - clock: The clock for request and response times.
    public init(
        configuration: UpstreamConfiguration,
        eventLoopGroup: any EventLoopGroup,
        serverName: String,
        via: String? = nil,
        clock: MoxyClock = .system
    ) {
        self.configuration = configuration
        self.via = via ?? "1.1 \(serverName)"
        self.clock = clock
        let policy = configuration.addressPolicy
        var clientConfiguration = configuration.clientConfiguration
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        // The address actually connected to is checked before any byte of the request is sent,
        // which also defeats DNS rebinding between a name check and the connect.
        clientConfiguration.http1_1ConnectionDebugInitializer = { channel in
            if let remote = channel.remoteAddress, let refused = policy.refusal(for: remote) {
                channel.close(promise: nil)
                return channel.eventLoop.makeFailedFuture(
                    ProxyError.addressRefused(refused)
                )
            }
            return QuickAckHandler.install(on: channel)
        }
        self.client = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: clientConfiguration)
    }

    /// Shuts the HTTP client down.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// Fetches a target URL, following redirects.
    /// - Parameters:
    ///   - url: The target URL exactly as signed.
    ///   - method: `GET`, or `HEAD` (the answer then has no body).
    ///   - validators: `If-None-Match` / `If-Modified-Since` fields for a revalidation; a `304` is then returned as is.
    ///   - forwardedFor: The client address for `X-Forwarded-For`, sent only when given.
    ///   - logger: Where to log.
    /// - Returns: The final, checked response; its body is read afterwards, within the size limit
    ///   and the total timeout.
    /// - Throws: ``ProxyError``.
    public func fetch(
        _ url: String,
        method: HTTPMethod = .GET,
        validators: [(name: String, value: String)] = [],
        forwardedFor: String? = nil,
        logger: Logger
    )
        async throws(ProxyError) -> UpstreamResponse
    {
        // The HTTP client's deadline covers the response head; the race covers resolution and
        // redirects too, and the body's reader checks the same deadline.
        let total = Duration.milliseconds(Int64(configuration.totalTimeout * 1000))
        do {
            return try await withThrowingTaskGroup(of: UpstreamResponse?.self) { group in
                group.addTask {
                    try await self.fetchFollowingRedirects(url, method: method, validators: validators, forwardedFor: forwardedFor, logger: logger)
                }
                group.addTask {
                    try await Task.sleep(for: total)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let response = first else {
                    throw ProxyError(.timeout, "upstream did not answer within \(configuration.totalTimeout) s")
                }
                return response
            }
        } catch {
            throw Self.mapError(error)
        }
    }

    private func fetchFollowingRedirects(
        _ url: String,
        method: HTTPMethod,
        validators: [(name: String, value: String)],
        forwardedFor: String?,
        logger: Logger
    ) async throws(ProxyError) -> UpstreamResponse {
        var url = url
        if configuration.allowCredentials, let plain = TargetURL.droppingUserInfo(url) { url = plain }
        guard var target = TargetURL(url) else {
            throw ProxyError(.invalidTarget, "target is not a fetchable http(s) URL")
        }
        let startedMilliseconds = clock.nowMilliseconds()
        let deadline = NIODeadline.now() + .milliseconds(Int64(configuration.totalTimeout * 1000))
        var redirects = 0
        while true {
            if let refusal = Self.refusal(
                of: target, isRedirect: redirects > 0, configuration: configuration, checkAddress: configuration.checksHostBeforeConnect)
            {
                throw refusal
            }
            try await checkHost(of: target)
            var request = HTTPClientRequest(url: target.text)
            request.method = method
            request.headers.add(name: "User-Agent", value: configuration.userAgent)
            request.headers.add(name: "Via", value: via)
            request.headers.add(name: "Accept", value: configuration.contentTypes.joined(separator: ", "))
            if redirects == 0 { for field in validators { request.headers.add(name: field.name, value: field.value) } }
            if let forwardedFor { request.headers.add(name: "X-Forwarded-For", value: forwardedFor) }
            let response: HTTPClientResponse
            do {
                response = try await client.execute(request, deadline: deadline, logger: logger)
            } catch where OriginForwarder.closedBeforeResponse(error) {
                // The origin closed a pooled connection as it was reused: one more try (a GET).
                do {
                    response = try await client.execute(request, deadline: deadline, logger: logger)
                } catch {
                    throw Self.mapError(error)
                }
            } catch {
                throw Self.mapError(error)
            }
            let status = Int(response.status.code)
            if [301, 302, 303, 307, 308].contains(status) {
                let next = try Self.redirectTarget(from: target, status: status, location: response.headers.first(name: "location"))
                redirects += 1
                guard redirects <= configuration.maxRedirects else {
                    throw ProxyError(.tooManyRedirects, "more than \(configuration.maxRedirects) redirects")
                }
                target = next
                continue
            }
            return try finish(response, status: status, target: target, startedMilliseconds: startedMilliseconds, deadline: deadline)
        }
    }

    private func finish(_ response: HTTPClientResponse, status: Int, target: TargetURL, startedMilliseconds: Int64, deadline: NIODeadline)
        throws(ProxyError) -> UpstreamResponse
    {
        let responseTime = clock.now()
        let requestTime = clock.requestTime(startedAt: startedMilliseconds, responseTime: responseTime)
        if status == 304 {
            return UpstreamResponse(
                status: 304,
                headers: response.headers.map { (name: $0.name, value: $0.value) },
                contentType: nil,
                body: ResponseBodyReader(response.body, limit: 0),
                requestTime: requestTime,
                responseTime: responseTime
            )
        }
        guard (200...299).contains(status) else {
            var error = ProxyError(.upstreamStatus, status: status >= 500 ? 502 : (status == 404 || status == 410 ? status : 404), "upstream answered \(status)")
            error.upstreamStatus = status
            throw error
        }
        let maxSize = configuration.maxObjectSize
        if let lengthText = response.headers.first(name: "content-length") {
            guard let length = Int(lengthText), length >= 0 else {
                throw ProxyError(.upstreamError, "upstream sent an invalid Content-Length")
            }
            guard length <= maxSize else {
                throw ProxyError(.tooLarge, "object is \(length) bytes, the limit is \(maxSize)")
            }
        }
        let contentTypes = response.headers["content-type"]
        guard contentTypes.count == 1, let contentType = MediaType(contentTypes[0]) else {
            throw ProxyError(.contentType, contentTypes.isEmpty ? "upstream sent no content type" : "malformed content type")
        }
        // Active content (HTML) only when listed by name, never through a wildcard such as */*.
        let active = ["text/html", "application/xhtml+xml"].contains("\(contentType.type)/\(contentType.subtype)")
        guard
            configuration.contentTypes.contains(where: {
                let pattern = $0.lowercased()
                return contentType.matches(pattern) && (!active || !pattern.contains("*"))
            })
        else {
            throw ProxyError(.contentType, "content type \(contentType.type)/\(contentType.subtype) is not allowed")
        }
        return UpstreamResponse(
            status: status,
            headers: response.headers.map { (name: $0.name, value: $0.value) },
            contentType: contentType,
            body: ResponseBodyReader(response.body, limit: maxSize, deadline: deadline),
            requestTime: requestTime,
            responseTime: responseTime
        )
    }

    /// The next hop of a redirect: the `Location` resolved against the current URL (a path-only
    /// `Location` keeps the scheme, host and port). Pure; the hop is then checked like the first URL.
    /// - Parameters:
    ///   - current: The URL that answered with a redirect.
    ///   - status: The redirect status.
    ///   - location: The `Location` field, if any.
    /// - Returns: The next URL.
    /// - Throws: ``ProxyError`` `bad-redirect` without a usable `Location`.
    public static func redirectTarget(from current: TargetURL, status: Int, location: String?) throws(ProxyError) -> TargetURL {
        guard let location else { throw ProxyError(.badRedirect, "upstream redirect \(status) has no Location") }
        guard let next = current.resolving(location) else {
            throw ProxyError(.badRedirect, "upstream redirect to an unsupported URL")
        }
        return next
    }

    /// Why a target (or redirect hop) is refused before any name resolution or connection: the
    /// filter rules, then the address policy on literal hosts and `localhost`-style names. Pure.
    /// - Parameters:
    ///   - target: The URL.
    ///   - isRedirect: Whether it is a redirect hop (for the message).
    ///   - configuration: The policy and rules.
    ///   - checkAddress: Whether to apply the address policy (tests turn it off to reach the connect-time check).
    /// - Returns: The refusal, or `nil` when the target may be resolved and tried.
    public static func refusal(
        of target: TargetURL,
        isRedirect: Bool,
        configuration: UpstreamConfiguration,
        checkAddress: Bool = true
    ) -> ProxyError? {
        if configuration.filter.refuses(target) {
            return ProxyError(.filtered, isRedirect ? "redirect target refused by the filter rules" : "target refused by the filter rules")
        }
        if checkAddress, let refused = configuration.addressPolicy.refusal(forHost: target.host) {
            return ProxyError.addressRefused(refused)
        }
        return nil
    }

    /// Refuses hosts whose literal address, name, or resolved addresses are in a refused class,
    /// before any connection is made.
    func checkHost(of target: TargetURL) async throws(ProxyError) {
        guard configuration.checksHostBeforeConnect else { return }
        let policy = configuration.addressPolicy
        if let refused = policy.refusal(forHost: target.host) {
            throw ProxyError.addressRefused(refused)
        }
        guard IPAddress(parsing: target.host) == nil else { return }
        let addresses: [IPAddress]
        do {
            addresses = try await HostResolver.resolve(target.host)
        } catch {
            throw ProxyError(.connectFailed, "cannot resolve \(target.host)")
        }
        guard !addresses.isEmpty else { throw ProxyError(.connectFailed, "cannot resolve \(target.host)") }
        if let refused = Self.refusal(forResolved: addresses, policy: policy) {
            throw ProxyError.addressRefused(refused)
        }
    }

    /// The class that refuses a name whose DNS answer has these addresses: any refused address
    /// refuses the name, whatever the others are (the HTTP client might connect to any of them;
    /// the connect-time check would catch it too, but an early refusal names the reason). Pure.
    public static func refusal(forResolved addresses: [IPAddress], policy: AddressPolicy) -> AddressClass? {
        addresses.lazy.compactMap { policy.refusal(for: $0) }.first
    }

    static func mapError(_ error: any Error) -> ProxyError {
        if let error = error as? ProxyError { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .readTimeout, .deadlineExceeded, .writeTimeout:
                return ProxyError(.timeout, "upstream timed out")
            case .remoteConnectionClosed:
                return ProxyError(.upstreamError, "upstream closed the connection")
            default:
                return ProxyError(.upstreamError, "upstream error: \(error)")
            }
        }
        if error is CancellationError { return ProxyError(.timeout, "upstream fetch cancelled") }
        // A connection that was established and then closed or reset is the upstream's error, not
        // a failure to reach it.
        if let error = error as? IOError, [ECONNRESET, EPIPE].contains(error.errnoCode) {
            return ProxyError(.upstreamError, "upstream closed the connection")
        }
        if let error = error as? ChannelError, [.ioOnClosedChannel, .eof, .outputClosed].contains(error) {
            return ProxyError(.upstreamError, "upstream closed the connection")
        }
        return ProxyError(.connectFailed, "could not reach upstream")
    }
}
