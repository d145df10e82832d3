// SPDX-License-Identifier: Apache-2.0

public import NIOCore

/// A body that lives outside memory (a file of the disk tier, complete or still being written),
/// read in pieces by each client that is sent it, so that memory per request stays bounded
/// whatever the object's size.
public protocol BodySource: AnyObject, Sendable {
    /// The body's length, when known (`nil` while a body of unknown length is still arriving).
    var length: Int? { get }

    /// The bytes from `offset`, at most `maxLength` of them (a block's worth or less), waiting for
    /// them while the body is still arriving.
    /// - Returns: The bytes; empty at the end of the body.
    /// - Throws: When the bytes cannot be read or fail their checksum, or the body was abandoned.
    func read(from offset: Int, maxLength: Int) async throws -> ByteBuffer

    /// Whether a read found the body damaged (a block that failed its checksum): it must not be
    /// served again, even while a cache of open files still holds it.
    var isDamaged: Bool { get }
}

extension BodySource {
    /// Sources that cannot be damaged say so.
    public var isDamaged: Bool { false }
}
