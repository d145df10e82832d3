// SPDX-License-Identifier: Apache-2.0

// How long a purge by tag and by prefix takes on a disk tier of N entries (each file's header is
// read; the index keeps no keys), and a purge of everything (no file read):
//   swift run -c release --package-path Benchmarks purge-sweep N
// The files are written first (2 KiB bodies, one in a hundred tagged `t`), so the page cache is
// warm: a cold cache reads from the device instead.

#if canImport(Glibc)
import Glibc
#endif
import MoxyCache
import MoxyStorage
import NIOCore

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 1, let count = Int(arguments[0]) else {
    print("usage: purge-sweep N")
    exit(2)
}
let directory = "/tmp/moxy-purge-sweep-\(getpid())"
defer { _ = system("rm -rf '\(directory)'") }
let now = Int64(time(nil))
func fill(_ store: DiskStore) async {
    await withTaskGroup(of: Void.self) { group in
        for worker in 0..<8 {
            group.addTask {
                for number in stride(from: worker, to: count, by: 8) {
                    var fields = [("Content-Type", "image/png"), ("Cache-Control", "public, max-age=31536000")]
                    if number % 100 == 0 { fields.append(("Surrogate-Key", "t")) }
                    let response = CachedResponse(
                        status: 200, fields: fields, body: ByteBuffer(repeating: 1, count: 2_048), responseTime: now - 1,
                        freshness: Freshness(lifetime: 31_536_000, initialAge: 0, isExplicit: true), downstreamMaxAge: 31_536_000)
                    let prefix = number % 10 == 0 ? "https://a.example/" : "https://b.example/"
                    await store.put(StoredEntry(key: prefix + "\(number).png", response: response))
                }
            }
        }
    }
}
func seconds(_ duration: Duration) -> String {
    let (s, attoseconds) = duration.components
    return String(Double(s) + Double(attoseconds) / 1e18)
}
let store = DiskStore(directory: directory, maxSize: 1 << 40)
await fill(store)
for (name, selector) in [("tag", PurgeSelector.tag("t")), ("prefix", .prefixes(["https://a.example/"])), ("all", .all)] {
    let clock = ContinuousClock()
    let started = clock.now
    let swept = await store.sweep(PurgeRecord(selector: selector, soft: false, time: now))
    let took = clock.now - started
    print("\(name): \(swept.count) of \(count) selected in \(seconds(took)) s; \(store.stats.entries) entries left")
}
