// SPDX-License-Identifier: Apache-2.0

import MoxyRedis
import MoxyTestSupport
import NIOCore
import NIOPosix
import Testing

@testable import MoxySharedTier

/// A shared-tier call that runs past its budget is a child task that must end when cancelled:
/// its waits for Redis answers stop at once (the command stays in the pipeline and its answer
/// is dropped), so the call's task group returns within the budget and nothing outlives it.
@Suite struct RedisCancellationTests {
    let group = MultiThreadedEventLoopGroup.singleton

    @Test func aCancelledWaitEndsAtOnceAndLeavesTheConnectionOpen() async throws {
        try await RedisServer.with { server in
            let connection = try await RedisConnection.connect(
                RedisConfiguration(port: server.port, connectTimeout: 10, commandTimeout: 30), on: group)
            let started = ContinuousClock.now
            // BLPOP waits 20 s for a list nobody fills; its waiter is cancelled after 0.1 s.
            let waiting = Task { () throws(RedisError) -> RESPValue in
                try await connection.pipeline([RedisCommand("BLPOP", "never", 20)])[0]
            }
            try await Task.sleep(for: .milliseconds(100))
            waiting.cancel()
            let result = await waiting.result
            #expect(ContinuousClock.now - started < .seconds(10), "the wait ended on cancellation, not with BLPOP")
            guard case .failure(let error) = result else {
                Issue.record("the cancelled wait returned \(result)")
                return
            }
            #expect((error as? RedisError)?.code == .cancelled)
            #expect(connection.isActive)
            await connection.close()
        }
    }

    @Test func aCallPastItsBudgetTimesOutWithinTheBudgetAndAFastOneAnswers() async throws {
        try await RedisServer.with { server in
            let connection = try await RedisConnection.connect(
                RedisConfiguration(port: server.port, connectTimeout: 10, commandTimeout: 30), on: group)
            let started = ContinuousClock.now
            let slow = await SharedTier.race(budget: 0.2) { () throws(RedisError) -> RESPValue in
                try await connection.send(RedisCommand("BLPOP", "never", 20))
            }
            // The group returned, so its child (the BLPOP wait) ended too: well before 20 s.
            #expect(ContinuousClock.now - started < .seconds(10))
            guard case .timedOut = slow else {
                Issue.record("expected a timeout, got \(slow)")
                return
            }
            // (On another connection: the BLPOP still holds the first one, as Redis answers in order.)
            let other = try await RedisConnection.connect(
                RedisConfiguration(port: server.port, connectTimeout: 10, commandTimeout: 30), on: group)
            let fast = await SharedTier.race(budget: 10) { () throws(RedisError) -> RESPValue in
                try await other.send(RedisCommand("ECHO", "here"))
            }
            guard case .value(let answer) = fast else {
                Issue.record("expected an answer, got \(fast)")
                return
            }
            #expect(answer.string == "here")
            await other.close()
            await connection.close()
        }
    }
}
