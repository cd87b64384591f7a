/// A message that needs reading: an action that failed with its full reason, say. Any key
/// closes it.
public struct Notice: Equatable, Sendable {
    public let title: String
    public let lines: [String]
    public let failed: Bool

    public init(title: String, lines: [String], failed: Bool) {
        self.title = title
        self.lines = lines
        self.failed = failed
    }

    public func draw(into grid: inout Grid) {
        let w = min(grid.width - 4, max(40, min(90, (lines.map(DisplayWidth.of).max() ?? 0) + 4)))
        let wrapped = lines.flatMap { Wrap.lines($0, width: w - 4) }
        let h = min(grid.height - 2, wrapped.count + 4)
        let box = Box.centered(in: grid, width: w, height: h)
        box.draw(into: &grid, title: title, footer: "any key closes", role: failed ? .error : .accent)
        for (i, line) in wrapped.prefix(h - 4).enumerated() {
            grid.put(line, x: box.rect.x + 2, y: box.rect.y + 2 + i, role: failed && i == 0 ? .error : .normal, maxWidth: w - 4)
        }
    }
}

/// A framed rectangle for overlays.
public struct Box: Sendable {
    public let rect: Rect

    public static func centered(in grid: Grid, width: Int, height: Int) -> Box {
        let w = max(4, min(grid.width, width)), h = max(3, min(grid.height, height))
        return Box(rect: Rect(x: (grid.width - w) / 2, y: max(0, (grid.height - h) / 2), width: w, height: h))
    }

    /// Clears the box and draws its top and bottom rules with a title and a footer.
    public func draw(into grid: inout Grid, title: String, footer: String?, role: Role = .accent) {
        grid.fill(rect, role: .normal)
        let rule = String(repeating: "─", count: rect.width)
        grid.put(rule, x: rect.x, y: rect.y, role: role)
        grid.put(" \(title) ", x: rect.x + 2, y: rect.y, role: .title, maxWidth: rect.width - 4)
        grid.put(rule, x: rect.x, y: rect.y + rect.height - 1, role: role)
        if let footer { grid.put(" \(footer) ", x: rect.x + 2, y: rect.y + rect.height - 1, role: .dim, maxWidth: rect.width - 4) }
    }
}

/// Word wrapping by display width; a word longer than the line is cut.
public enum Wrap {
    public static func lines(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var out: [String] = [], line = "", lineWidth = 0
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let w = DisplayWidth.of(String(word))
            if lineWidth > 0 && lineWidth + 1 + w > width {
                out.append(line)
                line = ""
                lineWidth = 0
            }
            if lineWidth > 0 { line += " "; lineWidth += 1 }
            line += word
            lineWidth += w
        }
        out.append(line)
        return out
    }
}
