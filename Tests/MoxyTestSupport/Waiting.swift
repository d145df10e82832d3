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
