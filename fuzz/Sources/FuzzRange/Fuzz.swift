// SPDX-License-Identifier: Apache-2.0

import FuzzSupport
import MoxyHTTP
import MoxyCache

@_cdecl("FuzzRange_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in
        let input = bytes(data, size)
        // The first two bytes pick the representation length, the rest is the field value.
        let length = input.count >= 2 ? Int(input[0]) << 8 | Int(input[1]) : 0
        let value = String(decoding: input.dropFirst(2), as: UTF8.self)
        switch ByteRange.parse(value, length: length) {
        case .satisfiable(let first, let last):
            check(first >= 0 && first <= last && last < length, "range within the representation")
        case .unsatisfiable, .ignored:
            break
        }
        _ = Validators.ifRangeHolds(value, etag: "\"x\"", lastModified: 1_700_000_000, date: 1_700_000_100)
        return 0
    }
}
