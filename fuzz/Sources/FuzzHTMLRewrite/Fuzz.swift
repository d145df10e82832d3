// SPDX-License-Identifier: Apache-2.0

import FuzzSupport
import MoxyRewrite
import MoxySigning

let signer = try! URLSigner(keys: [try! SigningKey(id: "default", secret: "fuzz")], defaultKeyID: "default")
let base = "https://m.example"
let everything = RewriteOptions(base: base, origin: "http://site.example/dir/page.html", maxTagBytes: 4096, maxURLBytes: 512)
let nothing = RewriteOptions(base: base, allowHosts: ["nothing.invalid"], origin: "http://site.example/", maxTagBytes: 4096)

func rewrite(_ input: [UInt8], _ options: RewriteOptions, split: Int? = nil) -> HTMLRewriter {
    var rewriter = HTMLRewriter(signer: signer, options: options)
    rewriter.recordRewrites = true
    var output: [UInt8] = []
    if let split {
        rewriter.feed(input[..<split], into: &output)
        rewriter.feed(input[split...], into: &output)
    } else {
        rewriter.feed(input, into: &output)
    }
    rewriter.finish(into: &output)
    lastOutput = output
    return rewriter
}

nonisolated(unsafe) var lastOutput: [UInt8] = []

/// "Only URL values change": the output is the input with recorded ranges replaced by URLs that
/// verify to what those ranges read as; with nothing allowed it is the input; any split of the
/// input gives the same output; and a rewritten document rewrites to itself.
@_cdecl("FuzzHTMLRewrite_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in
        let input = bytes(data, size)
        let whole = rewrite(input, everything)
        let output = lastOutput
        if let problem = HTMLRewriter.audit(input: input, output: output, rewrites: whole.rewrites, signer: signer, base: base) {
            check(false, problem)
        }
        _ = rewrite(input, nothing)
        check(lastOutput == input, "with nothing allowed the output differs from the input")
        if !input.isEmpty {
            let split = Int(input[0]) % (input.count + 1)
            _ = rewrite(input, everything, split: split)
            check(lastOutput == output, "splitting the input at \(split) changed the output")
        }
        _ = rewrite(output, everything)
        check(lastOutput == output, "rewriting the output again changed it")
        return 0
    }
}
