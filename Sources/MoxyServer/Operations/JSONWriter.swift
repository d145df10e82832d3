// SPDX-License-Identifier: Apache-2.0

/// Builds the admin API's JSON text, without Foundation: values are made explicitly, strings
/// escaped as RFC 8259 says.
enum JSONWriter {
    /// A JSON value.
    indirect enum Value {
        case string(String)
        case int(Int64)
        case double(Double)
        case bool(Bool)
        case null
        case array([Value])
        case object([(String, Value)])

        static func int(_ value: Int) -> Value { .int(Int64(value)) }
        static func optional(_ value: String?) -> Value { value.map { .string($0) } ?? .null }
        static func optional(_ value: Int64?) -> Value { value.map { .int($0) } ?? .null }
    }

    /// An object's text.
    static func object(_ members: [(String, Value)]) -> String { text(.object(members)) }

    /// A value's text.
    static func text(_ value: Value) -> String {
        switch value {
        case .string(let text): return AccessLog.jsonString(text)
        case .int(let number): return String(number)
        case .double(let number): return number.isFinite ? String(number) : "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "null"
        case .array(let values): return "[" + values.map(text).joined(separator: ",") + "]"
        case .object(let members): return "{" + members.map { AccessLog.jsonString($0.0) + ":" + text($0.1) }.joined(separator: ",") + "}"
        }
    }
}
