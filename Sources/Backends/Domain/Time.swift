/// Time in the contract is UTC epoch seconds. The clock is injected everywhere so that tests and
/// golden screens run at a fixed instant.
public protocol Clock: Sendable {
    /// Seconds since the epoch, UTC, with sub-second precision.
    func now() -> Double
}

public struct SystemClock: Clock {
    public init() {}
    public func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

public struct FixedClock: Clock {
    public let instant: Double
    public init(_ instant: Double) { self.instant = instant }
    public func now() -> Double { instant }
}

/// A UTC calendar month, the budget period. Formats as `YYYY-MM`.
public struct YearMonth: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int  // 1...12

    public init(year: Int, month: Int) {
        self.year = year
        self.month = month
    }

    /// The month that contains `epochSeconds` (UTC).
    public init(containing epochSeconds: Int64) {
        let c = CivilDate(epochSeconds: epochSeconds)
        self.init(year: c.year, month: c.month)
    }

    public var start: Int64 { CivilDate.epochSeconds(year: year, month: month, day: 1) }
    public var next: YearMonth { month == 12 ? YearMonth(year: year + 1, month: 1) : YearMonth(year: year, month: month + 1) }

    public var description: String {
        let m = month < 10 ? "0\(month)" : "\(month)"
        return "\(year)-\(m)"
    }

    public static func < (a: YearMonth, b: YearMonth) -> Bool { (a.year, a.month) < (b.year, b.month) }
}

/// Proleptic Gregorian calendar arithmetic on UTC epoch seconds (Howard Hinnant's algorithms),
/// so that month boundaries do not depend on the machine's time zone or Foundation.
public struct CivilDate: Equatable, Sendable {
    public let year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    public init(epochSeconds t: Int64) {
        let days = t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
        let secs = Int(t - days * 86_400)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        year = Int(yoe + era * 400) + (m <= 2 ? 1 : 0)
        month = Int(m)
        day = Int(d)
        hour = secs / 3600
        minute = secs % 3600 / 60
        second = secs % 60
    }

    public static func epochSeconds(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(month > 2 ? month - 3 : month + 9)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return (era * 146_097 + doe - 719_468) * 86_400
    }

    /// `2026-11-29T07:29:12Z`
    public var iso8601: String {
        func p(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(year)-\(p(month))-\(p(day))T\(p(hour)):\(p(minute)):\(p(second))Z"
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
