// SPDX-License-Identifier: Apache-2.0

import Prometheus
import MoxyCache
import NIOCore
import NIOHTTP1

/// What the connection notes of the request it is answering, for the metrics and the access log:
/// begun when the request is handled, completed when its last byte is written (or the client left).
struct RequestRecord {
    /// When the request's head was read.
    var started = NIODeadline.uptimeNanoseconds(0)
    var method: HTTPMethod = .GET
    /// Where it is counted: its source's counters (or the unrouted ones).
    var counters: RequestCounters?
    var mode: RequestMode = .none
    /// The route's name, `signed`, or `none`.
    var route = "none"
    /// The request target as received.
    var uri = ""
    /// Where the answer came from: the signed target URL, or the route upstream's origin (the
    /// access log writer takes the host out of it, off the event loop).
    var target: String?
    /// Its source's fields of an access log line.
    var logFields = AccessLogFields.unrouted
    var status = 0
    var bytes = 0
    /// What the cache did (``CacheResult/none`` until a writer says otherwise).
    var result = CacheResult.none
    /// Whether a last good entry answered for an invalid or failing upstream.
    var lastGood = false
    var trace: UpstreamTrace?
    /// Whether the record waits for its response to finish.
    var open = false

    /// 0 GET, 1 HEAD, 2 anything else (the metrics' method slots).
    var methodSlot: Int {
        switch method {
        case .GET: 0
        case .HEAD: 1
        default: 2
        }
    }

    /// Notes the source a request was routed to.
    mutating func note(_ source: CacheSource) {
        counters = source.counters
        mode = source.isSigned ? .signed : .route
        route = source.name
        logFields = source.logFields
    }

    /// Notes what the cache did, from the `Cache-Status` about to be sent.
    mutating func note(_ status: CacheStatus) {
        (result, lastGood) = CacheResult.of(status)
    }

    /// A trace for the request's upstream exchange, when the access log wants one.
    mutating func startTrace(_ wanted: Bool) -> UpstreamTrace? {
        guard wanted else { return nil }
        let started = UpstreamTrace()
        trace = started
        return started
    }
}

extension ConnectionHandler {
    /// Starts the record of the request being handled.
    func beginRecord(_ request: borrowing ClientRequest) {
        record = RequestRecord(
            started: request.started, method: request.method, counters: proxy.unroutedCounters, uri: request.uri, open: true)
    }

    /// Notes the head written (its status read from the encoded status line) and the bytes so far.
    func recordHead(_ head: ByteBuffer, bytes: Int) {
        guard record.open else { return }
        record.status = Self.status(ofHead: head)
        record.bytes += bytes
    }

    /// Completes the record: counts the request and hands its line to the access log.
    func finishRecord(status: Int? = nil) {
        guard record.open else { return }
        record.open = false
        if let status { record.status = status }
        let result = record.result
        record.counters?.count(method: record.methodSlot, status: record.status, result: result, lane: lane)
        let metrics = proxy.metrics
        let elapsed = NIODeadline.now() - record.started
        metrics.requests.record(mode: record.mode, nanoseconds: elapsed.nanoseconds, bytes: record.bytes, lane: lane)
        if record.lastGood {
            metrics.count("moxy_last_good_served_total", [("route", record.route)], help: "Responses answered by the last good entry.")
        }
        accessLog?.append(record, result: result, client: logClient, nanoseconds: elapsed.nanoseconds, nowMilliseconds: proxy.clock.nowMilliseconds())
    }

    /// The status code of an encoded `HTTP/1.1 NNN …` head (0 when it is not one).
    static func status(ofHead head: ByteBuffer) -> Int {
        var status = 0
        for offset in 9..<12 {
            guard let digit = head.getInteger(at: head.readerIndex + offset, as: UInt8.self), digit >= 48, digit <= 57 else { return 0 }
            status = status * 10 + Int(digit - 48)
        }
        return status
    }
}
