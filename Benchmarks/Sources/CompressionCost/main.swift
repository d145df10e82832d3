// SPDX-License-Identifier: Apache-2.0
//
// What the encoded forms of a stored response cost: they are computed once, when the entry is
// stored (never per request), with the same calls and levels as `ResponseCompression` (gzip at
// zlib's default, 6; brotli and zstd through `MoxyCompression.Compressors`), for WordPress-like
// JSON of 1 KiB, 10 KiB, 100 KiB and 1 MiB. Prints time per entry, the compressed size, and the
// bytes a client of that form no longer downloads.

import CompressNIO
import MoxyCompression
import NIOCore

func posts(about bytes: Int) -> ByteBuffer {
    var items: [String] = []
    var length = 2
    var id = 0
    while length < bytes {
        id += 1
        let item =
            #"{"id":\#(id),"date":"2026-11-26T10:00:00","slug":"post-\#(id)","status":"publish","type":"post","#
            + #""title":{"rendered":"Post number \#(id)"},"content":{"rendered":"<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit \#(id * 7919 % 1000).<\/p>\n"},"#
            + #""author":\#(id % 5),"categories":[\#(id % 9),4],"tags":[7,\#(id % 13)]}"#
        items.append(item)
        length += item.utf8.count + 1
    }
    return ByteBuffer(string: "[" + items.joined(separator: ",") + "]")
}

/// Median seconds of one call, over rounds that take about 50 ms each.
func median(_ work: () -> Void) -> Double {
    let clock = ContinuousClock()
    var iterations = 1
    while clock.measure({ for _ in 0..<iterations { work() } }) < .milliseconds(50) { iterations *= 2 }
    var samples: [Double] = []
    for _ in 0..<7 {
        let elapsed = clock.measure { for _ in 0..<iterations { work() } }
        samples.append((Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) / Double(iterations))
    }
    return samples.sorted()[samples.count / 2]
}

let coders: [(String, (ByteBuffer) -> ByteBuffer?)] = [
    ("gzip", { body in
        var input = body
        return try? input.compress(with: .gzip())
    }),
    ("brotli q\(Compressors.brotliQuality)", { Compressors.brotli($0) }),
    ("zstd \(Compressors.zstdLevel)", { Compressors.zstd($0) }),
]
print("| body | coding | per stored entry (median) | throughput | size | saved per client of the form |")
print("| --- | --- | --- | --- | --- | --- |")
for size in [1 << 10, 10 << 10, 100 << 10, 1 << 20] {
    let body = posts(about: size)
    for (name, coder) in coders {
        let encoded = coder(body)!
        let seconds = median { precondition(coder(body)!.readableBytes > 0) }
        let micros = seconds * 1e6
        print(
            "| \(body.readableBytes / 1024) KiB | \(name) | \(micros < 100 ? String(Double(Int(micros * 10)) / 10) : String(Int(micros))) µs "
                + "| \(Int(Double(body.readableBytes) / seconds / 1e6)) MB/s | \(encoded.readableBytes) B "
                + "(\(encoded.readableBytes * 100 / body.readableBytes) %) | \(body.readableBytes - encoded.readableBytes) B |"
        )
    }
}
