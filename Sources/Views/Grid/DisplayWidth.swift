/// Terminal display width of a grapheme cluster: 0, 1 or 2 cells.
///
/// Wide: East Asian Wide/Fullwidth blocks and emoji presentation (including text emoji turned
/// into emoji by VS16). Everything else that is printable is 1. Control characters never get
/// here: SafeText replaces them first.
public enum DisplayWidth {
    public static func of(_ c: Character) -> Int {
        var wide = false
        for s in c.unicodeScalars {
            if s.value == 0xFE0F || isWide(s) { wide = true; break }
        }
        return wide ? 2 : 1
    }

    public static func of(_ text: String) -> Int {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.utf8.count }   // ASCII: a cell a byte
        return text.reduce(0) { $0 + of($1) }
    }

    /// A grapheme that starts with a combining mark has nothing to sit on: show it on U+25CC.
    static func needsBase(_ c: Character) -> Bool {
        guard let first = c.unicodeScalars.first else { return false }
        switch first.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .spacingMark: return true
        default: return false
        }
    }

    static func isWide(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0, 0x23F3,
             0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F,
             0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F004, 0x1F0CF, 0x1F18E, 0x1F191...0x1F19A,
             0x1F200...0x1F2FF, 0x1F300...0x1F64F, 0x1F680...0x1F6FF, 0x1F900...0x1F9FF,
             0x1FA70...0x1FAFF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return true
        default:
            return s.properties.isEmojiPresentation
        }
    }
}
