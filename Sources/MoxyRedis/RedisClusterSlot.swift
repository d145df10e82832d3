// SPDX-License-Identifier: Apache-2.0

/// Redis Cluster's key-to-slot mapping: CRC-16 (XMODEM) of the key, or of its hash tag (the
/// text between the first `{` and the next `}` when not empty), modulo 16,384. Pure.
public enum RedisClusterSlot {
    /// Slots in a cluster.
    public static let count = 16_384

    /// The slot of a key.
    public static func of(_ key: String) -> Int {
        var bytes = Array(key.utf8)
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
            let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
        {
            bytes = Array(bytes[(open + 1)..<close])
        }
        return Int(crc16(bytes)) % count
    }

    /// CRC-16/XMODEM (polynomial 0x1021, initial 0), as Redis Cluster uses.
    public static func crc16(_ bytes: [UInt8]) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return crc
    }
}

/// Where a command must go instead, from a `MOVED` or `ASK` error answer.
public struct RedisRedirect: Sendable, Hashable {
    /// `MOVED`: the slot lives there now (update the map); `ASK`: only this command, after `ASKING`.
    public var isMoved: Bool
    /// The slot.
    public var slot: Int
    /// The node's `host:port`.
    public var host: String
    public var port: Int

    /// Reads `MOVED 3999 127.0.0.1:6381` or `ASK 3999 127.0.0.1:6381`; nil for other messages.
    public init?(_ message: String) {
        let parts = message.split(separator: " ")
        guard parts.count == 3, parts[0] == "MOVED" || parts[0] == "ASK", let slot = Int(parts[1]),
            let colon = parts[2].lastIndex(of: ":"), let port = Int(parts[2][parts[2].index(after: colon)...])
        else { return nil }
        isMoved = parts[0] == "MOVED"
        self.slot = slot
        host = String(parts[2][..<colon])
        self.port = port
    }
}
