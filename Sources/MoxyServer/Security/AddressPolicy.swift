// SPDX-License-Identifier: Apache-2.0

public import NIOCore

/// Which destination address classes signed-URL fetches may reach.
///
/// Only ``AddressClass/global`` is allowed by default. Each other class can be allowed on its own
/// (tests and local demos allow ``AddressClass/loopback``). The policy is applied to URL hosts before
/// a request and to the address actually connected to, for every redirect hop.
public struct AddressPolicy: Sendable, Hashable {
    /// Classes allowed besides ``AddressClass/global``.
    public var allowed: Set<AddressClass>

    /// Creates a policy.
    /// - Parameter allowed: Extra classes to allow.
    public init(allowed: Set<AddressClass> = []) {
        self.allowed = allowed
    }

    /// Whether a class may be reached.
    /// - Parameter addressClass: The class.
    /// - Returns: `true` for global addresses and explicitly allowed classes.
    public func permits(_ addressClass: AddressClass) -> Bool {
        addressClass == .global || allowed.contains(addressClass)
    }

    /// Whether a connected socket address may be used.
    /// - Parameter address: The remote address of a connection.
    /// - Returns: The refused class, or `nil` when allowed. Unix sockets are always refused.
    public func refusal(for address: SocketAddress) -> AddressClass? {
        guard let text = address.ipAddress, let ip = IPAddress(parsing: text) else { return .reserved }
        let addressClass = AddressClass.classify(ip)
        return permits(addressClass) ? nil : addressClass
    }
}
