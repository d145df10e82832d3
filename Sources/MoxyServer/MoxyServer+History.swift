// SPDX-License-Identifier: Apache-2.0

extension MoxyServer {
    /// Idle kept-alive connections to route upstreams (the 1xx-forwarding client's pool).
    public var idleUpstreamConnections: Int { proxy.forwarder.interimForwarder.pool.idleCount }

    /// Samples the request totals into ``MoxyMetrics/history`` at start and then once a minute,
    /// until cancelled when the server stops (a task of `run()`'s group).
    static func sampleHistory(_ metrics: MoxyMetrics, clock: MoxyClock) async {
        while !Task.isCancelled {
            metrics.recordHistory(now: clock.now())
            do {
                try await Task.sleep(for: .seconds(StatsHistory.interval))
            } catch {
                return
            }
        }
    }
}
