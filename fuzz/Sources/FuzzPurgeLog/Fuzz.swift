// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import FuzzSupport
import MoxyStorage

/// The purge log's lines, read at every start (a torn last line after a crash, a log edited by
/// hand): each line is refused or read, and a record read writes a line that reads back to it.
@_cdecl("FuzzPurgeLog_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in
        for line in text(data, size).split(separator: "\n") {
            guard let record = PurgeRecord(line: line) else { continue }
            let written = record.line
            check(!written.contains("\n"), "a record is one line")
            check(PurgeRecord(line: Substring(written)) == record, "a record's line reads back to it: \(written)")
        }
        return 0
    }
}
