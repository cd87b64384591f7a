/// Token budgets per UTC calendar month (`{T}:budget:{YYYY-MM}`).
public struct Budget: Equatable, Sendable {
    public let month: YearMonth
    public let limit: Int
    public let used: Int
    public let softPct: Int
    public let hard: Bool
    public let tempLimit: Int?
    public let tempExpiresAt: Int64?

    public init(month: YearMonth, limit: Int, used: Int, softPct: Int = 80, hard: Bool = true,
                tempLimit: Int? = nil, tempExpiresAt: Int64? = nil) {
        self.month = month
        self.limit = limit
        self.used = used
        self.softPct = softPct
        self.hard = hard
        self.tempLimit = tempLimit
        self.tempExpiresAt = tempExpiresAt
    }
}

/// What an operator reads off a budget at an instant.
public struct BudgetState: Equatable, Sendable {
    public enum Level: String, Sendable { case ok, soft, exhausted }

    public let budget: Budget
    public let now: Double

    public init(_ budget: Budget, now: Double) {
        self.budget = budget
        self.now = now
    }

    /// `temp_limit` while `now < temp_expires_at`, else `limit`.
    public var effectiveLimit: Int {
        if let t = budget.tempLimit, let exp = budget.tempExpiresAt, now < Double(exp) { return t }
        return budget.limit
    }

    public var tempRaiseActive: Bool { budget.tempLimit != nil && budget.tempExpiresAt.map { now < Double($0) } == true }

    /// Percent of the effective limit used (can exceed 100). `nil` for a zero limit.
    public var percentUsed: Double? { effectiveLimit > 0 ? Double(budget.used) * 100 / Double(effectiveLimit) : nil }

    public var remaining: Int { max(0, effectiveLimit - budget.used) }

    public var level: Level {
        if budget.used >= effectiveLimit { return .exhausted }
        if let p = percentUsed, p >= Double(budget.softPct) { return .soft }
        return .ok
    }

    /// Seconds until the period resets: the start of the next UTC month.
    public var resetIn: Double { resetIn(at: now) }
    public func resetIn(at instant: Double) -> Double { Double(budget.month.next.start) - instant }

    /// Average burn over the period so far, tokens per second. `nil` before the period started.
    public var burnRate: Double? {
        let elapsed = now - Double(budget.month.start)
        guard elapsed > 0 else { return nil }
        return Double(budget.used) / elapsed
    }

    /// When the effective limit is reached at the current burn rate: epoch seconds, `now` when
    /// already exhausted, `nil` when it will not happen before the reset (or nothing burns).
    public var projectedExhaustion: Double? {
        if budget.used >= effectiveLimit { return now }
        guard let rate = burnRate, rate > 0 else { return nil }
        let at = now + Double(effectiveLimit - budget.used) / rate
        return at < Double(budget.month.next.start) ? at : nil
    }
}
