// SPDX-License-Identifier: Apache-2.0

@testable import MoxyServer
import Testing

@Suite struct SubstringASCIITests {
    @Test func theFirstASCIIByteIsFoundWhereTheGenericSearchFindsIt() {
        for text in ["/a/b?x=1?y", "?", "no mark", "", "/é/ü?ß", "/sig/dGFyZ2V0.png?"] {
            let whole = "prefix" + text
            let slice = whole.dropFirst(6)
            #expect(slice.firstIndex(ofASCII: UInt8(ascii: "?")) == slice.utf8.firstIndex(of: UInt8(ascii: "?")), "\(text)")
        }
        let slice = "/é/ü?ß"[...]
        let mark = slice.firstIndex(ofASCII: UInt8(ascii: "?"))!
        #expect(slice[..<mark] == "/é/ü" && slice[slice.index(after: mark)...] == "ß")
    }
}

/// The word-at-a-time scans of the request parser against the byte loops they replace.
@Suite struct RequestScanTests {
    @Test func theVisibleRunEndsWhereTheByteLoopSaysForEveryByteAtEveryPlace() {
        for length in [0, 1, 7, 8, 9, 16, 23, 90] {
            for position in 0..<max(length, 1) {
                for odd: UInt8 in [0x00, 0x09, 0x20, 0x21, 0x7E, 0x7F, 0x80, 0xFF] {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    if position < length { bytes[position] = odd }
                    let expected = bytes.firstIndex { $0 <= 0x20 || $0 >= 0x7F } ?? length
                    let found = bytes.withUnsafeBytes { RequestHeadParser.visibleRunEnd($0, from: 0, to: length) }
                    #expect(found == expected, "length \(length), \(odd) at \(position)")
                }
            }
        }
    }

    @Test func lineEndsAreTheFirstCRLFEvenAfterALoneCR() {
        let text = Array("GET /a\rb HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        #expect(text.withUnsafeBytes { RequestHeadParser.lineEnd($0, from: 0) } == 17)
        #expect(text.withUnsafeBytes { RequestHeadParser.lineEnd($0, from: 19) } == 26)
    }
}
