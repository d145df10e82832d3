// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import MoxyCache
import MoxyValidation
import NIOCore

/// The decisions of one trip to the upstream, in both modes, as a state machine without I/O.
///
/// The spine (``CacheExchange``) feeds it what happened (the upstream failed, its head arrived,
/// its body was read) and executes the ``Step`` it returns: an ``Action`` and the per-key
/// ``Effect``s that go with it. Everything here is a pure function of the inputs and `now`, so it
/// is tested without sockets or sleeps (`ExchangeMachineTests`).
struct ExchangeMachine {
    /// What the spine does next.
    enum Action {
        /// Answer with a stored response (stale-if-error, or the last good one); nothing is stored.
        case serveStored(CachedResponse, CacheStatus)
        /// The upstream confirmed the stored entry (`304`): merge its fields and freshen it.
        case freshen(CachedResponse, CacheStatus)
        /// The `304` was for another representation: ask again, without validators.
        case refetch
        /// Read the body, up to `bound` bytes, then call ``receivedBody(_:contentLength:now:)``.
        case readBody(bound: Int)
        /// Store the response with this freshness and answer with it.
        case store(Freshness, CacheStatus)
        /// The body is larger than what is held in memory: stream it to the disk tier and answer
        /// from the growing file.
        case streamToDisk(Freshness, CacheStatus)
        /// Pass the upstream's response on, uncached.
        case pass(CacheStatus)
        /// Answer with an error made by Moxy.
        case fail(ProxyError, CacheStatus)
    }

    /// What a step changes besides the answer.
    enum Effect: Equatable {
        /// Remove every stored response for the primary key.
        case invalidate
        /// Let requests for the key go upstream in parallel until then (Unix seconds).
        case markHitForMiss(until: Int64)
        /// Leave the upstream alone for the key for a while (the delay doubles per failure),
        /// answering with the last good entry for this reason.
        case backOff(StandIn)
        /// A valid answer arrived: the key's back-off ends.
        case clearBackoff
        /// Count and log one invalid response.
        case recordInvalid(ValidationFailure)
    }

    /// An action and its effects.
    struct Step {
        var action: Action
        var effects: [Effect] = []
    }

    /// Where the machine is.
    enum State {
        /// Waiting for the upstream's head.
        case waitingForHead
        /// The head arrived; its body is being read.
        case readingBody(status: Int, fields: [(name: String, value: String)], decision: StoragePolicy.Decision, responseTime: Int64)
        /// An action that ends the exchange was returned.
        case done
    }

    /// The facts that do not change during the exchange.
    struct Inputs {
        /// The stored response for the request, fresh or not.
        var entry: CachedResponse?
        /// Why the request went forward.
        var forward: CacheStatus.Forward
        /// The source's storage policy.
        var policy: StoragePolicy
        /// The source's validation rules (`nil`: none).
        var validation: ValidationConfiguration?
        /// The client's request fields (for `Authorization` and `Vary`).
        var requestHeaders: [(name: String, value: String)]
        /// Seconds a non-storable key goes upstream without coalescing (0: never).
        var hitForMiss: Int64
        /// The largest body that may be stored.
        var storeLimit: Int
        /// The largest body read into memory before it is stored; a larger storable one streams
        /// to disk (when ``streamsToDisk``), or passes.
        var memoryLimit: Int
        /// Whether there is a disk tier to stream large bodies to.
        var streamsToDisk: Bool
    }

    private(set) var state = State.waitingForHead
    private(set) var inputs: Inputs

    init(_ inputs: Inputs) {
        self.inputs = inputs
    }

