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
