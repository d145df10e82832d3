// SPDX-License-Identifier: Apache-2.0

/// An IP network in CIDR notation (`10.1.2.0/24`, `fd00::/8`, or one address).
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The network address bytes (4 or 16).
    let bytes: [UInt8]
    /// The prefix length in bits.
    public let prefixLength: Int

    /// Parses `ADDRESS[/BITS]`; IPv4 must be dotted decimal here.
    /// - Parameter text: The CIDR text.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return nil }
        let addressText = parts[0]
        guard addressText.contains(":") || addressText.split(separator: ".").count == 4,
            let address = IPAddress(parsing: addressText)
        else { return nil }
        let bytes = address.bytes
        let length = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
        guard let length, (0...(bytes.count * 8)).contains(length) else { return nil }
        self.bytes = bytes
        self.prefixLength = length
    }

    /// Whether the address is inside the network.
    /// - Parameter address: The address.
    /// - Returns: `true` when the first ``prefixLength`` bits match (never across families).
    public func contains(_ address: IPAddress) -> Bool {
        let other = address.bytes
        guard other.count == bytes.count else { return false }
        var remaining = prefixLength
        for index in bytes.indices where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if bytes[index] & mask != other[index] & mask { return false }
            remaining -= 8
        }
        return true
    }

    /// `address/bits`.
    public var description: String {
        let address: IPAddress = bytes.count == 4 ? .v4(bytes[0], bytes[1], bytes[2], bytes[3]) : .v6(bytes)
        return "\(address)/\(prefixLength)"
    }
}

extension IPAddress {
    /// The address bytes in network order (4 or 16).
    public var bytes: [UInt8] {
        switch self {
        case .v4(let a, let b, let c, let d): [a, b, c, d]
        case .v6(let bytes): bytes
        }
    }
}
