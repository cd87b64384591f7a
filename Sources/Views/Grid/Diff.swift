/// A run of cells of one role on one row, to be written at (x, y): what a terminal driver writes.
public struct Span: Equatable, Sendable {
    public let x: Int
    public let y: Int
    /// The graphemes of the run; a wide grapheme's continuation cell adds nothing.
    public let text: String
    /// Cells the run covers.
    public let width: Int
    public let role: Role

    public init(x: Int, y: Int, text: String, width: Int, role: Role) {
        self.x = x
        self.y = y
        self.text = text
        self.width = width
        self.role = role
    }
}

extension Grid {
    /// Unchanged cells this short between two changes are written again rather than skipped:
    /// moving the cursor costs about as many bytes.
    static let bridge = 4

    /// The spans that turn `old` into this grid: every cell when there is no `old` or its size
    /// differs, else only what changed (a wide grapheme is always written whole). Pure: the same
    /// two grids always give the same spans.
    public func diff(from old: Grid?) -> [Span] {
        let full = old.map { $0.width != width || $0.height != height } ?? true
        var spans: [Span] = []
        for y in 0..<height {
            var x = 0
            while x < width {
                guard full || old![x, y] != self[x, y] else { x += 1; continue }
                // A run: changed cells, and short unchanged gaps between them.
                var start = x
                while start > 0 && self[start, y].isContinuation { start -= 1 }
                var end = x   // inclusive: the last changed cell of the run
                var probe = x + 1
                while probe < width && probe - end <= Self.bridge {
                    if full || old![probe, y] != self[probe, y] { end = probe }
                    probe += 1
                }
                if end + 1 < width && self[end + 1, y].isContinuation { end += 1 }
                appendRuns(y: y, from: start, to: end, into: &spans)
                x = end + 1
            }
        }
        return spans
    }

    /// Cells `from...to` of row `y`, split where the role changes.
    private func appendRuns(y: Int, from: Int, to: Int, into spans: inout [Span]) {
        var x = from
        while x <= to {
            let role = self[x, y].role, start = x
            var text = ""
            while x <= to && self[x, y].role == role {
                if !self[x, y].isContinuation { text += self[x, y].text }
                x += 1
            }
            spans.append(Span(x: start, y: y, text: text, width: x - start, role: role))
        }
    }
}
