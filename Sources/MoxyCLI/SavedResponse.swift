// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import MoxyCache

/// A response saved to a file for `moxy validate`: either what `curl -i` (or `curl -D -`) prints,
/// status line and fields before the body, or a bare body.
public struct SavedResponse: Sendable {
    /// The status (200 for a bare body).
    public var status: Int
    /// The response fields (none for a bare body).
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: [UInt8]

    /// Reads a saved response. When the text starts with `HTTP/`, the head is parsed (interim and
    /// redirect heads that `curl -i -L` writes before the final one are skipped); otherwise all of
    /// it is the body.
    /// - Throws: ``SettingsError`` when a head is malformed.
    public static func parse(_ bytes: [UInt8]) throws -> SavedResponse {
        var rest = bytes[...]
        var response = SavedResponse(status: 200, headers: [], body: Array(bytes))
        while rest.starts(with: Array("HTTP/".utf8)) {
            guard let end = headEnd(rest) else { throw SettingsError(.invalidValue, "the saved response's head has no blank line after it") }
            // Split on bytes: as Characters, "\r\n" is one grapheme and would not split on "\n".
            var lines = rest[rest.startIndex..<end.head].split(separator: 0x0A).map { line in
                String(decoding: line.last == 0x0D ? line.dropLast() : line, as: UTF8.self)
            }
            let statusLine = lines.removeFirst().split(separator: " ")
            guard statusLine.count >= 2, let status = Int(statusLine[1]), (100...599).contains(status) else {
                throw SettingsError(.invalidValue, "bad status line in the saved response")
            }
            var headers: [(name: String, value: String)] = []
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { throw SettingsError(.invalidValue, "bad header line '\(line)'") }
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...].trimmingSpaces)))
            }
            rest = rest[end.body...]
            response = SavedResponse(status: status, headers: headers, body: Array(rest))
            // `curl -i -L` and `100 Continue` leave earlier heads in front of the final one.
            guard status < 200 || (300..<400).contains(status), rest.starts(with: Array("HTTP/".utf8)) else { break }
        }
        return response
    }

    static func headEnd(_ bytes: ArraySlice<UInt8>) -> (head: Int, body: Int)? {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == 0x0A {
                let next = index + 1
                if next < bytes.endIndex, bytes[next] == 0x0A { return (index, next + 1) }
                if next + 1 < bytes.endIndex, bytes[next] == 0x0D, bytes[next + 1] == 0x0A { return (index, next + 2) }
            }
            index += 1
        }
        return nil
    }
}
