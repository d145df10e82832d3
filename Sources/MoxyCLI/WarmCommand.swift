// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import AsyncHTTPClient
import MoxyServer
import MoxySigning
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// `moxy warm --base URL [--concurrency N] FILE`: requests every URL of a list or sitemap through
/// a Moxy, so that a new node or a fresh deploy starts with a warm cache.
struct WarmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warm",
        abstract: "Request every URL of a list or sitemap.xml through a Moxy to fill its cache.",
        discussion: """
            FILE has one URL a line (# starts a comment) or is a sitemap.xml (<loc> and <image:loc>). \
            Moxy URLs and paths are requested under --base as they are; plain URLs are signed with the \
            configured key (MOXY_KEY), or with --route-paths their path and query are requested under \
            --base (origin routes). Shows progress on a terminal, then hits, misses and failures by \
            status. Exits 1 when any request failed.
            """
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "The Moxy to warm, e.g. http://10.0.0.7:8080.") var base: String
    @Option(help: "Requests at once (1-256).") var concurrency = 8
    @Option(help: "Seconds to wait for each answer.") var timeout = 30
    @Flag(name: .customLong("route-paths"), help: "Request plain URLs' paths under --base instead of signing them.")
    var routePaths = false
    @Argument(help: "A file of URLs or a sitemap.xml ('-' for standard input).") var file: String

    func validate() throws {
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be 1 to 256") }
        guard timeout >= 1 else { throw ValidationError("--timeout must be at least 1 second") }
        guard URLSigner.isSignableTarget(base) else { throw ValidationError("--base must be an absolute http(s) URL") }
    }

    func run() async throws {
        let bytes: [UInt8]
        do {
            bytes = try SmallFile.read(file == "-" ? "/dev/stdin" : file, limit: 1 << 30)
        } catch {
            throw CLIFailure(error.description)
        }
        let entries = try WarmList.entries(bytes)
        let base = base.hasSuffix("/") ? String(base.dropLast()) : base
        var signer: URLSigner?
        let commonConfig = common.config
        var urls: [String] = []
        for (index, entry) in entries.enumerated() {
            do {
                urls.append(try WarmList.requestURL(entry, base: base, signer: {
                    if let signer { return signer }
                    signer = try loadSigner(configFile: commonConfig)
                    return signer!
                }, routePaths: routePaths))
            } catch let failure as CLIFailure {
                throw CLIFailure("\(file) entry \(index + 1) ('\(entry)'): \(failure.description)")
            }
        }
        let tally = try await Self.warm(urls, concurrency: concurrency, timeout: timeout)
        print(tally.counts.summary(elapsed: tally.elapsed))
        if tally.counts.failed > 0 { throw ExitCode(1) }
    }

    /// The counts and how long it took.
    struct Result {
        var counts: WarmTally
        var elapsed: Double
    }

    static func warm(_ urls: [String], concurrency: Int, timeout: Int) async throws -> Result {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = concurrency
        let client = HTTPClient(eventLoopGroup: group, configuration: configuration)
        let state = WarmState(total: urls.count)
        let started = ContinuousClock.now
        let terminal = isatty(2) == 1
        // The workers and the progress reporter are children of one group: when the workers are
        // done, the reporter is cancelled and the group ends with both.
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                await withTaskGroup(of: Void.self) { workers in
                    for _ in 0..<min(concurrency, max(urls.count, 1)) {
                        workers.addTask {
                            while let index = await state.next() {
                                let (outcome, bytes) = await fetch(urls[index], client: client, timeout: timeout)
                                await state.record(outcome, bytes: bytes)
                            }
                        }
                    }
                }
            }
            tasks.addTask {
                // A terminal redraws one line five times a second; a log gets a line every 5 s.
                var lastLine = 0.0
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(200))
                    let now = Self.seconds(ContinuousClock.now - started)
                    guard !Task.isCancelled, terminal || now - lastLine >= 5 else { continue }
                    lastLine = now
                    let line = await state.tally.progress(elapsed: now, terminal: terminal)
                    Self.stderr(terminal ? "\r" + line + "\u{1B}[K" : line + "\n")
                }
            }
            await tasks.next()  // the workers: the reporter runs until cancelled
            tasks.cancelAll()
        }
        let elapsed = Self.seconds(ContinuousClock.now - started)
        let counts = await state.tally
        if terminal { stderr("\r" + counts.progress(elapsed: elapsed, terminal: true) + "\u{1B}[K\n") }
        try await client.shutdown()
        try await group.shutdownGracefully()
        return Result(counts: counts, elapsed: elapsed)
    }

    static func fetch(_ url: String, client: HTTPClient, timeout: Int) async -> (WarmTally.Outcome, Int) {
        do {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "User-Agent", value: "moxy-warm/\(MoxyBuild.version)")  // warming, not a visitor, to whatever logs see it
            let response = try await client.execute(request, timeout: .seconds(Int64(timeout)))
            var bytes = 0
            for try await chunk in response.body { bytes += chunk.readableBytes }
            return (.of(status: Int(response.status.code), cacheStatus: response.headers.first(name: "cache-status")), bytes)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            return (.failure("timeout"), 0)
        } catch {
            return (.failure("no answer"), 0)
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func stderr(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

/// The work list and counts shared by the workers.
actor WarmState {
    private var nextIndex = 0
    private(set) var tally: WarmTally

    init(total: Int) { tally = WarmTally(total: total) }

    func next() -> Int? {
        guard nextIndex < tally.total else { return nil }
        defer { nextIndex += 1 }
        return nextIndex
    }

    func record(_ outcome: WarmTally.Outcome, bytes: Int) { tally.record(outcome, bytes: bytes) }
}
