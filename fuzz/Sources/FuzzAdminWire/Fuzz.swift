// SPDX-License-Identifier: Apache-2.0

import FuzzSupport
import MoxyHTTP
@_spi(Fuzzing) import MoxyServer

/// What the admin listener reads before it trusts anything: form parameters (purge selectors)
/// and `Authorization` credentials. Never a crash; a form's pairs encoded again read back the
/// same; a Bearer token is offered as written; Basic credentials give their password; equal
/// bytes compare equal and others not.
@_cdecl("FuzzAdminWire_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in
        let input = text(data, size)
        let pairs = AdminWire.form(Substring(input))
        let again = pairs.map { PercentEncoding.encode($0.name, keeping: "") + "=" + PercentEncoding.encode($0.value, keeping: "") }.joined(separator: "&")
        let reread = AdminWire.form(Substring(again))
        check(reread.map(\.name) == pairs.map(\.name) && reread.map(\.value) == pairs.map(\.value), "a form encoded again reads the same: \(again)")
        _ = AdminWire.offeredToken(input)
        let token = input.split(separator: " ", maxSplits: 1).last.map(String.init) ?? ""
        if !token.isEmpty, !token.hasPrefix(" ") {
            check(AdminWire.offeredToken("Bearer " + token) == Array(token.utf8), "a Bearer token is offered as written")
        }
        let raw = bytes(data, size)
        let half = raw.count / 2
        let (a, b) = (Array(raw[..<half]), Array(raw[half...]))
        check(AdminWire.constantTimeEqual(a, a), "equal bytes are equal")
        check(AdminWire.constantTimeEqual(a, b) == (a == b), "unequal bytes are not")
        return 0
    }
}
