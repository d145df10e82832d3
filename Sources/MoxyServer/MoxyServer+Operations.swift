// SPDX-License-Identifier: Apache-2.0

import Logging
public import MoxySigning
import NIOConcurrencyHelpers
import NIOCore

extension MoxyServer {
    /// Binds the admin listener, when one is configured (called by ``start()``).
    func startAdmin() async throws {
        guard let admin, let configuration = configuration.admin, adminListener.withLockedValue({ $0 }) == nil else { return }
        let channel = try await AdminListener.bind(configuration, api: admin, group: group)
        adminListener.withLockedValue { $0 = channel }
        let port = channel.localAddress?.port ?? configuration.port
        logger.info("moxy admin listening", metadata: ["address": "\(configuration.host):\(port)"])
        if configuration.token == nil {
            logger.warning("admin API without a token: only /healthz, /readyz and /metrics answer (set MOXY_ADMIN_TOKEN)")
        }
    }

    /// The admin listener's port, once bound (`nil` without one).
    public var adminPort: Int? { adminListener.withLockedValue { $0?.localAddress?.port } }

    /// Sets what `POST /reload` runs (`moxy serve` re-reads its configuration sources and calls
    /// ``reload(configuration:signer:)``).
    public func setReloader(_ reloader: @escaping @Sendable () async -> ReloadResult) {
        admin?.reloader.withLockedValue { $0 = reloader }
    }

    /// Applies a new configuration to the requests handled from now on: keys, routes and their
    /// rules, limits and TTLs, the signed-URL cache settings, client limits. Requests in flight
    /// finish under the old ones. Settings that only a restart changes are named in the notes.
    public func reload(configuration new: ServerConfiguration, signer: URLSigner?) -> ReloadResult {
        var notes: [String] = []
        let old = configuration
        // The certificate first (an ACME client renewed it): one that does not load refuses the
        // whole reload, and the old one keeps serving.
        if let tls = new.tls, let context = tlsContext.withLockedValue({ $0 }) {
            do {
                try context.reload(tls)
                notes.append("tls: certificate reloaded from \(tls.certificatePath)")
            } catch {
                logger.error("moxy reload refused: the running configuration and certificate stay", metadata: ["reason": "\(error)"])
                return ReloadResult(error: error.description)
            }
        }
        func restart(_ name: String, _ changed: Bool) { if changed { notes.append("\(name) changes only with a restart") } }
        restart("listen", old.host != new.host || old.port != new.port)
        restart("threads", old.eventLoopThreads != new.eventLoopThreads)
        restart("cache.memory_size", old.memoryCacheSize != new.memoryCacheSize || old.memoryCachePolicy != new.memoryCachePolicy)
        restart("cache.disk", old.diskCachePath != new.diskCachePath || old.diskCacheMaxSize != new.diskCacheMaxSize)
        restart("tls.listen", old.tls?.host != new.tls?.host || old.tls?.port != new.tls?.port)
        restart("admin", old.admin?.host != new.admin?.host || old.admin?.port != new.admin?.port || old.admin?.token != new.admin?.token)
        restart("access_log", old.accessLog != new.accessLog)
        restart(
            "upstream timeouts and limits of signed URLs",
            old.upstream.connectTimeout != new.upstream.connectTimeout || old.upstream.totalTimeout != new.upstream.totalTimeout
                || old.upstream.maxObjectSize != new.upstream.maxObjectSize || old.upstream.contentTypes != new.upstream.contentTypes)
        proxy.replaceSettings(ProxySettings(configuration: new, signer: signer, metrics: metrics))
        notes.insert("routes: \(new.routes.map(\.name).joined(separator: ","))", at: 0)
        notes.insert("keys: \(signer?.keyIDs.joined(separator: ",") ?? "none")", at: 1)
        logger.info("moxy configuration reloaded", metadata: ["notes": "\(notes.joined(separator: "; "))"])
        return ReloadResult(notes: notes)
    }

    /// Reopens the access log file (after logrotate moved it: `SIGUSR1`).
    public func reopenAccessLog() {
        proxy.accessLog?.reopen()
    }
}
