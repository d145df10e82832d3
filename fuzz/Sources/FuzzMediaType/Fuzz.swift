// SPDX-License-Identifier: Apache-2.0

import FuzzSupport
import MoxyHTTP
import MoxyServer

@_cdecl("FuzzMediaType_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in
        let value = text(data, size)
        if let type = MediaType(value) {
            // The canonical form parses to the same type (re-emission is stable).
            let canonical = type.description
            check(MediaType(canonical)?.description == canonical, "canonical form is stable: \(canonical)")
            // One type only: a comma may appear inside a quoted parameter value, never in the type.
            check(!type.type.contains(",") && !type.subtype.contains(","), "one type only")
            _ = type.matches("image/*")
        }
        return 0
    }
}
