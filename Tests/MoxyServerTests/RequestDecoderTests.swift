// SPDX-License-Identifier: Apache-2.0

@testable import MoxyServer
import MoxySimulation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

/// What a decoder made of some bytes: the parts as text (consecutive body slices joined, so the
/// result does not depend on how the bytes were split), and the error that stopped it.
struct Decoded: Equatable, CustomStringConvertible {
    var parts: [String] = []
    var error: String?

    var description: String { parts.joined(separator: " | ") + (error.map { " !! \($0)" } ?? "") }

    /// Runs `decoder` over `chunks`, one channel read each, then the end of input.
    static func run<Decoder: ByteToMessageDecoder>(_ decoder: Decoder, _ chunks: [[UInt8]]) -> Decoded
    where Decoder.InboundOut == HTTPServerRequestPart {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(decoder))
        var decoded = Decoded()
        var body: [UInt8] = []
        func flushBody() {
            guard decoded.parts.last == "body" else { return }
            decoded.parts[decoded.parts.count - 1] = "body " + String(decoding: body, as: UTF8.self)
        }
        func collect() {
            while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
                switch part {
                case .head(let head):
                    let fields = head.headers.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
                    decoded.parts.append("head \(head.method.rawValue) \(head.uri) \(head.version) [\(fields)]")
                case .body(let buffer):
                    // Joined as bytes, decoded as text when the body ends (a UTF-8 sequence may be split).
                    if decoded.parts.last == "body" { body += buffer.readableBytesView } else {
                        decoded.parts.append("body")
                        body = Array(buffer.readableBytesView)
                    }
                case .end(let trailers):
                    flushBody()
                    decoded.parts.append("end" + (trailers.map { " [\($0.map { "\($0.name)=\($0.value)" }.joined(separator: ","))]" } ?? ""))
                }
            }
        }
        for chunk in chunks where decoded.error == nil {
            do {
                try channel.writeInbound(ByteBuffer(bytes: chunk))
            } catch {
                decoded.error = "\(error)"
            }
            collect()
        }
        // Finished also after a refusal, so the pipeline is torn down.
        do { _ = try channel.finish() } catch { decoded.error = decoded.error ?? "\(error)" }
        collect()
        flushBody()
        return decoded
    }

    static func moxy(_ text: String, split: Int? = nil) -> Decoded {
        run(RequestDecoder(maxHeadBytes: 1024), chunks(Array(text.utf8), split))
    }

    /// NIO's decoder, with its two known differences normalised: llhttp keeps trailing whitespace in
    /// field values (RFC 9110 §5.5 excludes it; Moxy trims it) and names `M-SEARCH` `.MSEARCH`,
    /// which NIO's encoder writes without the hyphen (Moxy keeps the token as written).
    static func nio(_ text: String) -> Decoded {
        var decoded = run(HTTPRequestDecoder(), [Array(text.utf8)])
        decoded.parts = decoded.parts.map { part in
            guard part.hasPrefix("head ") else { return part }
            return part.replacing("head MSEARCH ", with: "head M-SEARCH ").replacing(/[\ \t]+(?=[,\]])/, with: "")
        }
        return decoded
    }

    static func chunks(_ bytes: [UInt8], _ size: Int?) -> [[UInt8]] {
        guard let size else { return [bytes] }
        return stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
    }
}

/// RFC 9112 framing of client requests, as Moxy's decoder does it.
@Suite struct RequestDecoderTests {
    static let valid: [String] = [
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "\r\n\r\nGET /after-empty-lines HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /a?b=c HTTP/1.0\r\n\r\n",
        "HEAD /h HTTP/1.1\r\nHost: x\r\nAccept:  */*  \r\nX-Empty:\r\n\r\n",
        "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        "PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;name=value\r\n world\r\n0\r\n\r\n",
        "POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n",
        "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: y\r\nConnection: close\r\n\r\n",
        "POST /z HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        "PROPFIND /dav HTTP/1.1\r\nHost: x\r\nDepth: 1\r\n\r\n",
        "M-SEARCH * HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /v HTTP/1.1\r\nHost: x\r\nUser-Agent: caf\u{E9}\r\n\r\n",
        "GET http://example.test/abs HTTP/1.1\r\nHost: example.test\r\n\r\n",
        "CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n",
        "POST /q HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a;b=\"q \\\" d\";c=t\r\nhi\r\n0\r\n\r\n",
    ]

