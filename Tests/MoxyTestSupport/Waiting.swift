// SPDX-License-Identifier: Apache-2.0

import Testing

/// Polls `condition` every 50 ms for up to 5 s (background work such as a refresh); records an
/// issue when it never holds.
public func waitUntil(_ condition: () -> Bool) async throws {
    for _ in 0..<100 {
        if condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("condition not met within 5 s")
}

/// Polls an asynchronous `condition` every 50 ms for up to `timeout`; records an issue when it
/// never holds.
public func waitUntil(timeout: Duration, _ condition: () async -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("condition not met within \(timeout)")
}