    /// The upstream could not be reached, timed out, refused the target or sent an error that the
    /// upstream client turned into one.
    mutating func upstreamFailed(_ error: ProxyError, now: Int64) -> Step {
        state = .done
        // Only failures of the origin (not refusals such as a wrong content type) serve stale.
        if error.status >= 500, error.status != 508, let entry = inputs.entry,
            ReusePolicy.canServeOnError(entry.freshness, age: entry.age(at: now))
        {
            return Step(action: .serveStored(entry, Self.staleIfError(error.upstreamStatus)))
        }
        if error.status >= 500, error.status != 508, let validation = inputs.validation, let good = Self.lastGood(inputs.entry, validation, now: now) {
            // An unreachable or failing upstream is no reason to drop the last good answer either.
            let standIn = StandIn.failed(error)
            let status = CacheStatus(.lastGood(standIn.reason), forward: inputs.forward, forwardStatus: standIn.upstreamStatus)
            return Step(action: .serveStored(good, status), effects: [.backOff(standIn)])
        }
        var status = CacheStatus(.notStored(.error("\(error.code)")), forward: inputs.forward)
        status.forwardStatus = error.upstreamStatus
        return Step(action: .fail(error, status))
    }

    /// The upstream's head arrived.
    mutating func receivedHead(
        status: Int,
        fields: [(name: String, value: String)],
        requestTime: Int64,
        responseTime: Int64,
        now: Int64
    ) -> Step {
        guard case .waitingForHead = state else { preconditionFailure("head after \(state)") }
        if status == 304, let entry = inputs.entry {
            if let etag = fields.first(named: "etag"), let stored = entry.etag, !Validators.weakMatch(etag, stored) {
                // The 304 is for another representation (§4.3.4): fetch the whole one instead.
                inputs.entry = nil
                return Step(action: .refetch)
            }
            state = .done
            // A 304 confirms the stored entry: valid by construction.
            return Step(action: .freshen(entry, CacheStatus(.notStored(nil), forward: inputs.forward, forwardStatus: 304)), effects: [.clearBackoff])
        }
        let decision = inputs.policy.evaluate(
            requestHeaders: inputs.requestHeaders,
            status: status,
            headers: fields,
            requestTime: requestTime,
            responseTime: responseTime
        )
        var cacheStatus = CacheStatus(.notStored(nil), forward: inputs.forward, forwardStatus: status)
        // Rules apply to what would be stored or would replace (or remove) the stored entry.
        let validation = activeValidation(decision)
        if let validation, let failure = validation.validateHead(status: status, headers: fields) {
            state = .done
            return invalid(failure, validation, status: status, responseTime: responseTime, now: now)
        }
        if status >= 500, let entry = inputs.entry {
            state = .done
            if ReusePolicy.canServeOnError(entry.freshness, age: entry.age(at: now)) {
                return Step(action: .serveStored(entry, Self.staleIfError(status)))
            }
            // A server error never replaces a stored response, whatever its own freshness says:
            // pass it on uncached and keep the entry for the next attempt.
            cacheStatus.outcome = .notStored(.keptStored)
            return Step(action: .pass(cacheStatus))
        }
        if validation == nil, case .doNotStore(let reason) = decision {
            state = .done
            cacheStatus.outcome = .notStored(.policy(reason))
            return Step(action: .pass(cacheStatus), effects: notStorable(status: status, reason: reason, responseTime: responseTime))
        }
        state = .readingBody(status: status, fields: fields, decision: decision, responseTime: responseTime)
        // Buffer what may be stored, and what the rules need to see (nothing when they only look
        // at the status and fields).
        let storeBound = decision.isStore ? min(inputs.storeLimit, inputs.memoryLimit) : 0
        let validationBound = validation.map { $0.needsBody ? $0.validateMaxBytes : 0 } ?? 0
        return Step(action: .readBody(bound: max(storeBound, validationBound)))
    }

    /// What was read of the body: all of it (`complete`), or more than the bound.
    enum BodyRead {
        /// The whole body.
        case complete(ByteBuffer)
        /// More than the bound; what was read so far (the rest is still upstream).
        case partial(ByteBuffer)

        /// The bytes read.
        var bytes: ByteBuffer {
            switch self {
            case .complete(let body), .partial(let body): body
            }
        }
    }

