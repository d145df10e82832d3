// SPDX-License-Identifier: Apache-2.0

import Configuration
import Logging
import MoxyServer
import Synchronization

/// `SIGHUP` and `POST /reload`: reads the configuration again from the same flags, environment
/// and file, and applies it; a configuration that does not load is refused with its reason and
/// the running one stays. One reload at a time.
struct Reload: Sendable {
    let server: MoxyServer
    let flags: [String: ConfigContent]
    let configFile: String?
    let logger: Logger
    private let lock = ReloadLock()

    init(server: MoxyServer, flags: [String: ConfigContent], configFile: String?, logger: Logger) {
        self.server = server
        self.flags = flags
        self.configFile = configFile
        self.logger = logger
    }

    func run() async -> ReloadResult {
        await lock.run {
            let settings: MoxySettings
            do {
                settings = try MoxySettings.load(flags: flags, environment: ProcessEnvironment.current, configFile: configFile)
                guard settings.signer != nil || settings.server.camoSigner != nil || !settings.server.routes.isEmpty else {
                    throw SettingsError(.invalidValue, "no signing key and no route")
                }
            } catch {
                let reason = (error as? SettingsError)?.message ?? "\(error)"
                logger.error("moxy reload refused: the running configuration stays", metadata: ["reason": "\(reason)"])
                return ReloadResult(error: reason)
            }
            return server.reload(configuration: settings.server, signer: settings.signer)
        }
    }
}

/// Runs one reload at a time (a SIGHUP during a `POST /reload` waits for it).
final class ReloadLock: Sendable {
    private let state = Mutex<(busy: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func run<T: Sendable>(_ body: @Sendable () async -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let free = state.withLock { state -> Bool in
                guard state.busy else {
                    state.busy = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if free { continuation.resume() }
        }
        let result = await body()
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiters.isEmpty else {
                state.busy = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
        return result
    }
}
