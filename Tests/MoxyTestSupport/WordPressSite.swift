// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// A real WordPress (Debian's `wordpress` package, 6.1) on a loopback port: its own MariaDB
/// (`mariadb-server`, a throw-away data directory, a Unix socket and no TCP), PHP's built-in
/// server with a router script and four workers, installed over HTTP through
/// `wp-admin/install.php` (WP-CLI is not in Debian). The site is a hard-linked copy of
/// `/usr/share/wordpress` with its own `wp-config.php` and `wp-content`, and Moxy's purge plugin
/// (`clients/wordpress/moxy-purge.php`) as a must-use plugin. Stopped by ``stop()``.
public final class WordPressSite: Sendable {
    /// Where Debian installs WordPress.
    public static let source = "/usr/share/wordpress"
    /// The site's URL, `http://127.0.0.1:PORT`.
    public let url: String
    /// The site's directory (the copy), its database and logs beside it.
    public let directory: String
    let php: SpawnedProcess
    let database: SpawnedProcess

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Whether the packages the site needs are installed (`wordpress`, `mariadb-server`, `php-cli`, `php-mysql`).
    public static var isInstalled: Bool {
        access(source + "/wp-settings.php", R_OK) == 0 && access("/usr/sbin/mariadbd", X_OK) == 0 && access("/usr/bin/php", X_OK) == 0
    }

