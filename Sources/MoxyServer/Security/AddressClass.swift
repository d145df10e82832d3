// SPDX-License-Identifier: Apache-2.0

/// The class of a destination address, as the SSRF policy sees it.
public enum AddressClass: String, Sendable, Hashable, CaseIterable {
    /// A globally routable unicast address.
    case global
    /// 127.0.0.0/8, ::1, and `localhost`-style names.
    case loopback
    /// 0.0.0.0/8, ::.
    case unspecified
    /// RFC 1918 (10/8, 172.16/12, 192.168/16) and IPv6 ULA fc00::/7.
    case `private`
    /// CGNAT 100.64.0.0/10.
    case sharedAddressSpace = "shared-address-space"
    /// 169.254/16 (incl. cloud metadata 169.254.169.254), fe80::/10.
    case linkLocal = "link-local"
    /// 224/4, ff00::/8.
    case multicast
    /// Documentation, benchmarking, reserved and other special-purpose ranges, fec0::/10 site-local.
    case reserved
    /// IPv4 embedded in IPv6: ::ffff:0:0/96, ::/96, 64:ff9b::/96, 64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32.
    case embeddedIPv4 = "embedded-ipv4"
    /// Not a class of addresses: an address in a network the operator denied (never returned by `classify`).
    case denied

    /// Classifies an address.
    /// - Parameter address: The address.
    /// - Returns: Its class.
    public static func classify(_ address: IPAddress) -> AddressClass {
        switch address {
        case .v4(let a, let b, let c, _):
            switch (a, b) {
            case (0, _): return .unspecified
            case (127, _): return .loopback
            case (10, _), (172, 16...31), (192, 168): return .private
            case (100, 64...127): return .sharedAddressSpace
            case (169, 254): return .linkLocal
            case (224...239, _): return .multicast
            case (240...255, _): return .reserved
            case (192, 0) where c == 0 || c == 2: return .reserved  // IETF protocol assignments, TEST-NET-1
            case (192, 88) where c == 99: return .reserved  // 6to4 relay anycast
            case (198, 18...19): return .reserved  // benchmarking
            case (198, 51) where c == 100, (203, 0) where c == 113: return .reserved  // TEST-NET-2/3
            default: return .global
            }
        case .v6(let bytes):
            if bytes.allSatisfy({ $0 == 0 }) { return .unspecified }
            if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return .loopback }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && (bytes[10...11].allSatisfy { $0 == 0xFF } || bytes[10...11].allSatisfy { $0 == 0 }) {
                return .embeddedIPv4
            }
            if bytes[0] == 0x00, bytes[1] == 0x64, bytes[2] == 0xFF, bytes[3] == 0x9B { return .embeddedIPv4 }
            if bytes[0] == 0x20, bytes[1] == 0x02 { return .embeddedIPv4 }  // 6to4
            if bytes[0] == 0x20, bytes[1] == 0x01, bytes[2] == 0, bytes[3] == 0 { return .embeddedIPv4 }  // Teredo
            if bytes[0] & 0xFE == 0xFC { return .private }
            if bytes[0] == 0xFE, bytes[1] & 0xC0 == 0x80 { return .linkLocal }
            if bytes[0] == 0xFE, bytes[1] & 0xC0 == 0xC0 { return .reserved }  // site-local
            if bytes[0] == 0xFF { return .multicast }
            if bytes[0] == 0x20, bytes[1] == 0x01, bytes[2] == 0x0D, bytes[3] == 0xB8 { return .reserved }  // documentation
            if bytes[0] == 0x01, bytes[1...7].allSatisfy({ $0 == 0 }) { return .reserved }  // discard 100::/64
            if bytes[0] & 0xE0 != 0x20 { return .reserved }  // not global unicast 2000::/3
            return .global
        }
    }

    /// Classifies a URL host: an IP literal in any spelling, or a name.
    /// - Parameter host: The host, lowercase or not, IPv6 with or without brackets.
    /// - Returns: The class of a literal; `.loopback` for `localhost`/`localdomain` names and their
    ///   subdomains; `nil` for other names, which are checked after resolution.
    public static func classify(host: some StringProtocol) -> AddressClass? {
        var name = host.lowercased()
        // A trailing dot does not make a literal a name (`127.0.0.1.` is 127.0.0.1, as browsers read it).
        while name.hasSuffix(".") { name.removeLast() }
        if let address = IPAddress(parsing: name) { return classify(address) }
        for reserved in ["localhost", "localdomain"] where name == reserved || name.hasSuffix("." + reserved) {
            return .loopback
        }
        return nil
    }
}
