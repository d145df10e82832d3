// SPDX-License-Identifier: Apache-2.0

import MoxySigning

/// What a reload changes, built whole from one configuration and swapped at once (``Proxy/settings``):
/// signing keys, routes with their rules, limits and TTLs, the signed-URL source, the client
/// limits. A request reads it once when it is handled and keeps that object to its end, so
/// requests in flight finish under the settings they started with. Listeners, tiers, threads
/// and the upstream clients are not in it: they change with a restart.
final class ProxySettings: Sendable {
    /// The configuration it was built from.
    let configuration: ServerConfiguration
    /// The native signing keys (`nil`: none).
    let signer: URLSigner?
    /// Routes and signed URLs.
    let router: Router
    /// The source of signed URLs.
    let signedSource: CacheSource
    /// The client limits, read per request.
    let limits: RequestPlanner.ClientLimits

    init(configuration: ServerConfiguration, signer: URLSigner?, metrics: MoxyMetrics) {
        self.configuration = configuration
        self.signer = signer
        self.router = Router(
            routes: configuration.routes,
            signedPrefix: configuration.signedPrefix,
            servesSigned: signer != nil || configuration.camoSigner != nil,
            metrics: metrics,
            signer: signer
        )
        self.signedSource = CacheSource(signed: configuration, counters: metrics.requestCounters(.signed, route: "signed"))
        self.limits = RequestPlanner.ClientLimits(configuration)
    }
}
