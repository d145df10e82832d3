// SPDX-License-Identifier: Apache-2.0

public import NIOCore

/// Encodes an HTTP/1.1 status line and header fields into bytes, once, so that a cache hit can
/// write them without re-encoding.
///
/// The encoded head ends after the last field line's CRLF; the writer appends per-request fields
/// (`Age`, `Date`, `Cache-Status`) and the blank line.
public enum ResponseHead {
    /// Encodes a status line and fields.
    /// - Parameters:
    ///   - status: The status code.
    ///   - fields: Header fields in order; names are written as given.
    ///   - allocator: The allocator for the buffer.
    /// - Returns: `HTTP/1.1 <status> <reason>\r\n` followed by `Name: value\r\n` for each field.
    public static func encode(status: Int, fields: [(name: String, value: String)], allocator: ByteBufferAllocator)
        -> ByteBuffer
    {
        var buffer = allocator.buffer(capacity: encodedLength(status: status, fields: fields))
        write(status: status, fields: fields, into: &buffer)
        return buffer
    }

    /// The bytes ``encode(status:fields:allocator:)`` writes.
    public static func encodedLength(status: Int, fields: [(name: String, value: String)]) -> Int {
        fields.reduce(15 + reasonPhrase(status).utf8.count) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
    }

    /// Writes the status line and `fields` at the end of `buffer`.
    public static func write(status: Int, fields: [(name: String, value: String)], into buffer: inout ByteBuffer) {
        buffer.writeString("HTTP/1.1 \(status) \(reasonPhrase(status))\r\n")
        for field in fields { write(field, into: &buffer) }
    }

    /// Writes one field line at the end of `buffer`.
    public static func write(_ field: (name: String, value: String), into buffer: inout ByteBuffer) {
        buffer.writeString(field.name)
        buffer.writeStaticString(": ")
        buffer.writeString(field.value)
        buffer.writeStaticString("\r\n")
    }

    /// The standard reason phrase for a status code.
    /// - Parameter status: The status code.
    /// - Returns: The phrase, or `Unknown`.
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 102: "Processing"
        case 103: "Early Hints"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 203: "Non-Authoritative Information"
        case 204: "No Content"
        case 205: "Reset Content"
        case 206: "Partial Content"
        case 300: "Multiple Choices"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 402: "Payment Required"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 407: "Proxy Authentication Required"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 416: "Range Not Satisfiable"
        case 417: "Expectation Failed"
        case 421: "Misdirected Request"
        case 422: "Unprocessable Content"
        case 425: "Too Early"
        case 426: "Upgrade Required"
        case 428: "Precondition Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 451: "Unavailable For Legal Reasons"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        case 508: "Loop Detected"
        default: "Unknown"
        }
    }
}
