// SPDX-License-Identifier: Apache-2.0

public import NIOCore

/// Which destination addresses signed-URL fetches may reach.
///
/// Only ``AddressClass/global`` is allowed by default. Each other class can be allowed as a whole
/// (tests and local demos allow ``AddressClass/loopback``), or single networks can be allowed
/// (`10.1.2.0/24` for one internal image host). The policy is applied to URL hosts before a request
/// and to the address actually connected to, for every redirect hop.
public struct AddressPolicy: Sendable, Hashable {
    /// Classes allowed besides ``AddressClass/global``.
    public var allowed: Set<AddressClass>
    /// Networks allowed whatever their class.
    public var allowedNetworks: [IPNetwork]
    /// Networks refused whatever their class (operator deny rules); they win over every allowance.
    public var deniedNetworks: [IPNetwork] = []

    /// Creates a policy.
    /// - Parameters:
    ///   - allowed: Extra classes to allow.
    ///   - allowedNetworks: Extra networks to allow.
    public init(allowed: Set<AddressClass> = [], allowedNetworks: [IPNetwork] = []) {
        self.allowed = allowed
        self.allowedNetworks = allowedNetworks
    }

    /// Whether a class may be reached as a whole.
    /// - Parameter addressClass: The class.
    /// - Returns: `true` for global addresses and explicitly allowed classes.
    public func permits(_ addressClass: AddressClass) -> Bool {
        addressClass == .global || allowed.contains(addressClass)
    }

    /// Why an address is refused.
    /// - Parameter address: The address.
    /// - Returns: The refused class, or `nil` when allowed.
    public func refusal(for address: IPAddress) -> AddressClass? {
        if deniedNetworks.contains(where: { $0.contains(address) }) { return .denied }
        let addressClass = AddressClass.classify(address)
        if permits(addressClass) || allowedNetworks.contains(where: { $0.contains(address) }) { return nil }
        return addressClass
    }

    /// Why a URL host is refused before any connection is made.
    /// - Parameter host: An IP literal in any spelling, or a name.
    /// - Returns: The refused class, or `nil` when the host may be tried (names are checked again on connect).
    public func refusal(forHost host: some StringProtocol) -> AddressClass? {
        var literal = Substring(host)
        while literal.hasSuffix(".") { literal = literal.dropLast() }
        if let address = IPAddress(parsing: literal) { return refusal(for: address) }
        guard let addressClass = AddressClass.classify(host: host) else { return nil }
        return permits(addressClass) ? nil : addressClass
    }

    /// Why a connected socket address is refused.
    /// - Parameter address: The remote address of a connection.
    /// - Returns: The refused class, or `nil` when allowed. Unix sockets are always refused.
    public func refusal(for address: SocketAddress) -> AddressClass? {
        guard let text = address.ipAddress, let ip = IPAddress(parsing: text) else { return .reserved }
        return refusal(for: ip)
    }
}
