// SPDX-License-Identifier: Apache-2.0

public import NIOCore

/// A route's (or signed URLs') validation settings and rules: what a response must be to be stored
/// or to replace a stored one, and what happens when it is not.
public struct ValidationConfiguration: Sendable {
    /// What to do with a failing response when there is no good entry to serve instead.
    public enum OnInvalid: String, Sendable {
        /// Forward the response to the client, uncached.
        case pass
        /// Answer `502 Bad Gateway` with a short reason.
        case error
    }

    /// The rules, checked in order; the first failure is reported.
    public var rules: [ValidationRule] {
        didSet { paths = Self.paths(of: rules) }
    }
    /// The parts of a JSON body the rules read (the parser builds nothing else).
    public private(set) var paths: JSONPaths
    /// Bodies up to this size are buffered and validated.
    public var validateMaxBytes = 2 << 20
    /// Whether a body above ``validateMaxBytes`` passes (`true`) or fails by the rule `too_large`.
    public var passTooLarge = false
    /// What a failing response with no good entry becomes.
    public var onInvalid = OnInvalid.pass
    /// How long past its freshness the last good entry is served while the upstream answers invalid responses.
    public var keepLastGood: Int64 = 7 * 86_400
    /// The first delay before the upstream is asked again after an invalid response (doubles per failure).
    public var backoff: Double = 5
    /// The longest delay between attempts.
    public var maxBackoff: Double = 300

    /// Creates settings.
    public init(rules: [ValidationRule] = []) {
        self.rules = rules
        paths = Self.paths(of: rules)
    }

    static func paths(of rules: [ValidationRule]) -> JSONPaths {
        var pointers: [JSONPointer] = []
        func collect(_ rule: ValidationRule) {
            switch rule.check {
            case .pointer(let pointer, _): pointers.append(pointer)
            case .all(let rules), .any(let rules): rules.forEach(collect)
            case .not(let rule): collect(rule)
            default: break
            }
        }
        rules.forEach(collect)
        return JSONPaths(pointers: pointers)
    }

    /// Whether any rule needs the body (all but status, content type and header rules do).
    public var needsBody: Bool { rules.contains { $0.check.needsBody } }

    /// Checks a response.
    /// - Parameters:
    ///   - status: The status code.
    ///   - headers: The response fields.
    ///   - body: The whole body, or `nil` when it exceeded ``validateMaxBytes``.
    ///   - headChecked: The rules that need no body already passed (``validateHead(status:headers:)``
    ///     ran before the body was read), so only the others run.
    /// - Returns: The first failure, or `nil` when the response passes.
    public func validate(
        status: Int,
        headers: [(name: String, value: String)],
        body: ByteBuffer?,
        headChecked: Bool = false
    ) -> ValidationFailure? {
        if body == nil, needsBody {
            // Too large to buffer: only the rules that need no body can be checked.
            guard passTooLarge else {
                return ValidationFailure(rule: "too_large", reason: "body exceeds validate_max_bytes (\(validateMaxBytes))")
            }
            return headChecked ? nil : validateHead(status: status, headers: headers)
        }
        var input = ValidationInput(status: status, headers: headers, body: body, paths: paths)
        for rule in rules where !headChecked || rule.check.needsBody {
            if let reason = input.failure(of: rule) { return ValidationFailure(rule: rule.name, reason: reason) }
        }
        return nil
    }

    /// Checks every rule on its own, for operators writing rules (`moxy validate`).
    /// - Returns: Each rule's name and its failure reason (`nil` when it passes), in order; a body
    ///   over ``validateMaxBytes`` adds `too_large` first.
    public func report(status: Int, headers: [(name: String, value: String)], body: ByteBuffer?) -> [(rule: String, failure: String?)] {
        var results: [(rule: String, failure: String?)] = []
        if body == nil, needsBody {
            results.append(("too_large", passTooLarge ? nil : "body exceeds validate_max_bytes (\(validateMaxBytes))"))
        }
        var input = ValidationInput(status: status, headers: headers, body: body, paths: paths)
        for rule in rules where body != nil || !rule.check.needsBody {
            results.append((rule.name, input.failure(of: rule)))
        }
        return results
    }

    /// Checks only what needs no body (status, content type, fields), before reading the body.
    public func validateHead(status: Int, headers: [(name: String, value: String)]) -> ValidationFailure? {
        var input = ValidationInput(status: status, headers: headers, body: nil, paths: paths)
        for rule in rules where !rule.check.needsBody {
            if let reason = input.failure(of: rule) { return ValidationFailure(rule: rule.name, reason: reason) }
        }
        return nil
    }
}

/// Why a response failed validation.
public struct ValidationFailure: Sendable, Hashable, CustomStringConvertible {
    /// The failing rule's name.
    public var rule: String
    /// What was wrong, in a few words.
    public var reason: String

    /// Creates a failure.
    public init(rule: String, reason: String) {
        self.rule = rule
        self.reason = reason
    }

    /// `rule: reason`.
    public var description: String { "\(rule): \(reason)" }
}

extension ValidationRule.Check {
    var needsBody: Bool {
        switch self {
        case .status, .contentType, .header: false
        case .minBytes, .maxBytes, .json, .pointer, .bodyDenies, .bodyDeniesPattern: true
        case .all(let rules), .any(let rules): rules.contains { $0.check.needsBody }
        case .not(let rule): rule.check.needsBody
        }
    }
}