    /// The body was read up to the bound of ``Action/readBody(bound:)``.
    /// - Parameters:
    ///   - read: What was read.
    ///   - contentLength: The upstream's `Content-Length`, if it sent one.
    ///   - now: Unix seconds.
    mutating func receivedBody(_ read: BodyRead, contentLength: Int?, now: Int64) -> Step {
        guard case .readingBody(let status, let fields, let decision, let responseTime) = state else {
            preconditionFailure("body in \(state)")
        }
        state = .done
        var cacheStatus = CacheStatus(.notStored(nil), forward: inputs.forward, forwardStatus: status)
        if case .complete(let body) = read, let contentLength, contentLength != body.readableBytes {
            // An incomplete body is never stored as complete (§3.3).
            return Step(
                action: .fail(ProxyError(.upstreamError, "upstream body was incomplete"), CacheStatus(.notStored(.incomplete), forward: inputs.forward))
            )
        }
        var effects: [Effect] = []
        if let validation = activeValidation(decision) {
            var whole: ByteBuffer? = nil
            if case .complete(let body) = read, body.readableBytes <= validation.validateMaxBytes { whole = body }
            if let failure = validation.validate(status: status, headers: fields, body: whole, headChecked: true) {
                return invalid(failure, validation, status: status, responseTime: responseTime, now: now)
            }
            effects.append(.clearBackoff)
        }
        guard let freshness = decision.freshness else {
            guard case .doNotStore(let reason) = decision else { preconditionFailure("no freshness to store with") }
            cacheStatus.outcome = .notStored(.policy(reason))
            return Step(action: .pass(cacheStatus), effects: effects + notStorable(status: status, reason: reason, responseTime: responseTime))
        }
        switch read {
        case .complete(let body) where body.readableBytes <= inputs.storeLimit:
            return Step(action: .store(freshness, cacheStatus), effects: effects)
        case .partial where inputs.streamsToDisk && (contentLength ?? 0) <= inputs.storeLimit:
            // The download enforces the limit on a body of unknown length as it arrives.
            cacheStatus.outcome = .stored(.streamed)
            return Step(action: .streamToDisk(freshness, cacheStatus), effects: effects)
        default:
            cacheStatus.outcome = .notStored(.tooLarge)
            return Step(action: .pass(cacheStatus), effects: effects)
        }
    }

    /// The validation that applies: only to responses that would be stored, or would replace or
    /// remove the stored entry.
    private func activeValidation(_ decision: StoragePolicy.Decision) -> ValidationConfiguration? {
        guard let validation = inputs.validation, decision.isStore || inputs.entry != nil else { return nil }
        return validation
    }

    /// Reasons not to store that come from the request (its `no-store`, its credentials), not from
    /// the resource: they say nothing about what other clients get, so they neither remove the
    /// stored entry (a client could evict it at will) nor mark the key hit-for-miss.
    static let requestReasons: Set<StoragePolicy.Refusal> = [.requestNoStore, .authorization]

    /// A response that may not be stored: it removes what is stored unless it is a server error
    /// (which never replaces a stored response), and the key skips coalescing for a while.
    private func notStorable(status: Int, reason: StoragePolicy.Refusal, responseTime: Int64) -> [Effect] {
        guard !Self.requestReasons.contains(reason) else { return [] }
        var effects: [Effect] = []
        if status < 500 { effects.append(.invalidate) }
        if inputs.hitForMiss > 0 { effects.append(.markHitForMiss(until: responseTime + inputs.hitForMiss)) }
        return effects
    }

