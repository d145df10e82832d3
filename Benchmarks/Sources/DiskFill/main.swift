// SPDX-License-Identifier: Apache-2.0

// Writes N entries into a disk-tier directory as a signed-URL Moxy would have stored them, for
// bench/startup.sh:  swift run -c release --package-path Benchmarks disk-fill DIR N ORIGIN_PORT
// Keys are the targets http://127.0.0.1:ORIGIN_PORT/o/<n>.png; bodies are 2 KiB.

#if canImport(Glibc)
import Glibc
#endif
import MoxyCache
import MoxyStorage
import NIOCore

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 3, let count = Int(arguments[1]), let port = Int(arguments[2]) else {
    print("usage: disk-fill DIR N ORIGIN_PORT")
    exit(2)
}
let store = DiskStore(directory: arguments[0], maxSize: 1 << 40)
let now = Int64(time(nil))  // stored now: fresh for a year
await withTaskGroup(of: Void.self) { group in
    for worker in 0..<8 {
        group.addTask {
            for number in stride(from: worker, to: count, by: 8) {
                let response = CachedResponse(
                    status: 200,
                    fields: [("Content-Type", "image/png"), ("Cache-Control", "public, max-age=31536000"), ("X-Object", "\(number)")],
                    body: ByteBuffer(repeating: UInt8(truncatingIfNeeded: number), count: 2_048),
                    responseTime: now, freshness: Freshness(lifetime: 31_536_000, initialAge: 0, isExplicit: true),
                    downstreamMaxAge: 31_536_000)
                await store.put(StoredEntry(key: "http://127.0.0.1:\(port)/o/\(number).png", response: response))
            }
        }
    }
}
print("entries: \(store.stats.entries), bytes: \(store.stats.bytes), write errors: \(store.stats.writeErrors)")
