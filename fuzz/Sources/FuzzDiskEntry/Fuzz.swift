// SPDX-License-Identifier: Apache-2.0

import FuzzSupport
import MoxyStorage
import NIOCore

/// The disk tier's file decoder on arbitrary bytes (a damaged or foreign file): it refuses or
/// decodes, never crashes, and what it decodes encodes to a file that decodes to the same entry.
/// The header decoder alone agrees with the whole-file decoder on where the body starts.
@_cdecl("FuzzDiskEntry_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in
        let file = ByteBuffer(bytes: bytes(data, size))
        let header = try? DiskEntry.decodeHeader(file, expectedKey: nil)
        guard let entry = try? DiskEntry.decode(file, expectedKey: nil) else { return 0 }
        check(header != nil, "a file that decodes has a header that decodes")
        if let header {
            check(header.bodyLength == entry.body.readableBytes, "the header's body length is the body's")
            check(header.bodyOffset + DiskBlocks.storedLength(ofBody: header.bodyLength) == file.readableBytes, "the lengths add up")
        }
        let encoded = entry.encode()
        guard let again = try? DiskEntry.decode(encoded, expectedKey: entry.key) else {
            check(false, "an entry's own encoding decodes")
            return 0
        }
        check(again.encode() == encoded, "encoding is stable")
        check(again.body == entry.body && again.key == entry.key && again.status == entry.status, "the same entry comes back")
        return 0
    }
}