    /// What the client gets when the upstream's response failed validation: the last good entry
    /// when there is one (and the key backs off), else the source's `on_invalid` choice.
    private func invalid(
        _ failure: ValidationFailure,
        _ validation: ValidationConfiguration,
        status: Int,
        responseTime: Int64,
        now: Int64
    ) -> Step {
        let standIn = StandIn.invalid(failure, status: status)
        if let good = Self.lastGood(inputs.entry, validation, now: now) {
            let cacheStatus = CacheStatus(.lastGood(standIn.reason), forward: inputs.forward, forwardStatus: status)
            return Step(action: .serveStored(good, cacheStatus), effects: [.recordInvalid(failure), .backOff(standIn)])
        }
        var effects: [Effect] = [.recordInvalid(failure)]
        if inputs.hitForMiss > 0 { effects.append(.markHitForMiss(until: now + inputs.hitForMiss)) }
        let cacheStatus = CacheStatus(.notStored(.invalid(standIn.reason)), forward: inputs.forward, forwardStatus: status)
        switch validation.onInvalid {
        case .pass:
            return Step(action: .pass(cacheStatus), effects: effects)
        case .error:
            let error = ProxyError(.invalidResponse, "upstream response failed validation (\(failure.rule))")
            return Step(action: .fail(error, cacheStatus), effects: effects)
        }
    }

    /// The stored entry when it may still answer as the last known good one.
    static func lastGood(_ entry: CachedResponse?, _ validation: ValidationConfiguration, now: Int64) -> CachedResponse? {
        guard let entry, entry.variantGeneration == nil,
            ReusePolicy.canServeLastGood(entry.freshness, age: entry.age(at: now), keepLastGood: validation.keepLastGood)
        else { return nil }
        return entry
    }

    private static func staleIfError(_ upstreamStatus: Int?) -> CacheStatus {
        CacheStatus(.stale(.ifError), forward: .stale, forwardStatus: upstreamStatus)
    }
}

extension ExchangeMachine {
    /// A stored response updated by a `304` (RFC 9111 §4.3.4): merged fields, new freshness, same
    /// body. The decision says whether the merged response may still be stored.
    /// - Parameters:
    ///   - entry: The stored response.
    ///   - update: The `304`'s fields as the source keeps them.
    ///   - received: The `304`'s fields as received (for `Date` and `Age`).
    ///   - policy: The source's storage policy.
    ///   - requestHeaders: The client's fields.
    ///   - requestTime: Unix seconds when the request was sent.
    ///   - responseTime: Unix seconds when the `304` arrived.
    static func freshened(
        _ entry: CachedResponse,
        update: [(name: String, value: String)],
        received: [(name: String, value: String)],
        policy: StoragePolicy,
        requestHeaders: [(name: String, value: String)],
        requestTime: Int64,
        responseTime: Int64
    ) -> (response: CachedResponse, decision: StoragePolicy.Decision) {
        // The stored Date gives way to the 304's (or to the time it arrived): the entry is as old as
        // the validation says, not as the first response.
        var merged = HeaderFields.merged(entry.fields, with: update).filter { $0.name.lowercased() != "date" }
        merged.insert(ResponseRenderer.date(received, responseTime: responseTime), at: 0)
        let timing = received.filter { $0.name.lowercased() == "age" }
        let decision = policy.evaluate(
            requestHeaders: requestHeaders,
            status: entry.status,
            headers: merged + timing,
            requestTime: requestTime,
            responseTime: responseTime
        )
        let freshness = decision.freshness ?? .uncached
        let downstreamMaxAge = decision.isStore ? entry.downstreamMaxAge : 0
        // The encoded forms keep their bodies and take the merged fields and the new freshness too.
        let encoded = entry.encoded.compactMap { form -> CachedResponse? in
            guard let coding = form.coding else { return nil }
            return CachedResponse(
                status: entry.status,
                fields: ResponseCompression.encodedFields(merged, coding),
                body: form.body,
                responseTime: responseTime,
                freshness: freshness,
                downstreamMaxAge: downstreamMaxAge,
                varyNames: entry.varyNames,
                coding: coding,
                surrogateKeys: entry.surrogateKeys
            )
        }
        let response = CachedResponse(
            status: entry.status,
            fields: merged,
            body: entry.body,
            responseTime: responseTime,
            freshness: freshness,
            downstreamMaxAge: downstreamMaxAge,
            varyNames: entry.varyNames,
            encoded: encoded,
            externalBody: entry.externalBody,
            surrogateKeys: entry.surrogateKeys
        )
        return (response, decision)
    }
}
