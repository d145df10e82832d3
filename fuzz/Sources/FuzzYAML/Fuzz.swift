// SPDX-License-Identifier: Apache-2.0

import Configuration
import FuzzSupport
import MoxyYAML

@_cdecl("FuzzYAML_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in
        let document = text(data, size)
        let tree = try? YAMLSubset.parseTree(document)
        let provider = try? YAMLProvider(text: document, root: ["moxy"])
        // The tree and the provider agree on whether a document is valid, and parsing is deterministic.
        check((tree == nil) == (provider == nil), "parseTree and YAMLProvider disagree")
        guard let tree, let provider else { return 0 }
        check((try? YAMLSubset.parseTree(document)) == tree, "parseTree is not deterministic")
        for (key, shape) in provider.leaves {
            // Keys are made of checked keys and list indices: never an empty component.
            check(!key.contains(""), "empty key component in \(key)")
            // Every lookup answers or throws a type mismatch; a leaf is never "not found".
            for type in [ConfigType.string, .int, .double, .bool, .stringArray, .intArray, .boolArray, .bytes] {
                do {
                    let result = try provider.value(forKey: AbsoluteConfigKey(key), type: type)
                    check(result.value != nil, "leaf \(key) not found as \(type)")
                } catch is YAMLProvider.TypeMismatch {
                } catch {
                    check(false, "unexpected error \(error)")
                }
            }
            if case .list(let count) = shape {
                for index in 0..<count { check(provider.shape(at: key + [String(index)]) != nil, "list item \(index) of \(key) missing") }
            }
        }
        return 0
    }
}
