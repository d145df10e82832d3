// SPDX-License-Identifier: Apache-2.0

public import MoxySigning

extension HTMLRewriter {
    /// Checks that a rewrite changed only URL values: the output is the input with each recorded
    /// range replaced, the ranges are in order and disjoint, each range's bytes read as the URL
    /// recorded, and each new URL verifies back to that URL. Used by the tests and the fuzzer.
    /// - Parameters:
    ///   - input: The document given to the rewriter.
    ///   - output: What it wrote.
    ///   - rewrites: Its ``rewrites`` (with ``recordRewrites`` on).
    ///   - signer: The signer it used.
    ///   - base: ``RewriteOptions/base``.
    /// - Returns: `nil`, or what is wrong.
    public static func audit(input: [UInt8], output: [UInt8], rewrites: [Rewrite], signer: URLSigner, base: String) -> String? {
        var expected: [UInt8] = []
        expected.reserveCapacity(output.count)
        var position = 0
        for rewrite in rewrites {
            let range = rewrite.inputRange
            guard range.lowerBound >= position, range.upperBound <= input.count, !range.isEmpty else {
                return "rewrite at \(range) overlaps the one before or lies outside the input"
            }
            expected += input[position..<range.lowerBound]
            if rewrite.inAttribute {
                CharacterReferences.encode(rewrite.replacement, into: &expected)
            } else {
                expected += Array(rewrite.replacement.utf8)
            }
            position = range.upperBound
            let raw = input[range]
            let read = rewrite.inAttribute ? CharacterReferences.decode(raw).bytes : Array(raw)
            guard String(decoding: read, as: UTF8.self) == rewrite.original else {
                return "the bytes at \(range) do not read as the recorded URL \(rewrite.original)"
            }
            guard rewrite.replacement.hasPrefix(base) else { return "\(rewrite.replacement) is not under \(base)" }
            var path = Substring(rewrite.replacement.dropFirst(base.count))
            if let hash = path.firstIndex(of: "#") { path = path[..<hash] }
            guard let target = try? signer.verify(path: path, now: 0) else {
                return "\(rewrite.replacement) does not verify"
            }
            var original = URLReference(URLRewritePolicy.cleaned(read))
            original.fragment = nil
            if original.scheme != nil, target.url != original.text {
                return "\(rewrite.replacement) names \(target.url), not \(original.text)"
            }
        }
        expected += input[position...]
        guard expected != output else { return nil }
        let common = min(expected.count, output.count)
        let first = (0..<common).first { expected[$0] != output[$0] } ?? common
        return "bytes outside the rewritten URLs changed (first difference at output byte \(first))"
    }
}
