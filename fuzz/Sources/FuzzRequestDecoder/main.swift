// SPDX-License-Identifier: Apache-2.0

import FuzzSupport
import MoxyServer
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// The parts a decoder reads from `chunks`, as text (body slices joined), and whether it refused.
func decode<Decoder: ByteToMessageDecoder>(_ decoder: Decoder, _ chunks: [[UInt8]]) -> (parts: [String], refused: Bool)
where Decoder.InboundOut == HTTPServerRequestPart {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(decoder))
    var parts: [String] = []
    var refused = false
    func collect() {
        while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
            switch part {
            case .head(let head):
                var method = head.method.rawValue
                if method == "MSEARCH" { method = "M-SEARCH" }  // NIO's name for the M-SEARCH token
                let fields = head.headers.map { "\($0.name)=\($0.value.trimmingTrailingWhitespace)" }
                parts.append("head \(method) \(head.uri) \(head.version) \(fields)")
            case .body(let buffer):
                // Bytes as hex, so slices join the same however the body was split (UTF-8
                // decoding of a split sequence would not).
                let text = buffer.readableBytesView.map { String($0, radix: 16) + "," }.joined()
                if let last = parts.last, last.hasPrefix("body ") {
                    parts[parts.count - 1] = last + text
                } else {
                    parts.append("body " + text)
                }
            case .end(let trailers):
                parts.append("end \(trailers.map { $0.map { "\($0.name)=\($0.value.trimmingTrailingWhitespace)" } } ?? [])")
            }
        }
    }
    for chunk in chunks where !refused {
        do { try channel.writeInbound(ByteBuffer(bytes: chunk)) } catch { refused = true }
        collect()
    }
    // Always finished, refused or not: a channel left open keeps its pipeline alive (a leak to ASan).
    do { _ = try channel.finish() } catch { refused = true }
    collect()
    return (parts, refused)
}

extension String {
    /// llhttp keeps trailing whitespace in field values; RFC 9110 §5.5 excludes it, as Moxy does.
    var trimmingTrailingWhitespace: Substring {
        var text = Substring(self)
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}

/// Invariants: no crash and bounded work on any bytes; how the bytes are split into reads changes
/// nothing; where Moxy reads whole requests, llhttp reads the same ones or refuses, never others
/// (a disagreement on request boundaries is request smuggling).
@_cdecl("FuzzRequestDecoder_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in
        let input = bytes(data, size)
        guard !input.isEmpty else { return 0 }
        // The first byte picks the read size for the split run.
        let step = Int(input[0] % 16) + 1
        let payload = Array(input.dropFirst())
        let whole = decode(RequestDecoder(maxHeadBytes: 2048), [payload])
        let reads = stride(from: 0, to: payload.count, by: step).map { Array(payload[$0..<min($0 + step, payload.count)]) }
        let split = decode(RequestDecoder(maxHeadBytes: 2048), reads)
        check(whole.parts == split.parts && whole.refused == split.refused, "reads of \(step) bytes change the result")
        guard !whole.refused, whole.parts.last?.hasPrefix("end") == true,
            String(decoding: payload, as: UTF8.self).utf8.elementsEqual(payload)
        else { return 0 }
        let nio = decode(HTTPRequestDecoder(), [payload])
        if nio.refused {
            check(whole.parts.starts(with: nio.parts), "llhttp read other requests before refusing: \(nio.parts) vs \(whole.parts)")
        } else {
            check(whole.parts == nio.parts, "llhttp read other requests: \(nio.parts) vs \(whole.parts)")
        }
        return 0
    }
}
