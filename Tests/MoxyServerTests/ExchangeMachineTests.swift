// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import MoxyCache
@testable import MoxyServer
import MoxyValidation
import NIOCore
import Testing

/// The spine's decisions, without sockets or sleeps: every input is given, `now` included.
@Suite struct ExchangeMachineTests {
    static let now: Int64 = 1_800_000_000

    static func entry(maxAge: Int64 = 60, age: Int64 = 0, etag: String? = "\"v1\"", staleIfError: Int64 = 0) -> CachedResponse {
        var fields: [(name: String, value: String)] = [("Cache-Control", "max-age=\(maxAge)")]
        if let etag { fields.append(("ETag", etag)) }
        return CachedResponse(
            status: 200,
            fields: fields,
            body: ByteBuffer(string: "good"),
            responseTime: now - age,
            freshness: Freshness(lifetime: maxAge, initialAge: 0, isExplicit: true, staleIfError: staleIfError),
            downstreamMaxAge: maxAge
        )
    }

    static func machine(
        entry: CachedResponse? = nil,
        validation: ValidationConfiguration? = nil,
        hitForMiss: Int64 = 30,
        storeLimit: Int = 1 << 20,
        memoryLimit: Int = 1 << 20,
        streamsToDisk: Bool = false,
        overrides: CacheOverrides = CacheOverrides()
    ) -> ExchangeMachine {
        ExchangeMachine(
            .init(
                entry: entry,
                forward: entry == nil ? .uriMiss : .stale,
                policy: StoragePolicy(overrides: overrides),
                validation: validation,
                requestHeaders: [],
                hitForMiss: hitForMiss,
                storeLimit: storeLimit,
                memoryLimit: memoryLimit,
                streamsToDisk: streamsToDisk
            )
        )
    }

    static let json = ValidationConfiguration(rules: [ValidationRule(name: "json", check: .json)])
    static let only200 = ValidationConfiguration(rules: [ValidationRule(name: "ok", check: .status([200]))])

    func head(_ machine: inout ExchangeMachine, _ status: Int, _ fields: [(name: String, value: String)]) -> ExchangeMachine.Step {
        machine.receivedHead(status: status, fields: fields, requestTime: Self.now, responseTime: Self.now, now: Self.now)
    }

    @Test func aStorableAnswerIsReadThenStored() {
        var machine = Self.machine()
        let step = head(&machine, 200, [("Cache-Control", "max-age=60")])
        guard case .readBody(let bound) = step.action else { Issue.record("expected readBody, got \(step.action)"); return }
        #expect(bound == 1 << 20)
        let body = machine.receivedBody(.complete(ByteBuffer(string: "abc")), contentLength: 3, now: Self.now)
        guard case .store(let freshness, let status) = body.action else { Issue.record("expected store, got \(body.action)"); return }
        #expect(freshness.lifetime == 60)
        #expect(status.forward == .uriMiss && status.forwardStatus == 200)
        #expect(body.effects.isEmpty)
    }

    @Test func aNonStorableAnswerPassesInvalidatesAndMarksHitForMiss() {
        var machine = Self.machine(entry: Self.entry(age: 120))
        let step = head(&machine, 200, [("Cache-Control", "no-store")])
        guard case .pass(let status) = step.action else { Issue.record("expected pass, got \(step.action)"); return }
        #expect(status.detail == "no-store")
        #expect(step.effects == [.invalidate, .markHitForMiss(until: Self.now + 30)])
    }

    @Test func hitForMissZeroMarksNothing() {
        var machine = Self.machine(hitForMiss: 0)
        let step = head(&machine, 200, [("Cache-Control", "private")])
        #expect(step.effects == [.invalidate])
    }

    /// Both modes now agree: a server error never invalidates (signed URLs used to).
    @Test func aServerErrorKeepsTheStoredEntryAndPassesUncached() {
        var machine = Self.machine(entry: Self.entry(age: 120))
        let step = head(&machine, 503, [])
        guard case .pass(let status) = step.action else { Issue.record("expected pass, got \(step.action)"); return }
        #expect(status.detail == "kept-stored")
        #expect(!step.effects.contains(.invalidate))
    }

    @Test func aServerErrorWithinStaleIfErrorServesTheEntry() {
        let entry = Self.entry(age: 70, staleIfError: 60)
        var machine = Self.machine(entry: entry)
        let step = head(&machine, 500, [])
        guard case .serveStored(let served, let status) = step.action else { Issue.record("expected serveStored"); return }
        #expect(served === entry)
        #expect(status.value() == "moxy; hit; fwd=stale; fwd-status=500; detail=stale-if-error")
    }

