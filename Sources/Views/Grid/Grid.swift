import Backends

/// What a cell means; the theme decides how it looks. Widgets speak in roles, never in colours.
public enum Role: String, Sendable, CaseIterable, Codable {
    case normal, header, selected, title, dim, good, warn, bad, error, accent, bar
}

/// One terminal cell: a grapheme cluster and its role. A wide grapheme takes two cells; the second
/// holds `continuation` so the driver knows not to write it.
public struct Cell: Equatable, Sendable {
    public var text: String
    public var role: Role
    public init(_ text: String = " ", _ role: Role = .normal) {
        self.text = text
        self.role = role
    }
    public static let blank = Cell()
    public static let continuation = "\u{0}"
    public var isContinuation: Bool { text == Cell.continuation }
}

/// A rectangle of cells that widgets draw into. Nothing here touches a terminal: the curses
/// driver diffs two grids and writes only the cells that changed.
public struct Grid: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    /// Paints `role` over a rectangle (keeping the text), e.g. a selection bar.
    public mutating func paint(_ rect: Rect, role: Role) {
        for y in max(0, rect.y)..<min(height, rect.y + rect.height) {
            for x in max(0, rect.x)..<min(width, rect.x + rect.width) { self[x, y].role = role }
        }
    }

    public mutating func fill(_ rect: Rect, role: Role = .normal) {
        for y in max(0, rect.y)..<min(height, rect.y + rect.height) {
            for x in max(0, rect.x)..<min(width, rect.x + rect.width) { self[x, y] = Cell(" ", role) }
        }
    }

    /// Writes sanitised `text` at (x, y), clipped to `maxWidth` cells and the grid. Returns the
    /// number of cells used. A wide grapheme that does not fit whole is not drawn.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, role: Role = .normal, maxWidth: Int? = nil) -> Int {
        guard y >= 0, y < height, x < width else { return 0 }
        let limit = min(width, x + (maxWidth ?? width))
        // Printable ASCII, most of what a frame holds: a cell per byte, nothing to clean or measure.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            var col = x
            for byte in text.utf8 {
                if col >= limit { break }
                if col >= 0 {
                    unpair(col, y)
                    self[col, y] = Cell(Self.ascii[Int(byte) - 0x20], role)
                }
                col += 1
            }
            return col - x
        }
        var col = x
        for ch in SafeText.clean(text) {
            let shown = DisplayWidth.needsBase(ch) ? "\u{25CC}" + String(ch) : String(ch)
            let w = DisplayWidth.of(ch)
            if col + w > limit { break }
            if col >= 0 {
                unpair(col, y)
                if w == 2 { unpair(col + 1, y) }
                self[col, y] = Cell(shown, role)
                if w == 2 { self[col + 1, y] = Cell(Cell.continuation, role) }
            }
            col += w
        }
        return col - x
    }

    static let ascii: [String] = (0x20..<0x7F).map { String(UnicodeScalar(UInt8($0))) }

    /// Before (x, y) is overwritten: a wide grapheme it is half of loses its other half, so no
    /// cell is ever left as half a character.
    private mutating func unpair(_ x: Int, _ y: Int) {
        if self[x, y].isContinuation, x > 0 { self[x - 1, y] = Cell(" ", self[x - 1, y].role) }
        if x + 1 < width, self[x + 1, y].isContinuation { self[x + 1, y] = Cell(" ", self[x + 1, y].role) }
    }

    /// The grid as plain text, one line per row, trailing spaces trimmed (golden screens).
    public var text: String {
        var lines: [String] = []
        for y in 0..<height {
            var line = ""
            for x in 0..<width where !self[x, y].isContinuation { line += self[x, y].text }
            while line.hasSuffix(" ") { line.removeLast() }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

public struct Rect: Equatable, Sendable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
}

/// Text fitted to a width: truncated with an ellipsis, padded left or right.
public enum Fit {
    public enum Align: Sendable { case left, right }

    public static func text(_ s: String, _ width: Int, _ align: Align = .left) -> String {
        guard width > 0 else { return "" }
        let bytes = s.utf8
        if bytes.count <= width, bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {   // printable ASCII that fits
            let pad = String(repeating: " ", count: width - bytes.count)
            return align == .left ? s + pad : pad + s
        }
        let clean = SafeText.clean(s)
        var w = DisplayWidth.of(clean)
        var out = clean
        if w > width {
            out = ""
            w = 0
            for ch in clean {
                let cw = DisplayWidth.of(ch)
                if w + cw > width - 1 { break }
                out.append(ch)
                w += cw
            }
            out += "…"
            w += 1
        }
        let pad = String(repeating: " ", count: max(0, width - w))
        return align == .left ? out + pad : pad + out
    }
}
