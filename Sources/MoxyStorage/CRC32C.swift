// SPDX-License-Identifier: Apache-2.0

/// CRC-32C (Castagnoli, the checksum of iSCSI, ext4 metadata and SCTP): detects every burst error of
/// up to 32 bits and, over entry-sized inputs, any other corruption with probability 1 - 2⁻³².
public struct CRC32C: Sendable {
    /// The running value (before the final inversion).
    private var state: UInt32 = 0xFFFF_FFFF

    /// Starts a checksum.
    public init() {}

    /// Adds bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var crc = state
        Self.table.withUnsafeBufferPointer { table in
            for byte in bytes {
                crc = table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)] ^ (crc >> 8)
            }
        }
        state = crc
    }

    /// Adds bytes.
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        var crc = state
        Self.table.withUnsafeBufferPointer { table in
            for byte in bytes {
                crc = table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)] ^ (crc >> 8)
            }
        }
        state = crc
    }

    /// The checksum of what was added.
    public var value: UInt32 { ~state }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    /// The reflected polynomial 0x1EDC6F41's table.
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0x82F6_3B78 : value >> 1 }
        return value
    }
}
