// SPDX-License-Identifier: Apache-2.0

import FuzzSupport
import MoxyValidation
import NIOCore

@_cdecl("FuzzJSON_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in
        let input = bytes(data, size)
        // Built per input: a global would be reported as a leak at exit, and capturing a local
        // crashes the 6.3 compiler's region analysis here.
        let rules = ValidationConfiguration(rules: [
            ValidationRule(name: "code", check: .pointer(try! JSONPointer("/code"), .absent)),
            ValidationRule(name: "status", check: .pointer(try! JSONPointer("/data/status"), .lessThan(500))),
            ValidationRule(name: "first", check: .pointer(try! JSONPointer("/0/id"), .exists)),
            ValidationRule(name: "deny", check: .bodyDenies(Array("<b>Fatal error</b>".utf8))),
        ])
        // The body as a document, and the same bytes as a pointer.
        let full = try? JSONParser.parse(input)
        let syntaxOnly = try? JSONParser.parse(input, keeping: .nothing)
        check((full == nil) == (syntaxOnly == nil), "the syntax check agrees with the full parse")
        if let full {
            check(full.jsonEquals(full), "a document equals itself")
            var pointers = rules.paths == .nothing ? [] : [try! JSONPointer("/code"), try! JSONPointer("/data/status"), try! JSONPointer("/0/id")]
            if let pointer = try? JSONPointer(String(decoding: input.prefix(64), as: UTF8.self)) { pointers.append(pointer) }
            // Building only the pointed parts finds the same values.
            if let partial = try? JSONParser.parse(input, keeping: JSONPaths(pointers: pointers)) {
                for pointer in pointers {
                    check(pointer.resolve(in: partial) == pointer.resolve(in: full), "partial parse resolves like the full one")
                }
            } else {
                check(false, "partial parse fails where the full one succeeds")
            }
        }
        _ = rules.validate(status: 200, headers: [("Content-Type", "application/json")], body: ByteBuffer(bytes: input))
        _ = BodyExcerpt.make(ByteBuffer(bytes: input))
        return 0
    }
}
