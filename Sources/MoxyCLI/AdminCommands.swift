// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import AsyncHTTPClient
import MoxyHTTP
import MoxyValidation
import NIOCore
import NIOHTTP1
import NIOPosix

/// How the admin commands reach a running Moxy: `--admin URL` (or `MOXY_ADMIN_URL`, default
/// `http://127.0.0.1:8081`) with the token of `MOXY_ADMIN_TOKEN`.
struct AdminOptions: ParsableArguments {
    @Option(name: .customLong("admin"), help: "The admin API's URL (default $MOXY_ADMIN_URL or http://127.0.0.1:8081).")
    var admin: String?
    @Flag(name: .customLong("json"), help: "Print the admin API's JSON instead of a table.")
    var json = false

    var baseURL: String {
        let url = admin ?? ProcessEnvironment.current["MOXY_ADMIN_URL"] ?? "http://127.0.0.1:8081"
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    /// Sends one admin request and returns the body, or fails with the API's message.
    func call(_ method: HTTPMethod, _ path: String, form: [(String, String)] = []) async throws -> JSONValue {
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        defer { _ = client.shutdown() }
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token = ProcessEnvironment.current["MOXY_ADMIN_TOKEN"], !token.isEmpty {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        if !form.isEmpty {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: form.map { PercentEncoding.encode($0.0) + "=" + PercentEncoding.encode($0.1) }.joined(separator: "&")))
        }
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, timeout: .seconds(120))
            body = try await response.body.collect(upTo: 64 << 20)
        } catch {
            throw CLIFailure("cannot reach the admin API at \(baseURL): \(error)")
        }
        let value = try? JSONParser.parse(Array(body.readableBytesView))
        guard response.status == .ok, let value else {
            let message = value?[member: "message"].flatMap { if case .string(let text) = $0 { text } else { nil } }
            throw CLIFailure("admin API answered \(response.status.code): \(message ?? String(buffer: body))")
        }
        if json { print(String(buffer: body), terminator: body.readableBytesView.last == 10 ? "" : "\n") }
        return value
    }
}

/// `moxy purge URL… | --prefix P | --tag T | --all [--soft] [--wait]`.
struct PurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge", abstract: "Purge cached entries of a running Moxy (every tier, persistently).")

    @OptionGroup var options: AdminOptions
    @Argument(help: "Exact URLs: signed targets, Moxy URLs or route URLs (all Vary variants).") var urls: [String] = []
    @Option(name: .customLong("prefix"), help: "Purge every URL starting with this (repeatable).") var prefixes: [String] = []
    @Option(name: .customLong("tag"), help: "Purge every entry with this surrogate key (Surrogate-Key, xkey, Cache-Tag).") var tag: String?
    @Flag(name: .customLong("all"), help: "Purge everything (hard only).") var all = false
    @Flag(name: .customLong("soft"), help: "Mark stale instead of removing: still usable as last good and for stale-if-error.")
    var soft = false
    @Flag(name: .customLong("wait"), help: "Answer after the disk tier's files are swept too, with their count (default: swept in the background).")
    var wait = false

    func validate() throws {
        let given = [!urls.isEmpty, !prefixes.isEmpty, tag != nil, all].filter { $0 }.count
        guard given == 1 else { throw ValidationError("give URLs, --prefix, --tag or --all (one of them)") }
        if all && soft { throw ValidationError("--all is hard only") }
    }

    func run() async throws {
        var form: [(String, String)] = urls.map { ("url", $0) } + prefixes.map { ("prefix", $0) }
        if let tag { form.append(("tag", tag)) }
        if all { form.append(("all", "1")) }
        if soft { form.append(("soft", "1")) }
        if wait { form.append(("wait", "1")) }
        let answer = try await options.call(.POST, "/purge", form: form)
        guard !options.json else { return }
        let how = soft ? "soft: marked stale" : "hard: removed"
        if answer.text("disk_sweep") == "background" {
            print("purged \(answer.int("purged")) entries in memory (\(how)); the disk tier's files are swept in the background (--wait to count them)")
        } else {
            print("purged \(answer.int("purged")) entries (\(how); memory \(answer.int("memory")), disk \(answer.int("disk")))")
        }
    }
}

