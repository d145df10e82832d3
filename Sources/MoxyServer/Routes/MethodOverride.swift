// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import NIOHTTP1

/// What a route does with a `GET` or `HEAD` that carries `X-HTTP-Method-Override`,
/// `X-HTTP-Method` or `X-Method-Override`. Frameworks that honour these fields (WordPress before
/// 6.3.2, Laravel, Rails' and Express's middleware) answer the request as the method named, so
/// caching the answer under the `GET`'s key would serve, say, a `HEAD`'s empty `200` to everyone.
public enum MethodOverride: String, Sendable, CaseIterable {
    /// Forward the request with its fields, neither answered from nor stored in the cache; when
    /// the field names an unsafe method, a success invalidates as that method would (the default).
    case bypass
    /// Remove the fields before the request is looked up and forwarded: the origin sees a plain
    /// `GET`, and the cache treats it as one.
    case strip

    /// How one request is treated.
    enum Plan: Equatable {
        /// No override field: the ordinary cache path.
        case cache
        /// Bypass the cache; invalidate on success as `invalidatingAs` would (`nil`: a safe method).
        case bypass(invalidatingAs: HTTPMethod?)
        /// Remove the fields, then the ordinary cache path.
        case strip
    }

    /// Decides what a request does (pure).
    /// - Parameter fields: The request's fields.
    /// - Returns: The plan.
    func plan(_ fields: [(name: String, value: String)]) -> Plan {
        var present = false
        var named: [HTTPMethod] = []
        for field in fields where RequestFlags.methodOverrideFields.contains(field.name.lowercased()) {
            present = true
            for item in field.value.split(separator: ",") {
                let token = item.trimmingSpaces.uppercased()
                if !token.isEmpty { named.append(HTTPMethod(rawValue: token)) }
            }
        }
        guard present else { return .cache }
        if self == .strip { return .strip }
        // The first unsafe method named wins: a framework might read any of the fields.
        return .bypass(invalidatingAs: named.first { !PassThrough.isSafe($0) })
    }

    /// Removes the override fields.
    static func stripped(_ fields: [(name: String, value: String)]) -> [(name: String, value: String)] {
        fields.filter { !RequestFlags.methodOverrideFields.contains($0.name.lowercased()) }
    }
}
