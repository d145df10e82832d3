// SPDX-License-Identifier: Apache-2.0

import CBrotliEncoder
import CZstd
public import NIOCore

/// One-shot brotli and zstd encoders (the brotli and zstd forms of stored text) over Debian's C libraries, at levels whose cost per stored
/// entry stays within a few times gzip's (`swift run -c release --package-path Benchmarks
/// compression-cost`): brotli quality 5 with a 4 MiB window, zstd level 6.
public enum Compressors {
    /// brotli's quality (0-11): 5 is the knee, about gzip's time for clearly smaller text.
    public static let brotliQuality: Int32 = 5
    /// brotli's window (log2 bytes).
    public static let brotliWindow: Int32 = 22
    /// zstd's level (1-19).
    public static let zstdLevel: Int32 = 6

    /// The body brotli-encoded, or `nil` when the encoder fails.
    public static func brotli(_ body: ByteBuffer) -> ByteBuffer? {
        let length = body.readableBytes
        var capacity = BrotliEncoderMaxCompressedSize(length)
        guard capacity > 0 else { return nil }
        var output = ByteBufferAllocator().buffer(capacity: capacity)
        let ok = body.withUnsafeReadableBytes { input in
            output.withUnsafeMutableWritableBytes { out in
                BrotliEncoderCompress(
                    brotliQuality, brotliWindow, BROTLI_MODE_GENERIC, length, input.bindMemory(to: UInt8.self).baseAddress,
                    &capacity, out.bindMemory(to: UInt8.self).baseAddress) == BROTLI_TRUE
            }
        }
        guard ok, capacity > 0 else { return nil }
        output.moveWriterIndex(forwardBy: capacity)
        return output
    }

    /// The body zstd-encoded (one frame with its content size), or `nil` when the encoder fails.
    public static func zstd(_ body: ByteBuffer) -> ByteBuffer? {
        let length = body.readableBytes
        let capacity = ZSTD_compressBound(length)
        guard ZSTD_isError(capacity) == 0, capacity > 0 else { return nil }
        var output = ByteBufferAllocator().buffer(capacity: capacity)
        let written = body.withUnsafeReadableBytes { input in
            output.withUnsafeMutableWritableBytes { out in
                ZSTD_compress(out.baseAddress, out.count, input.baseAddress, length, zstdLevel)
            }
        }
        guard ZSTD_isError(written) == 0, written > 0 else { return nil }
        output.moveWriterIndex(forwardBy: written)
        return output
    }
}
