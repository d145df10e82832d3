// SPDX-License-Identifier: Apache-2.0

import FuzzSupport
import MoxyYAML

@_cdecl("FuzzYAML_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in
        let document = text(data, size)
        let tree = try? YAMLSubset.parseTree(document)
        let flat = try? YAMLSubset.parse(document)
        // The two views of a document agree on whether it is valid, and parsing is deterministic.
        check((tree == nil) == (flat == nil), "parseTree and parse disagree")
        if let flat {
            check((try? YAMLSubset.parse(document)) == flat, "parse is not deterministic")
            for key in flat.keys where !key.isEmpty {  // "" is a document that is a list
                // Dotted paths are made of checked keys: never an empty component.
                check(!key.split(separator: ".", omittingEmptySubsequences: false).contains(""), "empty path component in '\(key)'")
            }
        }
        return 0
    }
}
