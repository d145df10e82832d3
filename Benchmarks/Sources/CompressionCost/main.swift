// SPDX-License-Identifier: Apache-2.0
//
// What the gzip form of a stored response costs: it is computed once, when the entry is stored
// (never per request), with the same call and level as `ResponseCompression.gzip` (zlib's default,
// 6), for WordPress-like JSON of 1 KiB, 10 KiB, 100 KiB and 1 MiB. Prints time per entry, the
// compressed size, and the bytes a client of the gzip form no longer downloads.

import CompressNIO
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

print("| body | gzip per stored entry (median) | throughput | gzip size | saved per gzip client |")
print("| --- | --- | --- | --- | --- |")
for size in [1 << 10, 10 << 10, 100 << 10, 1 << 20] {
    let body = posts(about: size)
    var sample = body
    let encoded = try! sample.compress(with: .gzip())
    let seconds = median {
        var input = body
        let output = try! input.compress(with: .gzip())
        precondition(output.readableBytes > 0)
    }
    let micros = seconds * 1e6
    print(
        "| \(body.readableBytes / 1024) KiB | \(micros < 100 ? String(Double(Int(micros * 10)) / 10) : String(Int(micros))) µs "
            + "| \(Int(Double(body.readableBytes) / seconds / 1e6)) MB/s | \(encoded.readableBytes) B "
            + "(\(encoded.readableBytes * 100 / body.readableBytes) %) | \(body.readableBytes - encoded.readableBytes) B |"
    )
}