    @Test(arguments: valid)
    func validRequestsDecodeAsNIOsDecoderDoes(_ text: String) {
        let moxy = Decoded.moxy(text)
        #expect(moxy.error == nil, "\(moxy)")
        #expect(moxy == Decoded.nio(text))
    }

    @Test(arguments: valid)
    func splittingTheBytesChangesNothing(_ text: String) {
        let whole = Decoded.moxy(text)
        for size in [1, 2, 3, 7] {
            #expect(Decoded.moxy(text, split: size) == whole, "split into \(size)-byte reads")
        }
    }

    @Test(arguments: [
        ("BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", "BREW"),
        ("FOO_BAR / HTTP/1.1\r\nHost: x\r\n\r\n", "FOO_BAR"),
        ("Get / HTTP/1.1\r\nHost: x\r\n\r\n", "Get"),
        ("M-SEARCH * HTTP/1.1\r\nHost: x\r\n\r\n", "M-SEARCH"),
        ("MSEARCH * HTTP/1.1\r\nHost: x\r\n\r\n", "MSEARCH"),
        ("QUERY /q HTTP/1.1\r\nHost: x\r\n\r\n", "QUERY"),
    ])
    func anyMethodTokenIsAcceptedAndKeptAsWritten(_ text: String, _ method: String) {
        let decoded = Decoded.moxy(text)
        #expect(decoded.error == nil, "\(decoded)")
        #expect(decoded.parts.first?.hasPrefix("head \(method) ") == true, "\(decoded)")
    }

