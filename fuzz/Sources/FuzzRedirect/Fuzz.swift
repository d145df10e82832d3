// SPDX-License-Identifier: Apache-2.0

import FuzzSupport
import MoxyServer

/// Redirect resolution (`TargetURL.resolving`, every hop of a signed URL's fetch): the first line
/// is the URL fetched, the rest the `Location`. The result is nil or an http(s) URL that parses
/// to itself, and an absolute `Location` resolves to what it parses to alone.
@_cdecl("FuzzRedirect_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in
        let input = text(data, size)
        let parts = input.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        let base = TargetURL(String(parts[0])) ?? TargetURL("http://example.com/a/b?c")!
        let location = parts.count > 1 ? String(parts[1]) : ""
        guard let resolved = base.resolving(location) else { return 0 }
        check(resolved.scheme == "http" || resolved.scheme == "https", "only http(s): \(resolved)")
        check(TargetURL(resolved.text) == resolved, "the resolved URL parses to itself: \(resolved.text)")
        check(resolved.pathAndQuery.hasPrefix("/"), "a path starts with /: \(resolved.text)")
        if let absolute = TargetURL(String(location.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())) {
            check(resolved == absolute, "an absolute Location stands alone: \(location)")
        }
        return 0
    }
}