/// `moxy stats`: the running Moxy's counters as tables.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Show a running Moxy's requests, tiers and upstream errors.")

    @OptionGroup var options: AdminOptions

    func run() async throws {
        let stats = try await options.call(.GET, "/stats")
        guard !options.json else { return }
        let requests = stats[member: "requests"]
        let served = ["hit", "stale", "miss", "revalidated"].reduce(0) { $0 + (requests?.int($1) ?? 0) }
        let hits = (requests?.int("hit") ?? 0) + (requests?.int("stale") ?? 0)
        print("moxy \(stats.text("version")), up \(stats.int("uptime_seconds")) s")
        print("requests \(requests?.int("total") ?? 0), hit ratio \(served > 0 ? String(Double(hits * 1000 / served) / 10) + " %" : "-")\n")
        var rows = [["MODE", "ROUTE", "REQUESTS", "HIT", "STALE", "MISS", "REVALIDATED", "BYPASS", "INVALID", "LAST-GOOD"]]
        for source in stats[member: "sources"]?.items ?? [] {
            let r = source[member: "requests"]
            rows.append(
                [source.text("mode"), source.text("route")] + ["total", "hit", "stale", "miss", "revalidated", "bypass"].map { String(r?.int($0) ?? 0) }
                    + [String(source.int("validation_failures")), String(source.int("last_good_served"))])
        }
        print(Table.render(rows))
        var tiers = [["TIER", "ENTRIES", "BYTES", "CAPACITY", "EVICTIONS"]]
        if case .object(let members)? = stats[member: "tiers"] {
            for member in members {
                tiers.append([member.name] + ["entries", "bytes", "capacity", "evictions"].map { String(member.value.int($0)) })
            }
        }
        print(Table.render(tiers))
        let upstream = stats[member: "upstream"]
        var errors = [["UPSTREAM", "KIND", "COUNT"]]
        for error in upstream?[member: "errors"]?.items ?? [] { errors.append([error.text("mode"), error.text("kind"), String(error.int("count"))]) }
        print("upstream requests \(upstream?.int("requests") ?? 0)")
        if errors.count > 1 { print(Table.render(errors)) }
    }
}

/// `moxy entries [--prefix P] [--limit N]`: what the running Moxy holds.
struct EntriesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "entries", abstract: "List a running Moxy's cached entries.")

    @OptionGroup var options: AdminOptions
    @Option(name: .customLong("prefix"), help: "Only URLs starting with this.") var prefix: String?
    @Option(name: .customLong("limit"), help: "At most this many (default 100, at most 1000).") var limit: Int = 100

    func run() async throws {
        var path = "/entries?limit=\(limit)"
        if let prefix { path += "&prefix=" + PercentEncoding.encode(prefix) }
        let answer = try await options.call(.GET, path)
        guard !options.json else { return }
        var rows = [["KEY", "STATUS", "SIZE", "AGE", "TTL", "TIER", "STATE", "SURROGATE KEYS"]]
        for entry in answer[member: "entries"]?.items ?? [] {
            rows.append(
                [entry.text("key")] + ["status", "size", "age", "ttl"].map { String(entry.int($0)) } + [entry.text("tier"), entry.text("state")]
                    + [(entry[member: "surrogate_keys"]?.items ?? []).compactMap { if case .string(let s) = $0 { s } else { nil } }.joined(separator: " ")])
        }
        print(Table.render(rows))
    }
}

/// Plain text tables: columns padded to their widest cell.
enum Table {
    static func render(_ rows: [[String]]) -> String {
        var widths: [Int] = []
        for row in rows {
            for (index, cell) in row.enumerated() {
                if index == widths.count { widths.append(0) }
                widths[index] = max(widths[index], cell.count)
            }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

extension JSONValue {
    func int(_ name: String) -> Int {
        if case .number(let value)? = self[member: name] { return Int(value) }
        return 0
    }

    func text(_ name: String) -> String {
        if case .string(let value)? = self[member: name] { return value }
        return ""
    }

    var items: [JSONValue] {
        if case .array(let values) = self { return values }
        return []
    }
}
