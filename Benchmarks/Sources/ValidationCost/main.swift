// SPDX-License-Identifier: Apache-2.0
//
// What validating an upstream JSON response costs (it happens once per upstream response, never on
// a cache hit): the strict parse alone, the WordPress recipe's rules, and the recipe plus a body
// regular expression, for a 10 KiB and a 1 MiB body of WordPress-like posts; and what a route's
// body transform adds when an answer is stored (the recipe's tags from the body, the image URLs of
// each post's content.rendered rewritten into signed Moxy URLs).

import MoxyRewrite
import MoxySigning
import MoxyValidation
import NIOCore

/// A WordPress REST list of `count` posts.
func posts(_ count: Int) -> String {
    var items: [String] = []
    for id in 1...count {
        items.append(
            #"{"id":\#(id),"date":"2026-11-26T10:00:00","slug":"post-\#(id)","status":"publish","type":"post","#
                + #""link":"https:\/\/example.com\/post-\#(id)\/","title":{"rendered":"Post number \#(id)"},"#
                + #""content":{"rendered":"<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. \u00e9\u00e8 Ut enim ad minim veniam.<\/p>\n<img src=\"https:\/\/example.com\/wp-content\/uploads\/\#(id).jpg\" srcset=\"https:\/\/example.com\/wp-content\/uploads\/\#(id)-300.jpg 300w, https:\/\/example.com\/wp-content\/uploads\/\#(id).jpg 1024w\">","protected":false},"#
                + #""author":1,"featured_media":0,"sticky":false,"categories":[1,4],"tags":[7,9,12],"meta":{"footnotes":""}}"#
        )
    }
    return "[" + items.joined(separator: ",") + "]"
}

/// A body of about `bytes` bytes.
func body(about bytes: Int) -> ByteBuffer {
    let one = posts(1).utf8.count
    return ByteBuffer(string: posts(max(1, bytes / (one + 1))))
}

func rules(regex: Bool) -> ValidationConfiguration {
    var rules: [ValidationRule] = [
        ValidationRule(name: "status", check: .status([200])),
        ValidationRule(name: "content_type", check: .contentType(["application/json"])),
        ValidationRule(name: "min_bytes", check: .minBytes(2)),
        ValidationRule(name: "json", check: .json),
    ]
    for text in ["<b>Fatal error</b>:", "<b>Parse error</b>:", "<b>Warning</b>:", "<b>Notice</b>:"] {
        rules.append(ValidationRule(name: "deny_body", check: .bodyDenies(Array(text.utf8))))
    }
    let wpError = ValidationRule(
        name: "wp-error",
        check: .all([
            ValidationRule(name: "code", check: .pointer(try! JSONPointer("/code"), .type(.string))),
            ValidationRule(name: "message", check: .pointer(try! JSONPointer("/message"), .type(.string))),
            ValidationRule(name: "data", check: .pointer(try! JSONPointer("/data"), .exists)),
        ])
    )
    rules.append(ValidationRule(name: "not-wp-error", check: .not(wpError)))
    if regex { rules.append(ValidationRule(name: "regex", check: .bodyDeniesPattern(try! Pattern("on line <b>[0-9]+</b>")))) }
    var configuration = ValidationConfiguration(rules: rules)
    configuration.validateMaxBytes = 4 << 20
    return configuration
}

/// Median time of one call, over rounds of enough calls to take about 0.2 s each.
func measure(_ name: String, size: Int, _ work: () -> Void) {
    let clock = ContinuousClock()
    var iterations = 1
    while clock.measure({ for _ in 0..<iterations { work() } }) < .milliseconds(50) { iterations *= 2 }
    iterations *= 4
    var samples: [Double] = []
    for _ in 0..<7 {
        let elapsed = clock.measure { for _ in 0..<iterations { work() } }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        samples.append(seconds / Double(iterations))
    }
    samples.sort()
    let median = samples[samples.count / 2]
    let micros = median * 1e6
    let throughput = Double(size) / median / 1e6
    print(
        "| \(name) | \(size / 1024) KiB | \(micros < 100 ? String(Double(Int(micros * 10)) / 10) : String(Int(micros))) µs | \(Int(throughput)) MB/s |"
    )
}

let headers: [(name: String, value: String)] = [("Content-Type", "application/json; charset=UTF-8")]
print("| work | body | time per response (median) | throughput |")
print("| --- | --- | --- | --- |")
for size in [10 << 10, 1 << 20] {
    let buffer = body(about: size)
    let recipe = rules(regex: false)
    let withRegex = rules(regex: true)
    precondition(recipe.validate(status: 200, headers: headers, body: buffer) == nil, "the sample must pass")
    precondition(withRegex.validate(status: 200, headers: headers, body: buffer) == nil, "the sample must pass")
    measure("copy the body (baseline)", size: buffer.readableBytes) {
        var copy = ByteBufferAllocator().buffer(capacity: buffer.readableBytes)
        copy.writeImmutableBuffer(buffer)
        precondition(copy.readableBytes == buffer.readableBytes)
    }
    measure("parse JSON into a whole tree", size: buffer.readableBytes) {
        let value = buffer.withUnsafeReadableBytes { try? JSONParser.parse($0) }
        precondition(value != nil)
    }
    measure("check the JSON syntax only", size: buffer.readableBytes) {
        let value = buffer.withUnsafeReadableBytes { try? JSONParser.parse($0, keeping: .nothing) }
        precondition(value != nil)
    }
    measure("WordPress recipe rules", size: buffer.readableBytes) {
        precondition(recipe.validate(status: 200, headers: headers, body: buffer) == nil)
    }
    measure("recipe + deny_body_regex", size: buffer.readableBytes) {
        precondition(withRegex.validate(status: 200, headers: headers, body: buffer) == nil)
    }
}

// The recipe's tags and its image rewriting (examples/wordpress.yaml), as BodyTransform runs them.
let tagRules = BodyTagRules(
    fixed: ["wordpress"],
    rules: [("/id", "post-{}"), ("/*/id", "post-{}"), ("/*/type", "type-{}"), ("/*/author", "author-{}"), ("/*/categories/*", "term-{}"),
        ("/*/tags/*", "term-{}"), ("/*/taxonomy", "taxonomy-{}")].map { .init(pattern: try! JSONPattern($0.0), template: $0.1) },
    maxCount: 100_000)
let htmlFields = JSONSelector(["/content/rendered", "/*/content/rendered", "/excerpt/rendered", "/*/excerpt/rendered"].map { try! JSONPattern($0) })
let signer = try! URLSigner(keys: [try! SigningKey(id: "default", secret: "benchmark-secret")])
let rewriteOptions = RewriteOptions(base: "https://img.example.com")
print("")
print("| body transform (once per stored answer) | body | time per response (median) | throughput |")
print("| --- | --- | --- | --- |")
for size in [10 << 10, 1 << 20] {
    let buffer = body(about: size)
    measure("tags from the body (the recipe's 7 pointers)", size: buffer.readableBytes) {
        let result = buffer.withUnsafeReadableBytes { tagRules.tags(upstream: [], body: $0) }
        precondition(result.tags.count > 5)
    }
    measure("image URLs in content.rendered signed", size: buffer.readableBytes) {
        let edited = buffer.withUnsafeReadableBytes { bytes in
            try? JSONStringEditor.edit(bytes, selector: htmlFields) { _, text in
                String(decoding: HTMLRewriter.rewrite(text.utf8, signer: signer, options: rewriteOptions), as: UTF8.self)
            }
        }
        precondition(edited != nil)
    }
}
