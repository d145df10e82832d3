// SPDX-License-Identifier: Apache-2.0

import Crypto
import FuzzSupport
import MoxySigning

let signer = try! URLSigner(keys: [try! SigningKey(id: "default", secret: "fuzz")], defaultKeyID: "default")
let camo = try! CamoSigner(keys: ["fuzz"], formats: [.hex, .query, .base64])
let fuzzKey = SymmetricKey(data: Array("fuzz".utf8))

/// The input as everything after the signature (`/[options/]target`), signed with the fuzz key: a
/// mutation cannot forge the HMAC, so without this nothing past the signature check would run.
func signedPath(_ input: [UInt8]) -> [UInt8] {
    let rest = input.first == UInt8(ascii: "/") ? input : [UInt8(ascii: "/")] + input
    let mac = HMAC<SHA256>.authenticationCode(for: rest, using: fuzzKey)
    return [UInt8(ascii: "/")] + Array(Base64URL.encode(Array(mac)).utf8) + rest
}

@_cdecl("FuzzURLDecoders_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in
        let input = bytes(data, size)
        let path = text(data, size)
        _ = try? signer.verify(path: path, now: 1_800_000_000)
        // Past the signature: options, extension, base64url and the target check on mutated input.
        let signed = signedPath(input)
        do {
            let target = try signed.withUnsafeBufferPointer { try signer.verify(pathBytes: $0, now: 1_800_000_000) }
            let lower = target.url.lowercased()
            check(lower.hasPrefix("http://") || lower.hasPrefix("https://"), "verified a target that is not http(s)")
            // What verified signs again (same options) and verifies to the same URL.
            if let again = try? signer.sign(target.url, options: SignOptions(expires: target.expires)) {
                check((try? signer.verify(path: again, now: 1_700_000_000))?.url == target.url, "native sign/verify round trip")
            }
        } catch let error as SigningError {
            check(error.code != .badSignature, "a correctly signed path was refused as badly signed")
        } catch {
            check(false, "verify threw \(error)")
        }
        // camo's digest covers the URL: sign the input as a URL, then the decoders must give it back.
        if !path.contains(" "), !path.contains("%"), path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) {
            for format in [CamoSigner.Formats.hex, .base64] {
                if let url = try? camo.verify(path: Substring(camo.sign(path, format: format)), query: nil) {
                    check(url == path, "camo sign/verify changed the URL")
                }
            }
        }
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
