// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import MoxyServer
import Testing

/// Inputs found by the fuzzers in `fuzz/` (minimised), kept as regression tests.
@Suite struct FuzzRegressionTests {
    /// FuzzMediaType, crash-9f9be384: a comma inside a quoted parameter is not a second type, and the
    /// canonical form re-parses to itself.
    @Test func quotedCommaInAMediaTypeParameter() throws {
        let input = "in/m%pgag; charse~=\",ut-8\"; q=1"
        let type = try #require(MediaType(input))
        #expect(type.type == "in" && type.subtype == "m%pgag")
        #expect(MediaType(type.description)?.description == type.description)
        #expect(MediaType("image/png, text/html") == nil)
    }
}
