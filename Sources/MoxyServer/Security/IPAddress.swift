// SPDX-License-Identifier: Apache-2.0

/// An IPv4 or IPv6 address as bytes, with parsers for the spellings attackers use.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// Four bytes, network order.
    case v4(UInt8, UInt8, UInt8, UInt8)
    /// Sixteen bytes, network order.
    case v6([UInt8])

    /// Parses an IP literal as a URL host may spell it.
    ///
    /// IPv4 accepts every form `inet_aton` accepts (and so every form a resolver would turn into an
    /// address): decimal, octal (`0177.0.0.1`), hex (`0x7f.1`), and 1 to 4 parts (`2130706433`,
    /// `127.1`). IPv6 is accepted with or without brackets, including an embedded dotted IPv4 tail.
    /// Zone ids (`%eth0`) are refused.
    /// - Parameter text: The host.
    /// - Returns: The address, or `nil` when the text is not an IP literal.
    public init?(parsing text: some StringProtocol) {
        var host = Substring(text)
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        if host.contains(":") {
            guard let bytes = IPAddress.parseV6(host) else { return nil }
            self = .v6(bytes)
        } else if let value = IPAddress.parseV4(host) {
            self.init(v4: value)
        } else {
            return nil
        }
    }

    /// An IPv4 address from its 32-bit value (host order).
    /// - Parameter value: The address, most significant byte first.
    public init(v4 value: UInt32) {
        self = .v4(UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF))
    }

    /// Dotted decimal for IPv4, hex groups for IPv6.
    public var description: String {
        switch self {
        case .v4(let a, let b, let c, let d): return "\(a).\(b).\(c).\(d)"
        case .v6(let bytes):
            return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
                .joined(separator: ":")
        }
    }

    static func parseV4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var values: [UInt64] = []
        for part in parts {
            guard let value = parseV4Part(part) else { return nil }
            values.append(value)
        }
        // The last part fills the remaining bytes (inet_aton): a.b.c.d, a.b.cd, a.bcd, abcd.
        var result: UInt64 = 0
        for (index, value) in values.enumerated() {
            if index < values.count - 1 {
                guard value <= 0xFF else { return nil }
                result |= value << UInt64(8 * (3 - index))
            } else {
                let bits = 8 * (4 - index)
                guard value < (UInt64(1) << UInt64(bits)) else { return nil }
                result |= value
            }
        }
        return UInt32(result)
    }

    static func parseV4Part(_ part: Substring) -> UInt64? {
        guard !part.isEmpty, part.count <= 12 else { return nil }
        let lower = part.lowercased()
        if lower.hasPrefix("0x") {
            let digits = lower.dropFirst(2)
            return digits.isEmpty ? 0 : UInt64(digits, radix: 16)
        }
        if lower.count > 1, lower.hasPrefix("0") { return UInt64(lower.dropFirst(), radix: 8) }
        return UInt64(lower, radix: 10)
    }

    static func parseV6(_ text: Substring) -> [UInt8]? {
        guard !text.contains("%"), text.count <= 45 else { return nil }
        var groups: [UInt16] = []
        var tail: [UInt16] = []
        var text = String(text)
        // An embedded IPv4 tail becomes two groups.
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            let v4Text = text[text.index(after: lastColon)...]
            let parts = v4Text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var bytes: [UInt16] = []
            for part in parts {
                guard let value = UInt16(part, radix: 10), value <= 255, part.count <= 3 else { return nil }
                bytes.append(value)
            }
            text = String(text[...lastColon]) + String(bytes[0] << 8 | bytes[1], radix: 16) + ":"
                + String(bytes[2] << 8 | bytes[3], radix: 16)
        }
        var halves = [text]
        if let gap = text.firstRange(of: "::") {
            halves = [String(text[..<gap.lowerBound]), String(text[gap.upperBound...])]
            guard !halves[1].contains("::") else { return nil }
        }
        func parseGroups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), let value = UInt16(group, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        guard let head = parseGroups(halves[0]) else { return nil }
        groups = head
        if halves.count == 2 {
            guard let rest = parseGroups(halves[1]) else { return nil }
            tail = rest
            guard groups.count + tail.count <= 7 else { return nil }
            groups += [UInt16](repeating: 0, count: 8 - groups.count - tail.count) + tail
        }
        guard groups.count == 8 else { return nil }
        return groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}
