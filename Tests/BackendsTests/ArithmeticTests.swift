import Testing
@testable import Backends

@Suite struct RateLimitTests {
    let chat = try! Route("chat.completions")

    @Test func parsesPolicies() throws {
        let p = try LimitPolicy(parsing: "600/60")
        #expect(p.limit == 600 && p.window == 60)
        #expect(try LimitPolicy(parsing: "0/1").limit == 0)
    }

    @Test(arguments: ["abc/0", "600", "600/", "/60", "600/0", "-1/60", "600/-60", "6 00/60", "600/60/1", "1e3/60", "", "99999999999999999999/60"])
    func refusesBadPolicies(_ text: String) {
        #expect(throws: ValidationError.self) { try LimitPolicy(parsing: text) }
    }

    @Test func decimalsAreStrict() {
        #expect(parseDecimal("0") == 0)
        #expect(parseDecimal("000123") == 123)
        #expect(parseDecimal("999999999999999999") == 999_999_999_999_999_999)   // 18 digits: the most accepted
        for bad in ["", "1234567890123456789", "-1", "+1", " 1", "1 ", "1.0", "1e3", "١٢", "12\u{0}", "0x10"] {
            #expect(parseDecimal(bad) == nil, "\(bad.debugDescription) must be refused")
        }
        #expect(parseDecimal("12345"[...].dropFirst(2)) == 345)   // substrings too
    }

    @Test func windowArithmetic() throws {
        let p = try LimitPolicy(limit: 100, window: 60)
        let s = WindowState(policy: p, count: 130, throttles: [], now: 1_800_000_045.5)
        #expect(s.windowStart == 1_800_000_000 + 0 - 1_800_000_000 % 60)
        #expect(s.effectiveLimit == 100)
        #expect(s.denied == 30)
        #expect(s.remaining == 0)
        #expect(s.resetIn == Double(s.windowStart + 60) - 1_800_000_045.5)
        let under = WindowState(policy: p, count: 40, throttles: [], now: 1_800_000_045)
        #expect(under.denied == 0 && under.remaining == 60)
    }

    @Test func windowRollsOverAtTheBoundary() throws {
        let p = try LimitPolicy(limit: 10, window: 60)
        #expect(p.windowStart(at: 119.999) == 60)
        #expect(p.windowStart(at: 120) == 120)
        #expect(WindowState(policy: p, count: 0, throttles: [], now: 120).resetIn == 60)
        #expect(WindowState(policy: p, count: 0, throttles: [], now: 179.5).resetIn == 0.5)
    }

    @Test func effectiveLimitIsTheMinimumOfLiveThrottles() throws {
        let p = try LimitPolicy(limit: 600, window: 60)
        let route = Throttle(route: chat, limit: 300, reason: "noisy", actor: "ops:a", setAt: 0, expiresAt: 2_000)
        let all = Throttle(route: .all, limit: 100, reason: "incident", actor: "ops:b", setAt: 0, expiresAt: 1_500)
        let higher = Throttle(route: chat, limit: 900, reason: "x", actor: "ops:c", setAt: 0, expiresAt: 2_000)
        let both = WindowState(policy: p, count: 150, throttles: [route, all, higher], now: 1_000)
        #expect(both.effectiveLimit == 100)
        #expect(both.limitingThrottle == all)
        #expect(both.denied == 50)
        // After the `_all` throttle expires, the route throttle is the minimum.
        let later = WindowState(policy: p, count: 150, throttles: [route, all, higher], now: 1_500)
        #expect(later.effectiveLimit == 300 && later.limitingThrottle == route)
        // A throttle above the policy never raises the limit.
        #expect(WindowState(policy: p, count: 0, throttles: [higher], now: 1_000).effectiveLimit == 600)
        // All expired: the policy again.
        #expect(WindowState(policy: p, count: 0, throttles: [route, all], now: 2_000).effectiveLimit == 600)
    }

    @Test func zeroLimitUtilisation() throws {
        let p = try LimitPolicy(limit: 0, window: 60)
        #expect(WindowState(policy: p, count: 0, throttles: [], now: 0).utilisation == nil)
        #expect(WindowState(policy: p, count: 3, throttles: [], now: 0).utilisation == .infinity)
        #expect(WindowState(policy: p, count: 3, throttles: [], now: 0).denied == 3)
    }
}

@Suite struct CalendarTests {
    @Test func civilDates() {
        #expect(CivilDate(epochSeconds: 0).iso8601 == "1970-01-01T00:00:00Z")
        #expect(CivilDate(epochSeconds: 1_709_164_800).iso8601 == "2024-02-29T00:00:00Z")
        #expect(CivilDate(epochSeconds: 1_798_761_599).iso8601 == "2026-12-31T23:59:59Z")
        #expect(CivilDate.epochSeconds(year: 2027, month: 1, day: 1) == 1_798_761_600)
        #expect(YearMonth(containing: 1_798_761_599).description == "2026-12")
        #expect(YearMonth(containing: 1_798_761_600).description == "2027-01")
        #expect(YearMonth(year: 2026, month: 12).next == YearMonth(year: 2027, month: 1))
    }
}