    /// Each refused input, with the stable code; most are request-smuggling shapes (CL.TE, TE.CL,
    /// TE.TE, bare LF, folding, spaces before the colon, duplicate lengths, bad chunk sizes).
    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", RequestDecodingError.Code.badTransferEncoding),
        ("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", .badTransferEncoding),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n", .badTransferEncoding),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n", .badTransferEncoding),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferCoding),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", .unsupportedTransferCoding),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", .badTransferEncoding),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", .badContentLength),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n", .badContentLength),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n", .badContentLength),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\n", .badContentLength),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", .badContentLength),
        ("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n", .badField),
        ("GET / HTTP/1.1\r\nHost: x\r\n Folded: yes\r\n\r\n", .obsoleteLineFolding),
        ("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n\tb\r\n\r\n", .obsoleteLineFolding),
        ("GET / HTTP/1.1\nHost: x\r\n\r\n", .bareLineFeed),
        ("GET / HTTP/1.1\r\nHost: x\n\n", .bareLineFeed),
        ("GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", .badField),
        ("GET / HTTP/1.1\r\nHost: x\r\nX: a\u{0}b\r\n\r\n", .badField),
        ("GET / HTTP/1.1\r\n: empty\r\nHost: x\r\n\r\n", .badField),
        ("GET / HTTP/1.1\r\nNo colon\r\nHost: x\r\n\r\n", .badField),
        ("GET / HTTP/1.1\r\n\r\n", .missingHost),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .duplicateHost),
        ("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", .badTarget),
        ("GET / HTTP/1.1 \r\nHost: x\r\n\r\n", .badRequestLine),
        ("GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", .badRequestLine),
        ("GET /\r\n\r\n", .badTarget),
        ("GET / http/1.1\r\nHost: x\r\n\r\n", .badRequestLine),
        ("GET / HTTP/2.0\r\nHost: x\r\n\r\n", .unsupportedVersion),
        ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", .unsupportedVersion),
        ("BR@W / HTTP/1.1\r\nHost: x\r\n\r\n", .badMethod),
        ("G\u{7F}T / HTTP/1.1\r\nHost: x\r\n\r\n", .badMethod),
        (" GET / HTTP/1.1\r\nHost: x\r\n\r\n", .badRequestLine),
        ("GET /\u{1}x HTTP/1.1\r\nHost: x\r\n\r\n", .badTarget),
        ("GET /caf\u{E9} HTTP/1.1\r\nHost: x\r\n\r\n", .badTarget),
        ("GET relative HTTP/1.1\r\nHost: x\r\n\r\n", .badTarget),
        ("GET example.test:443 HTTP/1.1\r\nHost: x\r\n\r\n", .badTarget),
        ("CONNECT /path HTTP/1.1\r\nHost: x\r\n\r\n", .badTarget),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;na:me=v\r\nhello\r\n", .badChunk),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"open\r\nhello\r\n", .badChunk),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b \r\nhello\r\n", .badChunk),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n", .badChunk),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", .badChunk),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n", .badChunk),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", .badChunk),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", .badChunk),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\u{1}\r\nhello\r\n", .badChunk),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n", .bareLineFeed),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer\r\n\r\n", .badField),
    ])
    func malformedRequestsAreRefusedWithAStableCode(_ text: String, _ code: RequestDecodingError.Code) {
        for split in [nil, 1] as [Int?] {
            let decoded = Decoded.moxy(text, split: split)
            #expect(decoded.error?.hasPrefix(code.rawValue + ":") == true, "\(text.debugDescription): \(decoded)")
        }
    }

    @Test func nothingIsDecodedAfterARefusal() {
        let decoded = Decoded.moxy("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(decoded.parts == ["head GET /a HTTP/1.1 [Host=x]", "end"])
        #expect(decoded.error?.hasPrefix("bare-line-feed") == true)
    }

    @Test func theHeadIsBoundedAndTheAnswerSaysWhichPart() {
        let longTarget = "GET /" + String(repeating: "a", count: 2000) + " HTTP/1.1\r\nHost: x\r\n\r\n"
        #expect(Decoded.moxy(longTarget).error?.hasPrefix("target-too-long") == true)
        #expect(Decoded.moxy(longTarget, split: 100).error?.hasPrefix("target-too-long") == true)
        let manyFields = "GET / HTTP/1.1\r\nHost: x\r\n" + String(repeating: "X-Field: value\r\n", count: 100) + "\r\n"
        #expect(Decoded.moxy(manyFields).error?.hasPrefix("head-too-large") == true)
        #expect(Decoded.moxy(manyFields, split: 50).error?.hasPrefix("head-too-large") == true)
        let withinBound = "GET / HTTP/1.1\r\nHost: x\r\n" + String(repeating: "X-Field: value\r\n", count: 50) + "\r\n"
        #expect(Decoded.moxy(withinBound).error == nil)
    }

    @Test func errorsAnswerTheRightStatus() {
        #expect(RequestDecodingError(.unsupportedVersion, "").proxyError.status == 505)
        #expect(RequestDecodingError(.unsupportedTransferCoding, "").proxyError.status == 501)
        #expect(RequestDecodingError(.targetTooLong, "").proxyError.status == 414)
        #expect(RequestDecodingError(.headTooLarge, "").proxyError.status == 431)
        #expect(RequestDecodingError(.obsoleteLineFolding, "").proxyError.status == 400)
    }

    /// Found by FuzzRequestDecoder (a harness bug, kept as a check): a body whose bytes are not
    /// UTF-8, read in pieces that split a sequence, is the same body.
    @Test func bodyBytesAreKeptWhateverTheReads() {
        let bytes: [UInt8] = Array("P-ST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n".utf8) + [0x68, 0xF3, 0x9B, 0x93, 0x93]
        let whole = Decoded.run(RequestDecoder(maxHeadBytes: 1024), [bytes])
        #expect(whole.parts.count == 3 && whole.error == nil, "\(whole)")
        #expect(Decoded.run(RequestDecoder(maxHeadBytes: 1024), Decoded.chunks(bytes, 4)) == whole)
    }

    @Test func aBodyCutShortByTheClientIsNotEnded() {
        let decoded = Decoded.moxy("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello")
        #expect(decoded.parts == ["head POST /p HTTP/1.1 [Host=x,Content-Length=10]", "body hello"])
    }
}

