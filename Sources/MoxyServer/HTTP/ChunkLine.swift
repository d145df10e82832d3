// SPDX-License-Identifier: Apache-2.0

/// A chunk-size line of a chunked request body (RFC 9112 §7.1), without its CRLF.
enum ChunkLine {
    /// The most hexadecimal digits in a chunk size: 15 keeps every size far below `Int.max`.
    static let maxDigits = 15

    /// The chunk's size, or nil when the line is not `1*HEXDIG chunk-ext`, the size has more than
    /// ``maxDigits`` digits, or an extension is malformed. Extensions are checked and skipped:
    /// nothing in Moxy reads them, and they are not forwarded (a body is re-chunked upstream).
    static func size(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var size = 0
        var index = 0
        while index < bytes.count, let digit = hexValue(bytes[index]) {
            guard index < maxDigits else { return nil }
            size = size << 4 | digit
            index += 1
        }
        guard index > 0 else { return nil }
        return extensionsAreValid(bytes, from: index) ? size : nil
    }

    /// `*( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )` from `start` to the end.
    static func extensionsAreValid(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Bool {
        var index = start
        func skipWhitespace() {
            while index < bytes.count, bytes[index] == RequestHeadParser.sp || bytes[index] == RequestHeadParser.htab { index += 1 }
        }
        func token() -> Bool {
            let first = index
            while index < bytes.count, RequestHeadParser.isTokenChar(bytes[index]) { index += 1 }
            return index > first
        }
        while index < bytes.count {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ";") else { return false }
            index += 1
            skipWhitespace()
            guard token() else { return false }
            let afterName = index
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
                index = afterName
                continue
            }
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                guard quotedString() else { return false }
            } else if !token() {
                return false
            }
        }
        return true
        func quotedString() -> Bool {
            index += 1
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return true
                }
                if byte == UInt8(ascii: "\\") {
                    index += 1
                    guard index < bytes.count else { return false }
                }
                let quoted = bytes[index]
                guard quoted >= RequestHeadParser.sp || quoted == RequestHeadParser.htab, quoted != 0x7F else { return false }
                index += 1
            }
            return false
        }
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
