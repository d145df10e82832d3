// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxyTestSupport
import Testing

/// The deployment files in `examples/`.
@Suite struct DeploymentTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// `systemd-analyze verify` accepts the unit with no warning (an unknown or misspelt key is
    /// one), run on a copy whose `ExecStart` names the binary just built. A machine without the
    /// tool fails the test, naming the package to install (scripts/test.sh installs it).
    @Test func theSystemdUnitVerifies() async throws {
        let unit = try String(contentsOf: Self.root.appendingPathComponent("examples/moxy.service"), encoding: .utf8)
        #expect(unit.contains("DynamicUser=yes") && unit.contains("ProtectSystem=strict") && unit.contains("StateDirectory=moxy"))
        #expect(unit.contains("NoNewPrivileges=yes") && unit.contains("ExecReload=/bin/kill -HUP $MAINPID"))
        let analyze = try #require(Self.analyze, "systemd-analyze is missing: apt-get install systemd (scripts/test.sh does)")
        let directory = NSTemporaryDirectory() + "moxy-unit-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let copy = directory + "/moxy.service"
        try unit.replacingOccurrences(of: "/usr/local/bin/moxy", with: MoxyBinary.path).write(toFile: copy, atomically: true, encoding: .utf8)
        let result = try await Spawn.run(analyze, ["verify", copy], environment: ProcessInfo.processInfo.environment)
        let output = result.err
        #expect(result.status == 0, "\(output)")
        let warnings = output.split(separator: "\n").filter { $0.contains("moxy.service") }
        #expect(warnings.isEmpty, "\(warnings)")
    }
}