    @Test func aClientErrorOnRevalidationReplacesNothingButInvalidates() {
        // A 404 for a stored URI is the new truth (storable by heuristics); a 500 is not.
        var machine = Self.machine(entry: Self.entry(age: 120))
        let step = head(&machine, 404, [("Cache-Control", "no-store")])
        #expect(step.effects.contains(.invalidate))
        var other = Self.machine(entry: Self.entry(age: 120))
        #expect(!head(&other, 500, []).effects.contains(.invalidate))
    }

    @Test func anUpstreamFailureServesStaleOnlyForOriginFailures() {
        let entry = Self.entry(age: 70, staleIfError: 60)
        var failed = Self.machine(entry: entry)
        guard case .serveStored = failed.upstreamFailed(ProxyError(.connectFailed, "x"), now: Self.now).action else {
            Issue.record("connect failure should serve stale")
            return
        }
        var refused = Self.machine(entry: entry)
        guard case .fail(let error, let status) = refused.upstreamFailed(ProxyError(.contentType, "x"), now: Self.now).action else {
            Issue.record("a refusal is not an origin failure")
            return
        }
        #expect(error.code == .contentType && status.detail == "content-type")
        var loop = Self.machine(entry: entry)
        guard case .fail = loop.upstreamFailed(ProxyError(.loopDetected, "x"), now: Self.now).action else {
            Issue.record("508 is not an origin failure")
            return
        }
    }

    @Test func anUpstreamFailurePastTheWindowFails() {
        var machine = Self.machine(entry: Self.entry(age: 200, staleIfError: 60))
        var error = ProxyError(.upstreamStatus, status: 502, "upstream answered 503")
        error.upstreamStatus = 503
        guard case .fail(_, let status) = machine.upstreamFailed(error, now: Self.now).action else { Issue.record("expected fail"); return }
        #expect(status.value() == "moxy; fwd=stale; fwd-status=503; detail=upstream-status")
    }

    @Test func a304FreshensAndEndsTheBackoff() {
        let entry = Self.entry(age: 120)
        var machine = Self.machine(entry: entry)
        let step = head(&machine, 304, [("ETag", "\"v1\"")])
        guard case .freshen(let freshened, let status) = step.action else { Issue.record("expected freshen"); return }
        #expect(freshened === entry && status.forwardStatus == 304)
        #expect(step.effects == [.clearBackoff])
    }

    /// §4.3.4: a 304 whose strong validator does not match the stored one is for another representation.
    @Test func a304ForAnotherRepresentationRefetchesWithoutTheEntry() {
        var machine = Self.machine(entry: Self.entry(age: 120))
        guard case .refetch = head(&machine, 304, [("ETag", "\"v2\"")]).action else { Issue.record("expected refetch"); return }
        #expect(machine.inputs.entry == nil)
        // The refetched answer is then decided as a miss: a 503 is passed on, not "kept-stored".
        guard case .pass(let status) = head(&machine, 503, []).action else { Issue.record("expected pass"); return }
        #expect(status.detail == "no-freshness")
    }

    @Test func anIncompleteBodyFailsAndIsNotStored() {
        var machine = Self.machine()
        _ = head(&machine, 200, [("Cache-Control", "max-age=60"), ("Content-Length", "10")])
        guard case .fail(let error, let status) = machine.receivedBody(.complete(ByteBuffer(string: "abc")), contentLength: 10, now: Self.now).action
        else { Issue.record("expected fail"); return }
        #expect(error.code == .upstreamError && status.detail == "incomplete")
    }

    @Test func aBodyOverTheStoreLimitPasses() {
        var machine = Self.machine(storeLimit: 2)
        let step = head(&machine, 200, [("Cache-Control", "max-age=60")])
        guard case .readBody(let bound) = step.action else { Issue.record("expected readBody"); return }
        #expect(bound == 2)
        guard case .pass(let status) = machine.receivedBody(.partial(ByteBuffer(string: "abc")), contentLength: nil, now: Self.now).action
        else { Issue.record("expected pass"); return }
        #expect(status.detail == "too-large")
    }

