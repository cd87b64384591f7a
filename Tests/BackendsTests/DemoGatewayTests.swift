import Testing
@testable import Backends

@Suite struct DemoGatewayTests {
    static let instant = 1_795_800_047.25  // 2026-11-27T17:20:47Z, late in the minute

    @Test func sameSeedAndClockGiveTheSameFleet() async throws {
        let a = try await DemoGateway(seed: 7, clock: FixedClock(Self.instant)).fleet()
        let b = try await DemoGateway(seed: 7, clock: FixedClock(Self.instant)).fleet()
        let c = try await DemoGateway(seed: 8, clock: FixedClock(Self.instant)).fleet()
        #expect(a == b)
        #expect(a != c)
    }

    @Test func fleetLooksLikeAGateway() async throws {
        let fleet = try await DemoGateway(seed: 42, clock: FixedClock(Self.instant)).fleet()
        #expect(fleet.tenants.count == 40)
        let tiers = Set(fleet.tenants.compactMap { $0.meta.value?.tier.value })
        #expect(tiers == [.enterprise, .smb])
        #expect(fleet.tenants.contains { $0.meta.value?.status.value == .suspended })
        #expect(fleet.tenants.contains { $0.denied > 0 })
        var states = Set<KeyState>()
        for t in fleet.tenants { for s in KeyState.allCases where t.keys[s] > 0 { states.insert(s) } }
        #expect(states == Set(KeyState.allCases))
        #expect(fleet.tenants.contains { $0.keys.expiringSoon > 0 })
        // Zipf: the busiest tenant carries far more than the median one.
        let loads = fleet.tenants.map(\.requests).sorted()
        #expect(loads.last! > 10 * max(1, loads[loads.count / 2]))
    }

    @Test func countersGrowWithinAWindowAndRollOver() async throws {
        let t = try TenantID("acme")
        let start = (Self.instant / 60).rounded(.down) * 60
        func count(at now: Double) async throws -> Int {
            let s = try await DemoGateway(seed: 42, clock: FixedClock(now)).tenant(t)
            return s.routes.first { $0.route.rawValue == "chat.completions" || $0.state.value?.policy.window == 60 }!.state.value!.count
        }
        let early = try await count(at: start + 5), late = try await count(at: start + 55), next = try await count(at: start + 61)
        #expect(early <= late)
        #expect(next < late)
    }

    @Test func throttleLowersTheEffectiveLimitUntilCleared() async throws {
        let gw = DemoGateway(seed: 42, clock: FixedClock(Self.instant))
        let t = try TenantID("acme")
        let before = try await gw.tenant(t)
        try await gw.setThrottle(t, Throttle(route: .all, limit: 1, reason: "test", actor: "ops:test",
                                             setAt: Int64(Self.instant), expiresAt: Int64(Self.instant) + 600))
        let during = try await gw.tenant(t)
        #expect(during.routes.allSatisfy { $0.state.value!.effectiveLimit == 1 })
        #expect(during.denied >= before.denied)
        try await gw.clearThrottle(t, route: .all)
        #expect(try await gw.tenant(t) == before)
    }

    @Test func auditTailIsNewestFirstAndTenantScoped() async throws {
        let gw = DemoGateway(seed: 42, clock: FixedClock(Self.instant))
        let t = try TenantID("globex")
        let events = try await gw.audit(AuditQuery(tenant: t, limit: 50))
        #expect(events.count == 50)
        #expect(events.allSatisfy { $0.tenant == t })
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.ts >= $1.ts })
        let older = try await gw.audit(AuditQuery(tenant: t, limit: 10, before: events.last!.ts))
        #expect(older.allSatisfy { $0.ts < events.last!.ts })
    }

    @Test func unknownTenantIsNotFound() async throws {
        let gw = DemoGateway(seed: 42, clock: FixedClock(Self.instant))
        await #expect(throws: BackendError.notFound("tenant nobody")) { try await gw.tenant(TenantID("nobody")) }
    }
}
