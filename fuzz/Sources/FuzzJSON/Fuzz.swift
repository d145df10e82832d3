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
        if let value = try? JSONParser.parse(input) {
            check(value.jsonEquals(value), "a document equals itself")
            if let pointer = try? JSONPointer(String(decoding: input.prefix(64), as: UTF8.self)) {
                _ = pointer.resolve(in: value)
            }
        }
        _ = rules.validate(status: 200, headers: [("Content-Type", "application/json")], body: ByteBuffer(bytes: input))
        _ = BodyExcerpt.make(ByteBuffer(bytes: input))
        return 0
    }
}