    /// With a disk tier, a storable body past what memory holds streams to disk, up to the store
    /// limit; without one, or past the limit, it passes.
    @Test func aBodyOverTheMemoryLimitStreamsToDiskWithinTheStoreLimit() {
        var machine = Self.machine(storeLimit: 100, memoryLimit: 2, streamsToDisk: true)
        guard case .readBody(let bound) = head(&machine, 200, [("Cache-Control", "max-age=60")]).action else {
            Issue.record("expected readBody")
            return
        }
        #expect(bound == 2, "only what memory holds is read before deciding")
        let step = machine.receivedBody(.partial(ByteBuffer(string: "abc")), contentLength: nil, now: Self.now)
        guard case .streamToDisk(let freshness, let status) = step.action else { Issue.record("expected streamToDisk, got \(step.action)"); return }
        #expect(freshness.lifetime == 60 && status.stored && status.detail == "streamed")

        var announced = Self.machine(storeLimit: 100, memoryLimit: 2, streamsToDisk: true)
        _ = head(&announced, 200, [("Cache-Control", "max-age=60"), ("Content-Length", "101")])
        guard case .pass(let tooLarge) = announced.receivedBody(.partial(ByteBuffer()), contentLength: 101, now: Self.now).action else {
            Issue.record("expected pass")
            return
        }
        #expect(tooLarge.detail == "too-large", "a length over the store limit is known at once")

        var withoutDisk = Self.machine(storeLimit: 100, memoryLimit: 2, streamsToDisk: false)
        _ = head(&withoutDisk, 200, [("Cache-Control", "max-age=60")])
        guard case .pass = withoutDisk.receivedBody(.partial(ByteBuffer(string: "abc")), contentLength: nil, now: Self.now).action else {
            Issue.record("expected pass")
            return
        }
    }

    /// A large body that fails a rule (here: too large to validate) never streams to disk.
    @Test func aLargeBodyThatFailsValidationIsNotStreamedToDisk() {
        var validation = Self.json
        validation.validateMaxBytes = 4
        var machine = Self.machine(validation: validation, storeLimit: 100, memoryLimit: 2, streamsToDisk: true)
        guard case .readBody(let bound) = head(&machine, 200, [("Cache-Control", "max-age=60")]).action else {
            Issue.record("expected readBody")
            return
        }
        #expect(bound == 4, "the rules see up to validate_max_bytes")
        let step = machine.receivedBody(.partial(ByteBuffer(string: "{\"a\":")), contentLength: nil, now: Self.now)
        guard case .pass(let status) = step.action else { Issue.record("expected pass, got \(step.action)"); return }
        #expect(status.detail?.hasPrefix("INVALID-") == true)
    }

    @Test func anInvalidBodyServesTheLastGoodEntryAndBacksOff() {
        let entry = Self.entry(age: 120)
        var machine = Self.machine(entry: entry, validation: Self.json)
        let step = head(&machine, 200, [("Cache-Control", "max-age=60")])
        guard case .readBody(let bound) = step.action else { Issue.record("expected readBody"); return }
        #expect(bound == 2 << 20, "the larger of the store limit and validate_max_bytes")
        let body = machine.receivedBody(.complete(ByteBuffer(string: "<html>")), contentLength: nil, now: Self.now)
        guard case .serveStored(let served, let status) = body.action else { Issue.record("expected serveStored"); return }
        #expect(served === entry)
        #expect(status.value() == "moxy; hit; fwd=stale; fwd-status=200; detail=INVALID-BODY:json")
        guard case .recordInvalid(let failure) = body.effects.first else { Issue.record("expected recordInvalid"); return }
        #expect(failure.rule == "json")
        #expect(body.effects.last == .backOff(.init(reason: .invalidBody(rule: "json"), upstreamStatus: 200)))
    }

    @Test func anInvalidHeadIsDecidedBeforeTheBodyIsRead() {
        var machine = Self.machine(entry: Self.entry(age: 120), validation: Self.only200)
        let step = head(&machine, 203, [("Cache-Control", "max-age=60")])
        guard case .serveStored(_, let status) = step.action else { Issue.record("expected serveStored, got \(step.action)"); return }
        #expect(status.value() == "moxy; hit; fwd=stale; fwd-status=203; detail=INVALID-BODY:ok")
        #expect(step.effects.last == .backOff(.init(reason: .invalidBody(rule: "ok"), upstreamStatus: 203)))
    }

    @Test func anInvalidAnswerWithoutAnEntryPassesOrFailsAsConfigured() {
        var pass = Self.machine(validation: Self.json)
        _ = head(&pass, 200, [("Cache-Control", "max-age=60")])
        let passed = pass.receivedBody(.complete(ByteBuffer(string: "x")), contentLength: nil, now: Self.now)
        guard case .pass(let status) = passed.action else { Issue.record("expected pass"); return }
        #expect(status.detail == "INVALID-BODY:json")
        #expect(passed.effects.contains(.markHitForMiss(until: Self.now + 30)))

        var strict = Self.json
        strict.onInvalid = .error
        var fail = Self.machine(validation: strict)
        _ = head(&fail, 200, [("Cache-Control", "max-age=60")])
        guard case .fail(let error, _) = fail.receivedBody(.complete(ByteBuffer(string: "x")), contentLength: nil, now: Self.now).action
        else { Issue.record("expected fail"); return }
        #expect(error.code == .invalidResponse && error.status == 502)
    }

