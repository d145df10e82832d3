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

    /// The bytes `first..<end` as regions of a file the kernel can send (`sendfile`), when the
    /// source is a complete file whose blocks covering them were all checked already; nil
    /// otherwise (then ``read(from:maxLength:)`` reads and checks them).
    func fileRegions(from first: Int, to end: Int) -> FileRegions?
}

extension BodySource {
    /// Sources that cannot be damaged say so.
    public var isDamaged: Bool { false }

    /// Sources without a file say so.
    public func fileRegions(from first: Int, to end: Int) -> FileRegions? { nil }
}

/// Regions of one file to be written with `sendfile`, on a handle of their own (NIO marks a handle
/// in use while it sends, so two connections must not share one): the writer closes ``handle``
/// once the last region is written.
public struct FileRegions {
    /// The handle the regions read; the writer closes it.
    public let handle: NIOFileHandle
    /// The regions, in order.
    public let regions: [FileRegion]

    /// Regions of `handle`.
    public init(handle: NIOFileHandle, regions: [FileRegion]) {
        self.handle = handle
        self.regions = regions
    }
}
