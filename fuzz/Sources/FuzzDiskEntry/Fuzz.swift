// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import FuzzSupport
import MoxyStorage
import NIOCore

/// The disk tier's file decoder. Inputs that start with the magic `MOXY` are whole files (a
/// damaged or foreign file: refused or decoded, never a crash); any other input is a header whose
/// prefix, checksum and body blocks the harness makes valid, so the mutations reach the field
/// parser behind the checksums. What decodes encodes to a file that decodes to the same entry,
/// and the header decoder agrees with the whole-file decoder on where the body starts.
@_cdecl("FuzzStoredEntry_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in
        let input = bytes(data, size)
        let file = input.starts(with: Array("MOXY".utf8)) ? ByteBuffer(bytes: input) : checksummed(header: input)
        let header = try? StoredEntry.decodeHeader(file, expectedKey: nil)
        guard let entry = try? StoredEntry.decode(file, expectedKey: nil) else { return 0 }
        check(header != nil, "a file that decodes has a header that decodes")
        if let header {
            check(header.bodyLength == entry.body.readableBytes, "the header's body length is the body's")
            check(header.bodyOffset + StoredBlocks.storedLength(ofBody: header.bodyLength) == file.readableBytes, "the lengths add up")
        }
        let encoded = entry.encode()
        guard let again = try? StoredEntry.decode(encoded, expectedKey: entry.key) else {
            check(false, "an entry's own encoding decodes")
            return 0
        }
        check(again.encode() == encoded, "encoding is stable")
        check(again.body == entry.body && again.key == entry.key && again.status == entry.status, "the same entry comes back")
        check(again.fields.map(\.name) == entry.fields.map(\.name) && again.surrogateKeys == entry.surrogateKeys, "fields and tags come back")
        return 0
    }
}

/// A file around `header`: magic `MOXY`, version 2, no flags, the header's length, the header,
/// its CRC-32C, then a body of the length the header's last eight bytes give (at most 1 MiB;
/// none when longer), in checksummed blocks.
func checksummed(header: [UInt8]) -> ByteBuffer {
    var file = ByteBuffer()
    file.writeInteger(UInt32(0x4D4F_5859))
    file.writeInteger(UInt16(2))
    file.writeInteger(UInt16(0))
    file.writeInteger(UInt32(header.count))
    file.writeBytes(header)
    var crc = CRC32C()
    file.withUnsafeReadableBytes { crc.update($0) }
    file.writeInteger(crc.value)
    guard header.count >= 8 else { return file }
    let length = header.suffix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    guard length <= 1 << 20 else { return file }
    var remaining = Int(length)
    var filler: UInt8 = 0
    while remaining > 0 {
        let count = min(StoredBlocks.blockSize, remaining)
        let block = ByteBuffer(bytes: (0..<count).map { _ in filler &+= 1; return filler })
        StoredBlocks.write(block, into: &file)
        remaining -= count
    }
    return file
}
