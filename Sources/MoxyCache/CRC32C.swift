// SPDX-License-Identifier: Apache-2.0

import CMoxyCRC32C

/// CRC-32C (Castagnoli, the checksum of iSCSI, ext4 metadata and SCTP): detects every burst error of
/// up to 32 bits and, over entry-sized inputs, any other corruption with probability 1 - 2⁻³².
public struct CRC32C: Sendable {
    /// The running value (before the final inversion).
    private var state: UInt32 = 0xFFFF_FFFF

    /// Starts a checksum.
    public init() {}

    /// Adds bytes (the CPU's CRC32 instruction where it has one: see `CMoxyCRC32C`).
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        state = moxy_crc32c_update(state, base, bytes.count)
    }

    /// Adds bytes.
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let array = Array(bytes)
        array.withUnsafeBytes { update($0) }
    }

    /// Adds bytes with the portable tables only (tests compare both ways).
    mutating func updatePortably(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        state = moxy_crc32c_update_portable(state, base, bytes.count)
    }

    /// The checksum of what was added.
    public var value: UInt32 { ~state }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }
}
