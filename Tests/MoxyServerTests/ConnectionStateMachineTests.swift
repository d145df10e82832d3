// SPDX-License-Identifier: Apache-2.0

@testable import MoxyServer
import NIOCore
import Testing

/// The connection's transitions, without a channel.
@Suite struct ConnectionStateMachineTests {
    @Test func answersWaitForTheAsynchronousOneInOrder() {
        var machine = ConnectionStateMachine()
        #expect(machine.mayAnswer(writable: true))
        #expect(!machine.mayAnswer(writable: false), "a client that does not read gets no more answers")
        machine.startWaiting()
        #expect(machine.state == .waitingForUpstream && !machine.mayAnswer(writable: true))
        machine.startStreaming()
        #expect(machine.state == .streaming && !machine.mayAnswer(writable: true))
        let r1 = machine.answerFinished()
        #expect(r1 == .processQueue)
        #expect(machine.state == .idle && machine.mayAnswer(writable: true))
    }

    @Test func readsAreHeldWhileWaitingAndReleasedAfter() {
        var machine = ConnectionStateMachine()
        let r2 = machine.readRequested(writable: true)
        #expect(r2)
        let r3 = machine.readRequested(writable: false)
        #expect(!r3)
        #expect(machine.readHeld)
        let r4 = machine.readReleased(writable: true)
        #expect(r4)
        #expect(!machine.readHeld)
        machine.startWaiting()
        let r5 = machine.readRequested(writable: true)
        #expect(!r5, "a fetch holds the queue: stop reading")
        let r6 = machine.readReleased(writable: true)
        #expect(!r6)
        _ = machine.answerFinished()
        let r7 = machine.readReleased(writable: true)
        #expect(r7)
    }

    @Test func aBodyKeepsReadingWhileWaitingUnlessTheUpstreamPauses() {
        var machine = ConnectionStateMachine()
        machine.bodyStarted(limit: 10)
        machine.startWaiting()
        let r8 = machine.readRequested(writable: true)
        #expect(r8, "the body of the request being forwarded keeps arriving")
        machine.bodyPaused()
        let r9 = machine.readRequested(writable: true)
        #expect(!r9)
        machine.bodyResumed()
        let r10 = machine.readReleased(writable: true)
        #expect(r10)
        guard case .forward = machine.bodyChunk(6) else { Issue.record("expected forward"); return }
        guard case .tooLarge(let limit) = machine.bodyChunk(5) else { Issue.record("expected tooLarge"); return }
        #expect(limit == 10)
        guard case .drop = machine.bodyChunk(1) else { Issue.record("expected drop"); return }
        let r11 = machine.readRequested(writable: true)
        #expect(!r11, "body refused and the answer still pending")
    }

    @Test func theEndOfABodyIsReportedOnce() {
        var machine = ConnectionStateMachine()
        machine.bodyStarted(limit: 10)
        machine.bodyPaused()
        let r12 = machine.bodyEnded()
        #expect(r12)
        let r13 = machine.bodyEnded()
        #expect(!r13)
        let r14 = machine.readRequested(writable: true)
        #expect(r14, "a paused body that ended no longer holds reads")
    }

    @Test func closingStopsEverything() {
        var machine = ConnectionStateMachine()
        machine.bodyStarted(limit: 10)
        machine.startWaiting()
        let r16 = machine.close()
        #expect(r16, "the body being received is to be failed")
        #expect(machine.isClosing)
        let r17 = machine.readRequested(writable: true)
        #expect(!machine.mayAnswer(writable: true) && !r17)
        let r18 = machine.answerFinished()
        #expect(r18 == .none)
    }

    @Test func idleTimeoutSparesAConnectionWaitingWithItsRequestSent() {
        var machine = ConnectionStateMachine()
        #expect(machine.idleTimeoutCloses())
        machine.startWaiting()
        #expect(!machine.idleTimeoutCloses())
        machine.bodyStarted(limit: 10)
        #expect(machine.idleTimeoutCloses(), "a client stalling mid-body is idle")
    }

    @Test func drainingClosesOnceNothingIsLeft() {
        var idle = ConnectionStateMachine()
        let r19 = idle.drain(queueEmpty: true)
        #expect(r19)
        var busy = ConnectionStateMachine()
        busy.startWaiting()
        let r20 = busy.drain(queueEmpty: true)
        #expect(!r20)
        #expect(busy.draining)
        _ = busy.answerFinished()
        #expect(!busy.closesAfterQueue(queueEmpty: false))
        #expect(busy.closesAfterQueue(queueEmpty: true))
    }
}
