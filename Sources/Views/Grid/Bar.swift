/// Horizontal bars and gauges for a cell range: eighth blocks for the filled part, a light shade
/// for the rest, so the scale is visible even when empty.
public enum Bar {
    static let eighths = Array(" ▏▎▍▌▋▊▉")

    /// `fraction` (clamped to 0...1) of `width` cells, filled from the left.
    public static func text(_ fraction: Double, width: Int) -> String {
        guard width > 0 else { return "" }
        let f = fraction.isFinite ? min(1, max(0, fraction)) : (fraction > 0 ? 1 : 0)
        let total = Int((f * Double(width * 8)).rounded())
        let full = total / 8, part = total % 8
        var s = String(repeating: "█", count: full)
        if full < width {
            s.append(part > 0 ? eighths[part] : "░")
            s += String(repeating: "░", count: width - full - 1)
        }
        return s
    }

    /// A gauge with a mark at `mark` (a fraction, e.g. the soft threshold): the mark replaces the
    /// cell it falls on with `│` when that cell is not filled.
    public static func gauge(_ fraction: Double, mark: Double?, width: Int) -> String {
        var cells = Array(text(fraction, width: width))
        if let mark, mark > 0, mark < 1, width > 2 {
            let i = min(width - 1, Int((mark * Double(width)).rounded(.down)))
            if cells[i] == "░" { cells[i] = "│" }
        }
        return String(cells)
    }
}
