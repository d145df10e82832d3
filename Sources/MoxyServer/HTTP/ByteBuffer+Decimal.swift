// SPDX-License-Identifier: Apache-2.0

import NIOCore

extension ByteBuffer {
    /// Writes `value` in decimal ASCII digits, with no `String` made (`Age`, `ttl=`, `max-age=`
    /// on every hit).
    /// - Returns: The number of bytes written.
    @discardableResult
    @inline(__always)
    mutating func writeDecimal(_ value: Int64) -> Int {
        var magnitude = value.magnitude
        // 20 digits hold any UInt64; one more for the sign.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 21) { digits in
            var start = 21
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                start -= 1
                digits[start] = UInt8(ascii: "-")
            }
            return writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(digits)[start...]))
        }
    }
}
