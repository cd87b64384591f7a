/// Short human formats for table cells.
public enum Format {
    /// `42`, `9.9k`, `12k`, `3.4M`, `1.2G`.
    public static func count(_ n: Int) -> String {
        let a = abs(n)
        let sign = n < 0 ? "-" : ""
        func scaled(_ d: Double, _ unit: String) -> String {
            d < 10 ? sign + oneDecimal(d) + unit : sign + String(Int(d.rounded(.down))) + unit
        }
        switch a {
        case ..<10_000: return String(n)
        case ..<1_000_000: return scaled(Double(a) / 1e3, "k")
        case ..<1_000_000_000: return scaled(Double(a) / 1e6, "M")
        default: return scaled(Double(a) / 1e9, "G")
        }
    }

    /// `45s`, `12m05s`, `3h20m`, `2d03h`. Negative durations read as `0s`.
    public static func duration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded(.down)))
        func p(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        switch s {
        case ..<60: return "\(s)s"
        case ..<3600: return "\(s / 60)m\(p(s % 60))s"
        case ..<86_400: return "\(s / 3600)h\(p(s % 3600 / 60))m"
        default: return "\(s / 86_400)d\(p(s % 86_400 / 3600))h"
        }
    }

    /// `87%`, `140%`, `0.4%`.
    public static func percent(_ p: Double) -> String {
        if p.isInfinite { return "∞%" }
        if p >= 1000 { return ">999%" }
        if p > 0 && p < 1 { return oneDecimal(p) + "%" }
        return String(Int(p.rounded(.down))) + "%"
    }

    static func oneDecimal(_ d: Double) -> String {
        let tenths = Int((d * 10).rounded(.down))
        return "\(tenths / 10).\(tenths % 10)"
    }
}
