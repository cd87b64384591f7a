import Backends

/// One line of text being typed: the filter line, the command line, a dialog's field. Control
/// and invisible characters cannot be typed; the text is bounded.
public struct LineEditor: Equatable, Sendable {
    public private(set) var text: String
    /// The cursor, in characters from the start.
    public private(set) var cursor: Int
    public let limit: Int

    public init(_ text: String = "", limit: Int = 200) {
        self.text = String(text.prefix(limit))
        self.limit = limit
        cursor = self.text.count
    }

    public mutating func set(_ text: String) {
        self.text = String(text.prefix(limit))
        cursor = self.text.count
    }

    /// Applies an editing key; false when the key is not one (the caller handles it).
    public mutating func handle(_ key: Key) -> Bool {
        var chars = Array(text)
        switch key {
        case .char(let c):
            guard !c.unicodeScalars.contains(where: SafeText.isUnsafe) else { return true }   // swallowed, never stored
            guard chars.count < limit else { return true }
            chars.insert(c, at: cursor)
            cursor += 1
        case .backspace:
            guard cursor > 0 else { return true }
            chars.remove(at: cursor - 1)
            cursor -= 1
        case .delete, .ctrl("d"):
            guard cursor < chars.count else { return true }
            chars.remove(at: cursor)
        case .left, .ctrl("b"): cursor = max(0, cursor - 1)
        case .right, .ctrl("f"): cursor = min(chars.count, cursor + 1)
        case .home, .ctrl("a"): cursor = 0
        case .end, .ctrl("e"): cursor = chars.count
        case .ctrl("u"):
            chars.removeFirst(cursor)
            cursor = 0
        case .ctrl("k"): chars.removeLast(chars.count - cursor)
        case .ctrl("w"):
            var start = cursor
            while start > 0 && chars[start - 1] == " " { start -= 1 }
            while start > 0 && chars[start - 1] != " " { start -= 1 }
            chars.removeSubrange(start..<cursor)
            cursor = start
        default: return false
        }
        text = String(chars)
        return true
    }

    /// Draws the text in `width` cells, scrolled so the cursor shows; the cursor cell is drawn
    /// in the `selected` role when `focused`.
    public func draw(into grid: inout Grid, x: Int, y: Int, width: Int, role: Role, focused: Bool) {
        guard width > 1 else { return }
        let chars = Array(text)
        // Scroll by characters so that the cursor cell fits; wide characters count double.
        var start = 0
        while start < cursor && DisplayWidth.of(String(chars[start..<cursor])) > width - 1 { start += 1 }
        var col = x
        var i = start
        while i <= chars.count {
            let ch: String = i < chars.count ? String(chars[i]) : " "
            let w = DisplayWidth.of(ch)
            if col + w > x + width { break }
            grid.put(ch, x: col, y: y, role: focused && i == cursor ? .selected : role)
            col += w
            i += 1
        }
    }
}
