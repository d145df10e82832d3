// SPDX-License-Identifier: Apache-2.0

import FuzzSupport
import MoxySigning

let signer = try! URLSigner(keys: [try! SigningKey(id: "default", secret: "fuzz")], defaultKeyID: "default")
let camo = try! CamoSigner(keys: ["fuzz"], formats: [.hex, .query, .base64])

@_cdecl("FuzzURLDecoders_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in
        let input = bytes(data, size)
        let path = text(data, size)
        _ = try? signer.verify(path: path, now: 1_800_000_000)
        if let mark = path.firstIndex(of: "?") {
            _ = try? camo.verify(path: path[..<mark], query: path[path.index(after: mark)...])
        } else {
            _ = try? camo.verify(path: Substring(path), query: nil)
        }
        if let decoded = Base64URL.decode(input) {
            check(Array(Base64URL.encode(decoded).utf8) == input, "base64url decode/encode round trip")
        }
        if let decoded = CamoSigner.hexDecode(input) {
            check(decoded.count * 2 == input.count, "hex length")
        }
        _ = CamoSigner.lenientBase64(input)
        _ = CamoSigner.percentDecode(Substring(path))
        // Signing what verification accepted must give the same path back.
        if let url = try? camo.verify(path: Substring(path), query: nil), !url.contains("%") {
            let again = camo.sign(url, format: path.utf8.count > 42 && path.utf8.dropFirst().prefix(41).last == UInt8(ascii: "/") ? .hex : .base64)
            check(try! camo.verify(path: Substring(again), query: nil) == url, "camo sign/verify round trip")
        }
        return 0
    }
}