    @Test func aValidAnswerEndsTheBackoff() {
        var machine = Self.machine(entry: Self.entry(age: 120), validation: Self.json)
        _ = head(&machine, 200, [("Cache-Control", "max-age=60")])
        let step = machine.receivedBody(.complete(ByteBuffer(string: "{}")), contentLength: nil, now: Self.now)
        guard case .store = step.action else { Issue.record("expected store"); return }
        #expect(step.effects == [.clearBackoff])
    }

    /// Rules run only on what would be stored or would replace the stored entry.
    @Test func aNonStorableAnswerWithNothingStoredIsNotValidated() {
        var machine = Self.machine(validation: Self.json)
        let step = head(&machine, 200, [("Cache-Control", "no-store")])
        guard case .pass(let status) = step.action else { Issue.record("expected pass"); return }
        #expect(status.detail == "no-store")
        #expect(!step.effects.contains { if case .recordInvalid = $0 { true } else { false } })
    }

    @Test func theLastGoodEntryEndsWithItsWindow() {
        var validation = Self.json
        validation.keepLastGood = 100
        #expect(ExchangeMachine.lastGood(Self.entry(maxAge: 60, age: 160), validation, now: Self.now) != nil)
        #expect(ExchangeMachine.lastGood(Self.entry(maxAge: 60, age: 161), validation, now: Self.now) == nil)
    }

    @Test func a304MergesFieldsAndRecomputesFreshness() {
        let entry = Self.entry(maxAge: 60, age: 120)
        let (response, decision) = ExchangeMachine.freshened(
            entry,
            update: [("Cache-Control", "max-age=300")],
            received: [("Cache-Control", "max-age=300")],
            policy: StoragePolicy(),
            requestHeaders: [],
            requestTime: Self.now,
            responseTime: Self.now
        )
        #expect(decision.freshness?.lifetime == 300)
        #expect(response.fields.first(named: "cache-control") == "max-age=300")
        #expect(response.fields.first(named: "etag") == "\"v1\"")
        #expect(response.body == entry.body && response.isFresh(at: Self.now))
    }
}

extension ExchangeMachineTests {
    /// A request's no-store or credentials say nothing about the resource: the stored entry stays
    /// and other clients keep coalescing.
    @Test func requestReasonsNeitherInvalidateNorMarkHitForMiss() {
        var machine = ExchangeMachine(
            .init(
                entry: Self.entry(age: 120), forward: .stale, policy: StoragePolicy(), validation: nil,
                requestHeaders: [("Cache-Control", "no-store")], hitForMiss: 30, storeLimit: 1 << 20,
                memoryLimit: 1 << 20, streamsToDisk: false))
        let step = head(&machine, 200, [("Cache-Control", "max-age=60")])
        guard case .pass(let status) = step.action else { Issue.record("expected pass, got \(step.action)"); return }
        #expect(status.detail == "request-no-store")
        #expect(step.effects.isEmpty)
    }

    /// Cache-Status says why the last good entry answers: the failing rule, the upstream's error
    /// status, or the failure to reach it, with the upstream's status in fwd-status.
    @Test func theStandInNamesItsReason() {
        var down = Self.machine(entry: Self.entry(age: 120), validation: Self.only200)
        let step = head(&down, 503, [("Retry-After", "10")])
        guard case .serveStored(_, let status) = step.action else { Issue.record("expected serveStored, got \(step.action)"); return }
        #expect(status.value() == "moxy; hit; fwd=stale; fwd-status=503; detail=UPSTREAM-STATUS")
        #expect(step.effects.last == .backOff(.init(reason: .upstreamStatus, upstreamStatus: 503)))

        var unreachable = Self.machine(entry: Self.entry(age: 120), validation: Self.only200)
        let failed = unreachable.upstreamFailed(ProxyError(.connectFailed, "refused"), now: Self.now)
        guard case .serveStored(_, let failedStatus) = failed.action else { Issue.record("expected serveStored, got \(failed.action)"); return }
        #expect(failedStatus.value() == "moxy; hit; fwd=stale; detail=UPSTREAM-ERROR:connect-failed")
        #expect(failed.effects == [.backOff(.init(reason: .upstreamError(code: "connect-failed"), upstreamStatus: nil))])

        // Without rules an unreachable upstream is an error, as before (no last good to protect).
        var plain = Self.machine(entry: Self.entry(age: 120))
        guard case .fail = plain.upstreamFailed(ProxyError(.connectFailed, "refused"), now: Self.now).action else {
            Issue.record("expected fail")
            return
        }
        // Rule names that are not tokens are quoted.
        let quoted = ExchangeMachine.StandIn.invalid(ValidationFailure(rule: "/code type \"string\"", reason: "x"), status: 200)
        #expect(quoted.reason.detail == #""INVALID-BODY:/code type \"string\"""#)
    }
}
