/// Fixed-window rate limiting as the gateway does it (docs/contract.md, "Rate limiting").

/// A route's policy, stored as `"LIMIT/WINDOW_SECONDS"` in `{T}:limits`.
public struct LimitPolicy: Equatable, Sendable {
    public let limit: Int
    public let window: Int

    public init(limit: Int, window: Int) throws(ValidationError) {
        guard limit >= 0 else { throw ValidationError(field: "limit", value: String(limit), rule: "must be a whole number >= 0") }
        guard window > 0 else { throw ValidationError(field: "window", value: String(window), rule: "must be a whole number of seconds > 0") }
        self.limit = limit
        self.window = window
    }

    /// Parses `"600/60"`. Anything else (`abc/0`, `600`, `-1/60`) is a `ValidationError`.
    public init(parsing text: String) throws(ValidationError) {
        let rule = "must be LIMIT/WINDOW_SECONDS with whole numbers, LIMIT >= 0 and WINDOW > 0, e.g. 600/60"
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let l = parseDecimal(parts[0]), let w = parseDecimal(parts[1]), w > 0
        else { throw ValidationError(field: "limit policy", value: text, rule: rule) }
        try self.init(limit: l, window: w)
    }

    public var text: String { "\(limit)/\(window)" }

    /// Start of the fixed window that contains `now`: `floor(now/W)*W`.
    public func windowStart(at now: Double) -> Int64 {
        let t = Int64(now.rounded(.down))
        let w = Int64(window)
        return (t >= 0 ? t / w : (t - w + 1) / w) * w
    }
}

/// A live throttle (`{T}:throttle:{route}`): a lower limit with an expiry.
/// Immutable, and a class: every window it limits shares it, so a route's state carries a
/// reference instead of a copy of its strings (docs/benchmarks.md).
public final class Throttle: Equatable, Sendable {
    public let route: Route      // a route, or `_all`
    public let limit: Int
    public let reason: String
    public let actor: String
    public let setAt: Int64
    public let expiresAt: Int64

    public init(route: Route, limit: Int, reason: String, actor: String, setAt: Int64, expiresAt: Int64) {
        self.route = route
        self.limit = limit
        self.reason = reason
        self.actor = actor
        self.setAt = setAt
        self.expiresAt = expiresAt
    }

    public func isLive(at now: Double) -> Bool { Double(expiresAt) > now }

    public static func == (a: Throttle, b: Throttle) -> Bool {
        a === b || (a.route == b.route && a.limit == b.limit && a.reason == b.reason && a.actor == b.actor && a.setAt == b.setAt
            && a.expiresAt == b.expiresAt)
    }
}

/// One route's state in the current window, derived from the policy, the counter and throttles.
public struct WindowState: Equatable, Sendable {
    public let policy: LimitPolicy
    public let count: Int
    public let effectiveLimit: Int
    /// The throttle that sets the effective limit, when one is lower than the policy.
    public let limitingThrottle: Throttle?
    public let windowStart: Int64
    public let now: Double

    /// `throttles` may hold throttles of this route and of `_all`; expired ones are ignored.
    public init(policy: LimitPolicy, count: Int, throttles: [Throttle], now: Double) {
        self.policy = policy
        self.count = max(0, count)
        self.now = now
        windowStart = policy.windowStart(at: now)
        var effective = policy.limit
        var limiting: Throttle?
        for t in throttles where t.isLive(at: now) && t.limit < effective {
            effective = t.limit
            limiting = t
        }
        effectiveLimit = effective
        limitingThrottle = limiting
    }

    public var denied: Int { max(0, count - effectiveLimit) }
    public var remaining: Int { max(0, effectiveLimit - count) }
    /// Seconds until the window resets: `window_start + W - now`.
    public var resetIn: Double { Double(windowStart + Int64(policy.window)) - now }
    /// Requests as a fraction of the effective limit (can exceed 1). `nil` when the limit is 0.
    public var utilisation: Double? { effectiveLimit > 0 ? Double(count) / Double(effectiveLimit) : (count > 0 ? .infinity : nil) }
}

/// Strict non-negative decimal: digits only, no sign, no spaces, at most 18 digits (no overflow).
func parseDecimal<S: StringProtocol>(_ s: S) -> Int? { parseDecimal(utf8: s.utf8) }

/// The same over raw bytes, in one pass: it runs for every counter of every tenant on every refresh.
func parseDecimal<Bytes: Sequence<UInt8>>(utf8 bytes: Bytes) -> Int? {
    var value = 0, digits = 0
    for byte in bytes {
        guard byte >= 0x30, byte <= 0x39, digits < 18 else { return nil }
        value = value * 10 + Int(byte &- 0x30)
        digits += 1
    }
    return digits == 0 ? nil : value
}
