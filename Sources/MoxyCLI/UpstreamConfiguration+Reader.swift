// SPDX-License-Identifier: Apache-2.0

public import Configuration
public import MoxyServer

extension UpstreamConfiguration {
    /// Reads how upstreams are reached (timeouts, sizes, content types, the address policy and
    /// filters) from a reader scoped to `moxy`.
    /// - Throws: ``SettingsError`` naming the key and the bad value.
    public init(reader: ConfigReader) throws {
        let settings = SettingsReader(reader)
        var upstream = UpstreamConfiguration()
        if let value = try settings.parsed(.connectTimeout, { ValueParsers.duration($0).flatMap { $0 > 0 ? $0 : nil } }) {
            upstream.connectTimeout = value
        }
        if let value = try settings.parsed(.readTimeout, { ValueParsers.duration($0).flatMap { $0 > 0 ? $0 : nil } }) {
            upstream.readTimeout = value
        }
        if let value = try settings.parsed(.totalTimeout, { ValueParsers.duration($0).flatMap { $0 > 0 ? $0 : nil } }) {
            upstream.totalTimeout = value
        }
        if let size = try settings.parsed(.maxObjectSize, { ValueParsers.size($0).flatMap { $0 > 0 ? $0 : nil } }) {
            upstream.maxObjectSize = size
        }
        if let count = try settings.parsed(.maxRedirects, { Int($0).flatMap { (0...20).contains($0) ? $0 : nil } }) {
            upstream.maxRedirects = count
        }
        if let types = reader.stringArray(forKey: ConfigKey(SettingsKey.contentTypes.path)) {
            var patterns: [String] = []
            for type in types {
                if let expanded = MoxySettings.contentTypeClasses[type.lowercased()] {
                    patterns += expanded
                } else if MoxySettings.isContentTypePattern(type) {
                    patterns.append(type.lowercased())
                } else {
                    throw SettingsError(
                        .invalidValue,
                        "invalid upstream.content_types entry '\(type)' (use type/subtype, type/*, or image, video, audio, font, pdf, json)")
                }
            }
            upstream.contentTypes = patterns
        }
        for name in reader.stringArray(forKey: ConfigKey(SettingsKey.allowClasses.path)) ?? [] {
            guard let addressClass = AddressClass(rawValue: name.lowercased()), addressClass != .global, addressClass != .denied else {
                let names = AddressClass.allCases.filter { $0 != .global && $0 != .denied }.map(\.rawValue).joined(separator: ", ")
                throw SettingsError(.invalidValue, "invalid upstream.allow_classes entry '\(name)' (\(names))")
            }
            upstream.addressPolicy.allowed.insert(addressClass)
        }
        if let value = try settings.parsed(.allowCredentials, ValueParsers.bool) { upstream.allowCredentials = value }
        if let value = try settings.parsed(.forwardClientAddress, ValueParsers.bool) { upstream.forwardClientAddress = value }
        if let value = try settings.parsed(.maxConcurrentFetches, { Int($0).flatMap { (1...100_000).contains($0) ? $0 : nil } }) {
            upstream.maxConcurrentFetches = value
        }
        for text in reader.stringArray(forKey: ConfigKey(SettingsKey.filterAllow.path)) ?? [] {
            guard let rule = TargetFilter.Rule(text) else {
                throw SettingsError(.invalidValue, "invalid filter.allow rule '\(text)' (host, *.host, host/path*, or an exact URL)")
            }
            upstream.filter.allow.append(rule)
        }
        for text in reader.stringArray(forKey: ConfigKey(SettingsKey.filterDeny.path)) ?? [] {
            if text.contains("/"), !text.contains("://"), let network = IPNetwork(text) {
                upstream.addressPolicy.deniedNetworks.append(network)
            } else if let rule = TargetFilter.Rule(text) {
                upstream.filter.deny.append(rule)
            } else {
                throw SettingsError(.invalidValue, "invalid filter.deny rule '\(text)' (CIDR, host, *.host, host/path*, or an exact URL)")
            }
        }
        if let agent = settings.text(.userAgent) { upstream.userAgent = agent }
        if try settings.parsed(.allowLoopback, ValueParsers.bool) == true { upstream.addressPolicy.allowed.insert(.loopback) }
        if try settings.parsed(.allowPrivate, ValueParsers.bool) == true { upstream.addressPolicy.allowed.insert(.private) }
        for text in reader.stringArray(forKey: ConfigKey(SettingsKey.allowNetworks.path)) ?? [] {
            guard let network = IPNetwork(text) else {
                throw SettingsError(.invalidValue, "invalid allow_networks entry '\(text)' (use ADDRESS/BITS)")
            }
            upstream.addressPolicy.allowedNetworks.append(network)
        }
        self = upstream
    }
}
