/// The one sanitiser for text that came from data (Redis values, audit rows, flags) on its way
/// to a terminal, a table or an error message.
///
/// Control characters (C0, DEL, C1), bidi overrides/isolates and other invisible format
/// characters are replaced by a visible escape such as `\x1B` or `\u{202E}`, so the reader sees
/// that something was there and nothing reaches the terminal raw. Invalid UTF-8 has already
/// become U+FFFD when bytes were decoded into a `String`.
public enum SafeText {
    /// The text with every unsafe scalar escaped. Returns the input unchanged (no copy) when clean.
    public static func clean(_ text: String) -> String {
        if !text.unicodeScalars.contains(where: isUnsafe) { return text }
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if isUnsafe(s) { out.append(contentsOf: escape(s).unicodeScalars) } else { out.append(s) }
        }
        return String(out)
    }

    /// A value quoted for an error message: escaped, in double quotes, cut to `limit` characters.
    public static func quoted(_ text: String, limit: Int = 80) -> String {
        var body = clean(text).replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"")
        if body.count > limit { body = String(body.prefix(limit)) + "…" }
        return "\"\(body)\""
    }

    public static func isUnsafe(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x00...0x1F, 0x7F...0x9F: return true               // C0, DEL, C1
        case 0x061C, 0x180E: return true                          // Arabic letter mark (bidi), Mongolian vowel separator
        case 0x200B, 0x200E, 0x200F, 0x2028...0x202E, 0x2060...0x2069: return true // zero-width, line/para sep, bidi
        case 0xFEFF, 0xFFF9...0xFFFB: return true                // BOM, interlinear annotations
        case 0xE0000...0xE007F: return true                       // tag characters: invisible text ("ASCII smuggling")
        default: return false
        }
    }

    /// JSON text with every character `isUnsafe` names written as `\uXXXX`: JSONEncoder escapes
    /// only C0 controls, so DEL, C1, bidi overrides and invisible format characters would reach a
    /// terminal raw. Outside strings JSON is ASCII, so this changes only string contents.
    public static func jsonEscapingUnsafe(_ json: String) -> String {
        var out = String.UnicodeScalarView()
        for s in json.unicodeScalars {
            if s.value > 0x1F && isUnsafe(s) {
                // Beyond the BMP (the tag characters), JSON spells a character as its UTF-16 surrogate pair.
                for unit in String(s).utf16 { out.append(contentsOf: String(format: "\\u%04X", unit).unicodeScalars) }
            } else {
                out.append(s)
            }
        }
        return String(out)
    }

    private static func escape(_ s: Unicode.Scalar) -> String {
        let hex = String(s.value, radix: 16, uppercase: true)
        if s.value <= 0xFF { return "\\x" + (hex.count < 2 ? "0" + hex : hex) }
        return "\\u{\(hex)}"
    }
}

extension String {
    /// Plain literal replacement without Foundation.
    func replacingAll(_ target: Character, with replacement: String) -> String {
        guard contains(target) else { return self }
        var out = ""
        out.reserveCapacity(count)
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