    /// The repository's `clients/wordpress/moxy-purge.php`.
    public static let plugin: String = {
        let parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).dropLast(3)
        return parts.joined(separator: "/") + "/clients/wordpress/moxy-purge.php"
    }()

    private init(url: String, directory: String, php: SpawnedProcess, database: SpawnedProcess) {
        self.url = url
        self.directory = directory
        self.php = php
        self.database = database
    }

    /// Starts and installs a fresh site (about 5 s).
    public static func start() async throws -> WordPressSite {
        guard isInstalled else { throw StartError(description: "WordPress is missing: apt-get install wordpress mariadb-server php-cli php-mysql") }
        var template = Array("/tmp/moxy-wp-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw StartError(description: "mkdtemp failed") }
        let directory = String(cString: made)
        let site = directory + "/site", data = directory + "/db", socket = directory + "/db.sock"
        try await shell(
            "mariadb-install-db --no-defaults --datadir=\(data) --user=root --auth-root-authentication-method=normal --skip-test-db"
                + " && cp -al \(source) \(site) && rm -f \(site)/wp-config.php \(site)/.htaccess"
                + " && mkdir -p \(site)/wp-content/mu-plugins \(site)/wp-content/uploads && cp \(plugin) \(site)/wp-content/mu-plugins/",
            in: directory)
        try write(site + "/wp-config.php", config(socket: socket))
        try write(directory + "/router.php", router)
        let database = try SpawnedProcess(
            "/usr/sbin/mariadbd",
            ["--no-defaults", "--datadir=\(data)", "--socket=\(socket)", "--skip-networking", "--user=root", "--pid-file=\(directory)/db.pid"],
            environment: [:], directory: directory, output: directory + "/db.log", error: directory + "/db.log")
        var php: SpawnedProcess? = nil
        do {
            try await waitFor("MariaDB to answer") {
                guard database.isRunning else { throw StartError(description: "mariadbd exited (log in \(directory)/db.log)") }
                return (try? await shell("mariadb --no-defaults --socket=\(socket) -u root -e 'CREATE DATABASE IF NOT EXISTS wp'", in: directory)) != nil
            }
            // Port 0: the built-in server picks a free port and says which in its log.
            let server = try SpawnedProcess(
                "/usr/bin/php", ["-S", "127.0.0.1:0", "-t", site, directory + "/router.php"],
                environment: ["PHP_CLI_SERVER_WORKERS": "4", "PATH": "/usr/bin:/bin"], directory: directory,
                output: directory + "/php.log", error: directory + "/php.log")
            php = server
            var port = 0
            try await waitFor("PHP's server to start") {
                guard server.isRunning else { throw StartError(description: "php -S exited (log in \(directory)/php.log)") }
                port = Self.announcedPort(Spawn.read(directory + "/php.log")) ?? 0
                return port != 0
            }
            let url = "http://127.0.0.1:\(port)"
            let installed = try await shell(
                "curl -sS -o /dev/null -w '%{http_code}' -X POST '\(url)/wp-admin/install.php?step=2' --data 'weblog_title=Moxy+test"
                    + "&user_name=admin&admin_password=Secret-pass-123&admin_password2=Secret-pass-123&pw_weak=1"
                    + "&admin_email=admin%40example.com&blog_public=0&language='", in: directory)
            guard installed == "200" else { throw StartError(description: "install.php answered \(installed) (log in \(directory)/php.log)") }
            return WordPressSite(url: url, directory: directory, php: server, database: database)
        } catch {
            if let php { await kill(php) }
            await kill(database)
            throw error
        }
    }

    /// Runs a started site for `body`, stopped on every path.
    public static func with<T>(_ body: (WordPressSite) async throws -> T) async throws -> T {
        let site = try await start()
        do {
            let result = try await body(site)
            await site.stop()
            return result
        } catch {
            await site.stop()
            throw error
        }
    }

    /// Points the purge plugin at a Moxy admin listener (read by every request from then on).
    public func configureMoxy(adminURL: String, token: String) throws {
        try Self.write(directory + "/site/moxy-config.php", "<?php\ndefine('MOXY_ADMIN_URL', '\(adminURL)');\ndefine('MOXY_ADMIN_TOKEN', '\(token)');\n")
    }

    /// Runs PHP code with WordPress loaded (as an editor's action would run: hooks and the purge
    /// plugin included, its purge sent when the script ends).
    /// - Returns: What the code printed.
    public func run(_ code: String) async throws -> String {
        let script = directory + "/script-\(UInt32.random(in: 0...UInt32.max)).php"
        try Self.write(script, "<?php\nrequire '\(directory)/site/wp-load.php';\n" + code + "\n")
        defer { unlink(script) }
        let result = try await Spawn.run("/usr/bin/php", [script], environment: ["PATH": "/usr/bin:/bin"], timeout: 60)
        guard result.status == 0 else { throw StartError(description: "php exited \(result.status): \(result.out) \(result.err)") }
        // What PHP logs from the command line (error_log) goes to its standard error.
        if !result.err.isEmpty, let file = fopen(directory + "/cli.log", "a") {
            fputs(result.err, file)
            fclose(file)
        }
        return result.out
    }

    /// What PHP wrote to its log (the purge plugin's failures included).
    public var log: String { Spawn.read(directory + "/php.log") }

    /// Stops the database (as in an outage): WordPress answers its database error from then on.
    public func stopDatabase() async {
        database.signal(SIGKILL)
        _ = await database.waitForExit()
    }

    /// Stops PHP and the database and removes the directory.
    public func stop() async {
        await Self.kill(php)
        await Self.kill(database)
        _ = try? await Self.shell("rm -rf \(directory)", in: "/tmp")
    }

    /// Kills a process and its children (the built-in server's workers are its children: they go
    /// first, or they would outlive it).
    static func kill(_ process: SpawnedProcess) async {
        _ = try? await shell("pkill -KILL -P \(process.processIdentifier) || true", in: "/tmp")
        process.signal(SIGKILL)
        _ = await process.waitForExit()
    }

    static func announcedPort(_ log: String) -> Int? {
        guard let range = log.firstRange(of: "Development Server (http://127.0.0.1:") else { return nil }
        return Int(log[range.upperBound...].prefix { $0.isNumber })
    }

    @discardableResult
    static func shell(_ command: String, in directory: String) async throws -> String {
        let result = try await Spawn.run("/bin/sh", ["-c", "cd \(directory) && " + command], environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"], timeout: 60)
        guard result.status == 0 else { throw StartError(description: "\(command) exited \(result.status): \(result.err)") }
        return result.out
    }

    static func write(_ path: String, _ text: String) throws {
        guard let file = fopen(path, "w") else { throw StartError(description: "cannot write \(path)") }
        defer { fclose(file) }
        fputs(text, file)
    }

    static func waitFor(_ what: String, _ ready: () async throws -> Bool) async throws {
        for _ in 0..<300 {
            if try await ready() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw StartError(description: "timed out waiting for \(what)")
    }

    static func config(socket: String) -> String {
        """
        <?php
        define('DB_NAME', 'wp');
        define('DB_USER', 'root');
        define('DB_PASSWORD', '');
        define('DB_HOST', 'localhost:\(socket)');
        define('DB_CHARSET', 'utf8mb4');
        define('DB_COLLATE', '');
        foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'] as $name) {
            define($name, 'moxy-test-' . $name);
        }
        define('AUTOMATIC_UPDATER_DISABLED', true);
        define('DISABLE_WP_CRON', true);
        define('WP_HTTP_BLOCK_EXTERNAL', true);
        if (is_file(__DIR__ . '/moxy-config.php')) require __DIR__ . '/moxy-config.php';
        $table_prefix = 'wp_';
        if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
        require_once ABSPATH . 'wp-settings.php';

        """
    }

    /// Files as they are, everything else to WordPress's front controller (pretty permalinks:
    /// `/wp-json/…`), as nginx's `try_files $uri $uri/ /index.php?$args` does.
    static let router = """
        <?php
        file_put_contents(__DIR__ . '/requests.log', $_SERVER['REQUEST_METHOD'] . ' ' . $_SERVER['REQUEST_URI'] . "\n", FILE_APPEND | LOCK_EX);
        $path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
        $file = $_SERVER['DOCUMENT_ROOT'] . $path;
        if ($path !== '/' && is_file($file)) return false;
        if (is_dir($file) && is_file(rtrim($file, '/') . '/index.php')) return false;
        $_SERVER['SCRIPT_NAME'] = '/index.php';
        require $_SERVER['DOCUMENT_ROOT'] . '/index.php';

        """
}

extension WordPressSite {
    /// How many `GET`s of exactly this target (path and query) reached WordPress (the router logs each request).
    public func requests(_ target: String) -> Int {
        Spawn.read(directory + "/requests.log").split(separator: "\n").filter { $0 == "GET " + target }.count
    }

    /// The purge plugin's complaints in PHP's log (`moxy-purge: …`), one per line.
    public var pluginErrors: [Substring] {
        (log + Spawn.read(directory + "/cli.log")).split(separator: "\n").filter { $0.contains("moxy-purge:") }
    }

    /// Puts a file into `wp-content/uploads` (as the media library would), served by PHP as it is.
    public func upload(_ relativePath: String, _ bytes: [UInt8]) throws {
        let path = directory + "/site/wp-content/uploads/" + relativePath
        var folder = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        var missing: [String] = []
        while access(folder, F_OK) != 0 {
            missing.append(folder)
            folder = folder.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        }
        for folder in missing.reversed() { mkdir(folder, 0o755) }
        guard let file = fopen(path, "w") else { throw StartError(description: "cannot write \(path)") }
        defer { fclose(file) }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    }

    /// Requests a target from WordPress directly (not through Moxy).
    public func get(_ target: String) async throws -> TestResponse {
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        do {
            let response = try await client.execute(HTTPClientRequest(url: url + target), timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 32 << 20)
            try await client.shutdown()
            return TestResponse(status: Int(response.status.code), headers: response.headers, body: Array(buffer: body))
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
