// SPDX-License-Identifier: Apache-2.0

extension URLSigner {
    /// Verifies a Moxy path and returns the target it names.
    ///
    /// The order is fixed: grammar, key lookup, one HMAC compared in constant time, then expiry, then
    /// the target itself. Nothing here touches the network.
    ///
    /// - Parameters:
    ///   - path: The request path without query string, exactly as received (e.g. `/sig/opts/b64`).
    ///   - now: The current Unix time in seconds.
    /// - Returns: The verified target.
    /// - Throws: ``SigningError``: `malformedPath`, `invalidOptions`, `unknownKey`, `badSignature`,
    ///   `expired` or `invalidTarget`.
    public func verify(path: some StringProtocol, now: Int64) throws -> VerifiedTarget {
        let bytes = Array(path.utf8)
        return try bytes.withUnsafeBufferPointer { try verify(pathBytes: $0, now: now) }
    }

    /// Verifies a Moxy path given as raw bytes; see ``verify(path:now:)``.
    /// - Parameters:
    ///   - pathBytes: The request path without query string.
    ///   - now: The current Unix time in seconds.
    /// - Returns: The verified target.
    /// - Throws: ``SigningError``.
    public func verify(pathBytes: UnsafeBufferPointer<UInt8>, now: Int64) throws -> VerifiedTarget {
        guard pathBytes.count <= VerifiedPaths.maxPathBytes else { return try check(pathBytes, now: now) }
        let hash = VerifiedPaths.hash(pathBytes)
        if let target = verified.target(for: pathBytes, hash: hash) {
            if let expires = target.expires, now >= expires { throw SigningError(.expired, "expired") }
            return target
        }
        let target = try check(pathBytes, now: now)
        verified.remember(pathBytes, hash: hash, target)
        return target
    }

    /// The full check of a path (see ``verify(path:now:)``).
    private func check(_ pathBytes: UnsafeBufferPointer<UInt8>, now: Int64) throws -> VerifiedTarget {
        let slash = UInt8(ascii: "/")
        guard pathBytes.count > 1, pathBytes.count <= 8192, pathBytes[0] == slash else {
            throw SigningError(.malformedPath, "path must be /<signature>/[<options>/]<base64url target>")
        }
        guard let restStart = pathBytes[1...].firstIndex(of: slash) else {
            throw SigningError(.malformedPath, "path must be /<signature>/[<options>/]<base64url target>")
        }
        let signatureText = pathBytes[1..<restStart]
        let rest = pathBytes[restStart...]
        let segments = rest.dropFirst().split(separator: slash, omittingEmptySubsequences: false)
        let options: SignOptions
        let encodedLast: Slice<UnsafeBufferPointer<UInt8>>
        switch segments.count {
        case 1:
            options = SignOptions()
            encodedLast = segments[0]
        case 2:
            options = try SignOptions.parse(segments[0])
            encodedLast = segments[1]
        default:
            throw SigningError(.malformedPath, "path must be /<signature>/[<options>/]<base64url target>")
        }
        // An optional `.ext` on the last segment is signed but ignored when decoding.
        var encodedTarget = encodedLast
        if let dot = encodedLast.firstIndex(of: UInt8(ascii: ".")) {
            guard URLSigner.isValidExtension(encodedLast[(dot + 1)...]) else {
                throw SigningError(.malformedPath, "invalid extension on the last segment")
            }
            encodedTarget = encodedLast[..<dot]
        }
        guard !encodedTarget.isEmpty else {
            throw SigningError(.malformedPath, "empty target segment")
        }
        let keyID = options.keyID ?? defaultKeyID
        guard let key = keys[keyID] else {
            throw SigningError(.unknownKey, "unknown key id")
        }
        guard signatureText.count == 43, let signature = Base64URL.decode(signatureText), signature.count == 32 else {
            throw SigningError(.badSignature, "bad signature")
        }
        guard key.isValid(signature, for: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: rest))) else {
            throw SigningError(.badSignature, "bad signature")
        }
        if let expires = options.expires, now >= expires {
            throw SigningError(.expired, "expired")
        }
        guard let targetBytes = Base64URL.decode(encodedTarget) else {
            throw SigningError(.invalidTarget, "target is not base64url")
        }
        try URLSigner.checkTarget(targetBytes)
        return VerifiedTarget(url: String(decoding: targetBytes, as: UTF8.self), keyID: keyID, expires: options.expires)
    }
}

/// Compares two byte arrays in time that depends only on their lengths.
/// - Parameters:
///   - lhs: The first bytes.
///   - rhs: The second bytes.
/// - Returns: Whether they are equal.
public func constantTimeEquals(_ lhs: some RandomAccessCollection<UInt8>, _ rhs: some RandomAccessCollection<UInt8>) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for (left, right) in zip(lhs, rhs) { difference |= left ^ right }
    return difference == 0
}
