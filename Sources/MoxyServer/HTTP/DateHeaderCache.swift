// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import MoxyCache
import NIOCore

/// The `Date: …\r\n` line for the current second, formatted once per second per connection.
struct DateHeaderCache {
    private var second: Int64 = -1
    private var line = ByteBuffer()

    /// Appends the `Date` field line for `now` to `buffer`.
    /// - Parameters:
    ///   - buffer: The head being written.
    ///   - now: Unix seconds.
    mutating func write(into buffer: inout ByteBuffer, now: Int64) {
        if now != second {
            second = now
            line = ByteBuffer(string: "Date: \(HTTPDate.format(now))\r\n")
        }
        buffer.writeImmutableBuffer(line)
    }
}
