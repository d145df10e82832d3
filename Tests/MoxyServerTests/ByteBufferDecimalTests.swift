// SPDX-License-Identifier: Apache-2.0

@testable import MoxyServer
import NIOCore
import Testing

/// The digits written for `Age`, `ttl=` and `max-age=` without a `String`.
@Suite struct ByteBufferDecimalTests {
    @Test(arguments: [0, 7, 10, 42, 86_400, -1, -3_600, Int64.max, Int64.min])
    func writesTheSameDigitsAsString(_ value: Int64) {
        var buffer = ByteBuffer(string: "Age: ")
        let written = buffer.writeDecimal(value)
        #expect(buffer.readString(length: buffer.readableBytes) == "Age: " + String(value))
        #expect(written == String(value).utf8.count)
    }
}