@Suite struct BudgetTests {
    let nov = YearMonth(year: 2026, month: 11)

    @Test func percentAndLevels() {
        let now = Double(nov.start + 10 * 86_400)
        let b = BudgetState(Budget(month: nov, limit: 1_000, used: 850, softPct: 80), now: now)
        #expect(b.percentUsed == 85)
        #expect(b.level == .soft)
        #expect(b.remaining == 150)
        #expect(BudgetState(Budget(month: nov, limit: 1_000, used: 1_000), now: now).level == .exhausted)
        #expect(BudgetState(Budget(month: nov, limit: 1_000, used: 10), now: now).level == .ok)
    }

    @Test func resetsAtTheNextUTCMonth() {
        let dec = YearMonth(year: 2026, month: 12)
        let lastSecond = Double(dec.next.start - 1)
        #expect(BudgetState(Budget(month: dec, limit: 1, used: 0), now: lastSecond).resetIn == 1)
        #expect(BudgetState(Budget(month: nov, limit: 1, used: 0), now: Double(nov.start)).resetIn == 30 * 86_400)
    }

    @Test func temporaryRaiseAppliesUntilItExpires() {
        let now = Double(nov.start + 86_400)
        let raised = Budget(month: nov, limit: 1_000, used: 900, tempLimit: 2_000, tempExpiresAt: Int64(now) + 60)
        #expect(BudgetState(raised, now: now).effectiveLimit == 2_000)
        #expect(BudgetState(raised, now: now).tempRaiseActive)
        #expect(BudgetState(raised, now: now).percentUsed == 45)
        let expired = BudgetState(raised, now: now + 60)
        #expect(expired.effectiveLimit == 1_000)
        #expect(!expired.tempRaiseActive)
        #expect(expired.percentUsed == 90)
    }

    @Test func burnRateAndProjectedExhaustion() throws {
        // 10 days in, 500 of 1000 used: 50 a day, so the rest lasts 10 more days (before the reset).
        let now = Double(nov.start + 10 * 86_400)
        let b = BudgetState(Budget(month: nov, limit: 1_000, used: 500), now: now)
        let rate = try #require(b.burnRate)
        #expect(abs(rate - 500.0 / 864_000) < 1e-12)
        let at = try #require(b.projectedExhaustion)
        #expect(abs(at - (now + 10 * 86_400)) < 1e-3)
        // Slow burn: does not run out before the month resets.
        #expect(BudgetState(Budget(month: nov, limit: 1_000, used: 100), now: now).projectedExhaustion == nil)
        // Already exhausted: now.
        #expect(BudgetState(Budget(month: nov, limit: 1_000, used: 1_200), now: now).projectedExhaustion == now)
        // Nothing burnt: never.
        #expect(BudgetState(Budget(month: nov, limit: 1_000, used: 0), now: now).projectedExhaustion == nil)
    }
}

@Suite struct KeyStateTests {
    @Test func derivedStatesAtEachBoundary() {
        #expect(KeyState.derive(stored: .active, expiresAt: 0, graceUntil: nil, now: 1e9) == .active)
        #expect(KeyState.derive(stored: .active, expiresAt: 100, graceUntil: nil, now: 99.9) == .active)
        #expect(KeyState.derive(stored: .active, expiresAt: 100, graceUntil: nil, now: 100) == .expired)
        #expect(KeyState.derive(stored: .rotating, expiresAt: 0, graceUntil: 50, now: 49.9) == .rotating)
        #expect(KeyState.derive(stored: .rotating, expiresAt: 0, graceUntil: 50, now: 50) == .retired)
        #expect(KeyState.derive(stored: .rotating, expiresAt: 40, graceUntil: 50, now: 45) == .expired)
        #expect(KeyState.derive(stored: .revoked, expiresAt: 40, graceUntil: nil, now: 45) == .revoked)
        #expect(KeyState.derive(stored: .revoked, expiresAt: 0, graceUntil: nil, now: 0) == .revoked)
    }

    @Test func countsAndExpiryWarnings() throws {
        let t = try KeyID("k1"), u = try KeyID("k2")
        var c = KeyCounts()
        c.add(APIKey(id: t, label: "a", prefix: "p", state: .active, createdAt: 0, createdBy: "x", expiresAt: 1_000 + 3 * 86_400), now: 1_000)
        c.add(APIKey(id: u, label: "b", prefix: "p", state: .rotating, createdAt: 0, createdBy: "x", graceUntil: 500), now: 1_000)
        #expect(c[.active] == 1 && c[.retired] == 1 && c.total == 2)
        #expect(c.expiringSoon == 1)
    }
}
