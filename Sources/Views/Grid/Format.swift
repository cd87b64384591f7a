import Backends

/// Short human formats for table cells.
public enum Format {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// An instant as people on call read it, in UTC: `14:20 UTC` today, `tomorrow 03:14 UTC`,
    /// `Dec 05 14:20 UTC`, `2027-01-05 14:20 UTC` in another year.
    public static func when(_ epoch: Int64, now: Double) -> String {
        let c = CivilDate(epochSeconds: epoch), today = CivilDate(epochSeconds: Int64(now.rounded(.down)))
        func p(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let time = "\(p(c.hour)):\(p(c.minute)) UTC"
        let day = CivilDate.epochSeconds(year: c.year, month: c.month, day: c.day)
        let todayStart = CivilDate.epochSeconds(year: today.year, month: today.month, day: today.day)
        if day == todayStart { return time }
        if day == todayStart + 86_400 { return "tomorrow " + time }
        if day == todayStart - 86_400 { return "yesterday " + time }
        if c.year == today.year { return "\(months[c.month - 1]) \(p(c.day)) " + time }
        return "\(c.year)-\(p(c.month))-\(p(c.day)) " + time
    }

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

    /// A compact duration for narrow cells: `45s`, `12m`, `3h`, `2d`.
    public static func shortDuration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded(.down)))
        switch s {
        case ..<60: return "\(s)s"
        case ..<3600: return "\(s / 60)m"
        case ..<86_400: return "\(s / 3600)h"
        default: return "\(s / 86_400)d"
        }
    }

    /// A rate per second: `0`, `0.4`, `12`, `340`, `1.2k`, `12k`.
    public static func rate(_ r: Double) -> String {
        guard r.isFinite else { return "-" }
        if r <= 0 { return "0" }
        if r < 10 { return oneDecimal(r) }
        return count(Int(r.rounded()))
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
