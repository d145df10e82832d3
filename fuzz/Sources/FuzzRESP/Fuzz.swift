// SPDX-License-Identifier: Apache-2.0

import FuzzSupport
import MoxyRedis
import NIOCore

/// What a Redis server (or anything answering on its port) sends: every input is read as values
/// or refused with a protocol error, never a crash or a hang; and bytes that arrive in two pieces
/// read as the same values as when they arrive whole.
@_cdecl("FuzzRESP_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in
        let input = bytes(data, size)
        var limits = RESPDecoder.Limits()
        limits.maxBulkBytes = 1 << 16
        limits.maxElements = 1 << 12
        let decoder = RESPDecoder(limits: limits)
        let whole = read(input, decoder, split: nil)
        let cut = input.isEmpty ? 0 : Int(input[0]) % (input.count + 1)
        let pieces = read(input, decoder, split: cut)
        check(whole == pieces, "the same values whole and split at \(cut)")
        return 0
    }
}

/// The values read (and whether a protocol error ended them), feeding the bytes whole or in two pieces.
private func read(_ input: [UInt8], _ decoder: RESPDecoder, split: Int?) -> [String] {
    var buffer = ByteBuffer()
    var values: [String] = []
    let parts = split.map { [Array(input[..<$0]), Array(input[$0...])] } ?? [input]
    for part in parts {
        buffer.writeBytes(part)
        do {
            while let value = try decoder.decode(&buffer) { values.append("\(value)") }
        } catch {
            check(error.code == .protocolError, "only protocol errors")
            // A refusal may come at a different value boundary only if it is the same error.
            values.append("error: \(error.message)")
            return values
        }
    }
    return values
}
