// SPDX-License-Identifier: Apache-2.0

/// The elements the rewriter treats specially, recognised once per tag from its lower-case name.
enum Element: Sendable, Equatable {
    case img, source, video, link, base, template, foreign, plaintext, style
    /// `script`, `textarea`, `title`, `xmp`, `iframe`, `noembed`, `noframes`: contents are raw text.
    case rawText
    case other

    init(_ name: [UInt8]) {
        switch String(decoding: name, as: UTF8.self) {
        case "img": self = .img
        case "source": self = .source
        case "video": self = .video
        case "link": self = .link
        case "base": self = .base
        case "template": self = .template
        case "svg", "math": self = .foreign
        case "plaintext": self = .plaintext
        case "style": self = .style
        case "script", "textarea", "title", "xmp", "iframe", "noembed", "noframes": self = .rawText
        default: self = .other
        }
    }
}
