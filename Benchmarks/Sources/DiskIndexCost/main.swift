// SPDX-License-Identifier: Apache-2.0

// Resident bytes per entry of the disk tier's in-memory index, at one million entries:
//   swift run -c release --package-path Benchmarks disk-index-cost [ENTRIES]

#if canImport(Glibc)
import Glibc
#endif
import MoxyStorage

/// Resident bytes of this process (/proc/self/statm, second field, in pages).
func residentBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 128)
    let count = read(fd, &buffer, buffer.count)
    let fields = String(decoding: buffer[0..<max(0, count)], as: UTF8.self).split(separator: " ")
    return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

let entries = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 1_000_000
var state: UInt64 = 0x9E37_79B9_7F4A_7C15
let before = residentBytes()
var index = DiskIndex()
for number in 0..<entries {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    index.insert(state, size: 1_000 + number % 100_000)
    if number % 3 == 0 { index.touch(state) }
}
let after = residentBytes()
print("entries: \(index.count), indexed bytes: \(index.bytes)")
print("resident bytes per entry: \((after - before) / max(1, index.count))")
