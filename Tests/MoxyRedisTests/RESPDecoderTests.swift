// SPDX-License-Identifier: Apache-2.0

import MoxyRedis
import NIOCore
import Testing

/// The RESP reader on bytes alone: every type of RESP2 and RESP3, values that arrive in pieces,
/// and the limits that keep a hostile or broken server from growing memory without bound.
@Suite struct RESPDecoderTests {
    func decodeAll(_ text: String, limits: RESPDecoder.Limits = RESPDecoder.Limits()) throws -> [RESPValue] {
        var buffer = ByteBuffer(string: text)
        var values: [RESPValue] = []
        while let value = try RESPDecoder(limits: limits).decode(&buffer) { values.append(value) }
        #expect(buffer.readableBytes == 0, "all of \(text.debugDescription) read")
        return values
    }

    @Test func everyTypeIsRead() throws {
        let values = try decodeAll(
            "+OK\r\n-ERR wrong\r\n:-42\r\n$5\r\nhe\r\no\r\n$0\r\n\r\n$-1\r\n*-1\r\n_\r\n#t\r\n#f\r\n,1.5\r\n,inf\r\n(12345678901234567890\r\n"
                + "!9\r\nSYNTAX no\r\n=8\r\ntxt:some\r\n*2\r\n:1\r\n$1\r\nx\r\n%1\r\n+k\r\n:2\r\n~1\r\n+m\r\n>2\r\n+invalidate\r\n*0\r\n")
        #expect(values == [
            .simpleString("OK"), .error("ERR wrong"), .integer(-42), .bulkString(ByteBuffer(string: "he\r\no")), .bulkString(ByteBuffer()),
            .null, .null, .null, .boolean(true), .boolean(false), .double(1.5), .double(.infinity), .bigNumber("12345678901234567890"),
            .error("SYNTAX no"), .verbatimString("some"), .array([.integer(1), .bulkString(ByteBuffer(string: "x"))]),
            .map([.simpleString("k"), .integer(2)]), .set([.simpleString("m")]), .push([.simpleString("invalidate"), .array([])]),
        ])
    }

    @Test func anAttributeIsDroppedAndTheValueAfterItReturned() throws {
        #expect(try decodeAll("|1\r\n+key-popularity\r\n%0\r\n*1\r\n:7\r\n") == [.array([.integer(7)])])
    }

    @Test func aValueIsReturnedOnlyWhenWholeAndNothingIsConsumedBefore() throws {
        let text = "*3\r\n$3\r\nabc\r\n%1\r\n+a\r\n*2\r\n:1\r\n_\r\n,2.25\r\n"
        let bytes = Array(text.utf8)
        let whole = try decodeAll(text)
        #expect(whole.count == 1)
        for cut in 0..<bytes.count {
            var buffer = ByteBuffer(bytes: bytes[0..<cut])
            #expect(try RESPDecoder().decode(&buffer) == nil, "cut at \(cut)")
            #expect(buffer.readableBytes == cut, "nothing consumed at \(cut)")
            // The rest arrives: the same value.
            buffer.writeBytes(bytes[cut...])
            #expect(try RESPDecoder().decode(&buffer) == whole[0])
        }
    }

    @Test func aBulkStringIsASliceOfTheReceivedBytes() throws {
        var buffer = ByteBuffer(string: "$3\r\n\u{0}\u{1}\u{2}\r\n")
        let value = try RESPDecoder().decode(&buffer)
        #expect(value?.bytes.map { Array($0.readableBytesView) } == [0, 1, 2])
        #expect(value?.string?.utf8.count == 3)
    }

    @Test(arguments: [
        ("?5\r\n", "unknown type"),
        (":12a\r\n", "non-digit"),
        (":\r\n", "without digits"),
        (":99999999999999999999\r\n", "out of range"),
        ("$3\r\nabcd\r\n", "longer than its length"),
        ("$-2\r\n", "a string of -2"),
        ("+OK\rX", "CR without LF"),
        ("#x\r\n", "neither t nor f"),
        (",one\r\n", "not a number"),
        ("(12x\r\n", "not digits"),
        ("_x\r\n", "null with content"),
        ("=3\r\ntxt\r\n", "without its format"),
        ("*-2\r\n", "aggregate of -2"),
        ("$?\r\n", "non-digit"),
    ])
    func badBytesAreAProtocolError(_ input: String, _ message: String) {
        var buffer = ByteBuffer(string: input)
        #expect {
            try RESPDecoder().decode(&buffer)
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .protocolError && error.message.contains(message)
        }
    }

    @Test func limitsHoldBeforeTheBytesArrive() {
        var limits = RESPDecoder.Limits()
        limits.maxDepth = 4
        limits.maxBulkBytes = 10
        limits.maxElements = 8
        limits.maxLineBytes = 16
        let cases = [
            (String(repeating: "*1\r\n", count: 6) + ":1\r\n", "nested deeper"),
            (String(repeating: "|0\r\n", count: 6) + ":1\r\n", "nested deeper"),
            ("$11\r\n", "a string of 11"),
            ("*9\r\n", "aggregate of 9"),
            ("%5\r\n", "aggregate of 5"),
            ("+" + String(repeating: "a", count: 40), "longer than 16"),
        ]
        for (input, message) in cases {
            var buffer = ByteBuffer(string: input)
            #expect(throws: RedisError.self, "\(input.debugDescription)") { try RESPDecoder(limits: limits).decode(&buffer) }
            buffer = ByteBuffer(string: input)
            do {
                _ = try RESPDecoder(limits: limits).decode(&buffer)
            } catch {
                #expect(error.message.contains(message), "\(error)")
            }
        }
    }

    @Test func accessorsReadRESP2NumbersAndAggregates() {
        #expect(RESPValue.bulkString(ByteBuffer(string: "17")).int == 17)
        #expect(RESPValue.integer(3).int == 3)
        #expect(RESPValue.map([.simpleString("a"), .integer(1)]).elements?.count == 2)
        #expect(RESPValue.null.isNull && RESPValue.null.string == nil)
    }

    @Test func commandsAreEncodedAsArraysOfBulkStrings() {
        let command = RedisCommand("set", "k", .bytes(ByteBuffer(bytes: [0, 13, 10])), 42)
        #expect(String(buffer: command.bytes) == "*4\r\n$3\r\nset\r\n$1\r\nk\r\n$3\r\n\u{0}\r\n\r\n$2\r\n42\r\n")
        #expect(command.name == "SET")
    }
}
