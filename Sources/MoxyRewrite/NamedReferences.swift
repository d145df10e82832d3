// SPDX-License-Identifier: Apache-2.0

/// The named character references the rewriter decodes: those that appear in URLs and the common
/// Latin-1 and punctuation ones (a subset of WHATWG's 2,231). A URL holding a `&name;` not listed
/// here is left alone rather than guessed at.
enum NamedReferences {
    static let table: [String: Unicode.Scalar] = {
        var table: [String: Unicode.Scalar] = [
            "amp": "&", "AMP": "&", "lt": "<", "LT": "<", "gt": ">", "GT": ">", "quot": "\"", "QUOT": "\"",
            "apos": "'", "nbsp": "\u{A0}", "copy": "©", "COPY": "©", "reg": "®", "REG": "®", "trade": "™",
            "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”",
            "bull": "•", "euro": "€", "sol": "/", "colon": ":", "comma": ",", "period": ".", "quest": "?",
            "equals": "=", "num": "#", "percnt": "%", "plus": "+", "lpar": "(", "rpar": ")", "lowbar": "_",
            "Tab": "\t", "NewLine": "\n", "excl": "!", "dollar": "$", "ast": "*", "semi": ";", "commat": "@",
            "lsqb": "[", "rsqb": "]", "lcub": "{", "rcub": "}", "verbar": "|", "tilde": "~", "grave": "`",
            "Hat": "^", "bsol": "\\",
        ]
        // Latin-1 (U+00A0 to U+00FF), all of which are also legacy names.
        for (offset, name) in latin1.enumerated() { table[name] = Unicode.Scalar(UInt8(0xA0 + offset)) }
        return table
    }()

    static let latin1 = [
        "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf", "laquo", "not", "shy",
        "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro", "para", "middot", "cedil", "sup1", "ordm",
        "raquo", "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig",
        "Ccedil", "Egrave", "Eacute", "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve",
        "Oacute", "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute", "THORN",
        "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil", "egrave", "eacute", "ecirc",
        "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde", "ograve", "oacute", "ocirc", "otilde", "ouml",
        "divide", "oslash", "ugrave", "uacute", "ucirc", "uuml", "yacute", "thorn", "yuml",
    ]

    /// Names recognised without a trailing `;` (WHATWG's legacy list, restricted to this table).
    static let legacy: Set<String> = Set(latin1 + ["amp", "AMP", "lt", "LT", "gt", "GT", "quot", "QUOT", "COPY", "REG"])

    /// Numeric references 0x80-0x9F, read as windows-1252 (WHATWG table).
    static let windows1252: [UInt32: UInt32] = [
        0x80: 0x20AC, 0x82: 0x201A, 0x83: 0x0192, 0x84: 0x201E, 0x85: 0x2026, 0x86: 0x2020, 0x87: 0x2021,
        0x88: 0x02C6, 0x89: 0x2030, 0x8A: 0x0160, 0x8B: 0x2039, 0x8C: 0x0152, 0x8E: 0x017D, 0x91: 0x2018,
        0x92: 0x2019, 0x93: 0x201C, 0x94: 0x201D, 0x95: 0x2022, 0x96: 0x2013, 0x97: 0x2014, 0x98: 0x02DC,
        0x99: 0x2122, 0x9A: 0x0161, 0x9B: 0x203A, 0x9C: 0x0153, 0x9E: 0x017E, 0x9F: 0x0178,
    ]
}
