// SPDX-License-Identifier: Apache-2.0

import FuzzSupport
import MoxyRewrite

/// The sitemap reader of `moxy warm` on any document: never a crash, every value non-empty and
/// trimmed, and the values written into a sitemap of their own (escaped) read back the same.
@_cdecl("FuzzSitemap_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in
        let found = SitemapReader.locations(Substring(text(data, size)))
        for value in found {
            check(!value.isEmpty && value.first?.isWhitespace != true && value.last?.isWhitespace != true, "trimmed: \(value)")
        }
        let escaped = found.map { value in
            value.replacingOccurrences("&", "&amp;").replacingOccurrences("<", "&lt;").replacingOccurrences(">", "&gt;")
        }
        let sitemap = "<?xml version=\"1.0\"?><urlset>" + escaped.map { "<url><loc>\($0)</loc></url>" }.joined() + "</urlset>"
        check(SitemapReader.locations(Substring(sitemap)) == found, "a sitemap of the values reads back the same")
        return 0
    }
}

extension String {
    /// Without Foundation.
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
