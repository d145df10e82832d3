// SPDX-License-Identifier: Apache-2.0

import MoxySigning
import Testing

/// The camo / go-camo vectors of CAMO-COMPAT §1, checked in every format.
@Suite struct CamoVectorTests {
    struct Vector: Sendable, CustomStringConvertible {
        let key: String
        let url: String
        let hex: String
        let query: String
        let base64: String
        var description: String { url }
    }

    static let vectors: [Vector] = [
        Vector(
            key: "0x24FEEDFACEDEADBEEFCAFE",
            url: "http://example.com/cat.png",
            hex: "/1c7445993b08e79325bfa7c08ab11a5e87052be1/687474703a2f2f6578616d706c652e636f6d2f6361742e706e67",
            query: "/1c7445993b08e79325bfa7c08ab11a5e87052be1?url=http%3A%2F%2Fexample.com%2Fcat.png",
            base64: "/HHRFmTsI55Mlv6fAirEaXocFK-E/aHR0cDovL2V4YW1wbGUuY29tL2NhdC5wbmc"
        ),
        Vector(
            key: "moxy-test-key",
            url: "https://images.example.org/a/b.jpg?size=large&v=2",
            hex: "/0adaab8980407b31503c3e856f9a393adb5ae1c4/68747470733a2f2f696d616765732e6578616d706c652e6f72672f612f622e6a70673f73697a653d6c6172676526763d32",
            query: "/0adaab8980407b31503c3e856f9a393adb5ae1c4?url=https%3A%2F%2Fimages.example.org%2Fa%2Fb.jpg%3Fsize%3Dlarge%26v%3D2",
            base64: "/CtqriYBAezFQPD6Fb5o5Otta4cQ/aHR0cHM6Ly9pbWFnZXMuZXhhbXBsZS5vcmcvYS9iLmpwZz9zaXplPWxhcmdlJnY9Mg"
        ),
        Vector(
            key: "s3cr3t",
            url: "http://example.net/path with space/ü.gif",
            hex: "/45f8b04f8bf07839f88898425fba149fca68ad71/687474703a2f2f6578616d706c652e6e65742f7061746820776974682073706163652fc3bc2e676966",
            query: "/45f8b04f8bf07839f88898425fba149fca68ad71?url=http%3A%2F%2Fexample.net%2Fpath%20with%20space%2F%C3%BC.gif",
            base64: "/RfiwT4vweDn4iJhCX7oUn8porXE/aHR0cDovL2V4YW1wbGUubmV0L3BhdGggd2l0aCBzcGFjZS_DvC5naWY"
        ),
        Vector(
            key: "k",
            url: "http://127.0.0.1:9292/pixel.png",
            hex: "/595b86a71e411e19ccc101d301e6c300b1f1c345/687474703a2f2f3132372e302e302e313a393239322f706978656c2e706e67",
            query: "/595b86a71e411e19ccc101d301e6c300b1f1c345?url=http%3A%2F%2F127.0.0.1%3A9292%2Fpixel.png",
            base64: "/WVuGpx5BHhnMwQHTAebDALHxw0U/aHR0cDovLzEyNy4wLjAuMTo5MjkyL3BpeGVsLnBuZw"
        ),
    ]

    /// The URL as fetched: spaces and non-ASCII bytes escaped, nothing else touched.
    static func fetched(_ url: String) -> String {
        url.escapingSpacesAndNonASCII()
    }

    func split(_ path: String) -> (Substring, Substring?) {
        guard let mark = path.firstIndex(of: "?") else { return (Substring(path), nil) }
        return (path[..<mark], path[path.index(after: mark)...])
    }

    @Test(arguments: vectors)
    func everyFormatVerifiesAndSigns(_ vector: Vector) throws {
        let signer = try CamoSigner(keys: [vector.key], formats: [.hex, .query, .base64])
        for path in [vector.hex, vector.query, vector.base64] {
            let (bare, query) = split(path)
            #expect(try signer.verify(path: bare, query: query) == Self.fetched(vector.url), "\(path)")
        }
        #expect(signer.sign(vector.url, format: .hex) == vector.hex)
        #expect(signer.sign(vector.url, format: .base64) == vector.base64)
        #expect(signer.sign(vector.url, format: .query) == vector.query)
    }

    @Test func goCamoReadmeVectorAndItsLeniency() throws {
        let signer = try CamoSigner(keys: ["test"], formats: .goCamo)
        let url = "http://golang.org/doc/gopher/frontpage.png"
        let hexURL = CamoSignerTestSupport.hex(url)
        #expect(try signer.verify(path: "/0f6def1cb147b0e84f39cbddc5ea10c80253a6f3/\(hexURL)", query: nil) == url)
        // Uppercase hex (go-camo accepts it) and padded base64.
        #expect(try signer.verify(path: "/0F6DEF1CB147B0E84F39CBDDC5EA10C80253A6F3/\(hexURL.uppercased())", query: nil) == url)
        let b64 = signer.sign(url, format: .base64)
        #expect(b64.hasPrefix("/D23vHLFHsOhPOcvdxeoQyAJTpvM/"))
        let padded = "/D23vHLFHsOhPOcvdxeoQyAJTpvM=/" + b64.split(separator: "/")[1] + "="
        #expect(try signer.verify(path: Substring(padded), query: nil) == url)
    }

    @Test func formatsAreEnabledSeparatelyAndBadInputIsRefused() throws {
        let vector = Self.vectors[0]
        let camo = try CamoSigner(keys: [vector.key], formats: .camo)
        let goCamo = try CamoSigner(keys: [vector.key], formats: .goCamo)
        #expect(try camo.verify(path: Substring(vector.base64), query: nil) == nil)
        #expect(try goCamo.verify(path: Substring(split(vector.query).0), query: split(vector.query).1) == nil)
        // A wrong key is a bad signature, never a pass.
        let other = try CamoSigner(keys: ["other"], formats: [.hex, .query, .base64])
        for path in [vector.hex, vector.base64] {
            #expect(throws: SigningError(.badSignature, "")) { try other.verify(path: Substring(path), query: nil) }
        }
        // Several keys: rotation.
        let rotated = try CamoSigner(keys: ["new", vector.key], formats: .camo)
        #expect(try rotated.verify(path: Substring(vector.hex), query: nil) == vector.url)
        // A repeated url= is refused as camo does.
        let (bare, _) = split(vector.query)
        #expect(throws: SigningError(.invalidTarget, "")) {
            try camo.verify(path: bare, query: "url=http%3A%2F%2Fa&url=http%3A%2F%2Fb")
        }
        // Non-http targets are refused after the signature check.
        let ftp = camo.sign("ftp://example.com/a.png", format: .hex)
        #expect(throws: SigningError(.invalidTarget, "")) { try camo.verify(path: Substring(ftp), query: nil) }
        #expect(throws: SigningError(.invalidKey, "")) { _ = try CamoSigner(keys: [""], formats: .camo) }
        for junk in ["/", "/x/y", "/\(String(repeating: "z", count: 40))/00", "//", "/a/b/c"] {
            #expect(try camo.verify(path: Substring(junk), query: nil) == nil, "\(junk)")
        }
    }
}

enum CamoSignerTestSupport {
    static func hex(_ text: String) -> String {
        text.utf8.map { byte in
            let digits = Array("0123456789abcdef")
            return String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 15)])
        }.joined()
    }
}

extension String {
    fileprivate func escapingSpacesAndNonASCII() -> String {
        var output = ""
        for byte in utf8 {
            if byte == 0x20 || byte >= 0x80 {
                output += "%" + String(byte, radix: 16, uppercase: true)
            } else {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return output
    }
}
