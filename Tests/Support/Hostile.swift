import Backends
import PropertyBased

/// Hostile text for property-based tests: C0, DEL and C1 controls, bidi and invisible format
/// characters, tag characters, the escape sequences of known terminal attacks (CSI, OSC 0/8/52,
/// DCS, C1 CSI, unterminated OSC), quotes and backslashes, mixed with ordinary letters and
/// characters from across the BMP and beyond.
public enum Hostile {
    public static let sequences = ["\u{1B}[2J", "\u{1B}[31m", "\u{1B}]0;owned\u{07}", "\u{1B}]8;;https://evil.example/\u{1B}\\link\u{1B}]8;;\u{1B}\\",
                            "\u{1B}]52;c;aGVsbG8=\u{07}", "\u{1B}P+q544e\u{1B}\\", "\u{9B}6n", "\u{1B}]0;unterminated", "\u{202E}gnp.exe",
                            "\u{2066}x\u{2069}", "\u{200B}", "\u{FEFF}", "\u{E0041}\u{E0042}", "'", "\\", "\"", "\\'", "\n", "\t", "\0", "{}", "%s%n"]

    /// Each number picks a piece: a character of a range above, or one of `sequences`.
    public static func piece(_ n: Int) -> String {
        let ranges: [ClosedRange<UInt32>] = [0...0x7F, 0x80...0x9F, 0x2000...0x206F, 0xA0...0xD7FF, 0xE000...0xFFFF, 0x10000...0xE01EF, 0x61...0x7A]
        let pick = n % (ranges.count + 1)
        guard pick < ranges.count else { return sequences[(n / 8) % sequences.count] }
        let r = ranges[pick]
        return Unicode.Scalar(r.lowerBound + UInt32((n / 8) % Int(r.upperBound - r.lowerBound + 1))).map { String($0) } ?? "?"
    }

    public static let string = Gen.int(in: 0...1_000_000_000).array(of: 0...24).map { $0.map(Hostile.piece).joined() }

    public static func hasUnsafe(_ s: String) -> Bool { s.unicodeScalars.contains(where: SafeText.isUnsafe) }
}