/// Moxy's decoder against llhttp (NIO's), on mutations of valid requests: wherever Moxy accepts
/// bytes, llhttp reads the same requests from them or refuses them, never other request
/// boundaries (a request-smuggling shape would show here as different parts).
@Suite struct RequestDecoderDifferentialTests {
    static let interesting: [[UInt8]] = [
        [13], [10], [13, 10], [32], [9], [58], [44], [59], [48], [53], [0], [127], [0xC3, 0xA9],
        Array("chunked".utf8), Array("Content-Length: 3\r\n".utf8), Array("Transfer-Encoding: chunked\r\n".utf8),
        Array("Host: y\r\n".utf8), Array("0\r\n\r\n".utf8), Array(" HTTP/1.1".utf8),
    ]

    static func mutate(_ input: [UInt8], _ random: inout SplitMix) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            let at = Int.random(in: 0...bytes.count, using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0 where at < bytes.count: bytes.remove(at: at)
            case 1 where at < bytes.count: bytes[at] = UInt8.random(in: 0...255, using: &random)
            case 2 where at < bytes.count:
                let end = min(bytes.count, at + Int.random(in: 1...20, using: &random))
                bytes.insert(contentsOf: bytes[at..<end], at: at)
            default: bytes.insert(contentsOf: interesting.randomElement(using: &random)!, at: at)
            }
        }
        return bytes
    }

    @Test func whereMoxyAcceptsLlhttpReadsTheSameRequests() async {
        var random = SplitMix(state: 0x4D6F_7879)
        var compared = 0
        for round in 0..<2000 {
            // CPU-bound: let the tests that serve over sockets have the (two) cooperative threads too.
            if round % 50 == 0 { await Task.yield() }
            let seed = Array(RequestDecoderTests.valid[round % RequestDecoderTests.valid.count].utf8)
            let bytes = Self.mutate(seed, &random)
            let text = String(decoding: bytes, as: UTF8.self)
            let moxy = Decoded.run(RequestDecoder(maxHeadBytes: 1024), [bytes])
            let split = Decoded.run(RequestDecoder(maxHeadBytes: 1024), Decoded.chunks(bytes, 1 + round % 5))
            #expect(split == moxy, "reads of \(1 + round % 5) bytes: \(text.debugDescription)")
            // Only whole requests decoded without an error are compared.
            guard moxy.error == nil, moxy.parts.last?.hasPrefix("end") == true else { continue }
            guard String(decoding: bytes, as: UTF8.self).utf8.elementsEqual(bytes) else { continue }  // llhttp and Moxy both decode as UTF-8, replacement differs
            let nio = Decoded.nio(text)
            compared += 1
            if nio.error == nil {
                #expect(nio.parts == moxy.parts, "\(text.debugDescription)\n moxy: \(moxy)\n nio:  \(nio)")
            } else {
                // llhttp refuses some bytes Moxy reads (a method outside its table, HTTP/1.2 to 1.9,
                // which RFC 9110 §2.5 reads as 1.1, a tab after "chunked", a scheme with a digit):
                // what it read before refusing must be what Moxy read.
                #expect(moxy.parts.starts(with: nio.parts), "\(text.debugDescription)\n moxy: \(moxy)\n nio:  \(nio)")
            }
        }
        #expect(compared > 150, "enough mutations stay valid to compare: \(compared)")
    }
}
