// SPDX-License-Identifier: Apache-2.0

/// The parts of a document that rules read: the values their pointers lead to (whole) and the
/// members and items on the way there. The parser builds values only for these and checks the
/// rest for syntax, so a rule on `/code` costs little more than the syntax check, whatever the size.
public struct JSONPaths: Sendable, Hashable {
    /// Keep the whole value here (a pointer ends here).
    public private(set) var whole: Bool
    /// Object members to follow, by name.
    public private(set) var members: [String: JSONPaths]
    /// Array items to follow, by index.
    public private(set) var items: [Int: JSONPaths]

    /// Every part of the document.
    public static let everything = JSONPaths(whole: true)
    /// Nothing: a syntax check only.
    public static let nothing = JSONPaths(whole: false)

    private init(whole: Bool) {
        self.whole = whole
        members = [:]
        items = [:]
    }

    /// The parts these pointers read.
    public init(pointers: [JSONPointer]) {
        self.init(whole: false)
        for pointer in pointers { insert(pointer.tokens[...]) }
    }

    private mutating func insert(_ tokens: ArraySlice<String>) {
        guard !whole else { return }
        guard let token = tokens.first else {
            self = .everything
            return
        }
        let rest = tokens.dropFirst()
        // A token may name a member or, when it is an index, an item: follow both.
        members[token, default: .nothing].insert(rest)
        if let index = JSONPointer.arrayIndex(token) { items[index, default: .nothing].insert(rest) }
    }
}
