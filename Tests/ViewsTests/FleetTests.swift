import Backends
import Testing
@testable import Views

/// Fixtures: tenants with one route each, read at `now`.
enum Fleet {
    static func tenant(_ id: String, name: String? = nil, requests: Int, limit: Int = 1_000, window: Int = 60, now: Double = 120,
                       throttles: [Throttle] = [], budget: Budget? = nil, keys: [APIKey] = []) throws -> TenantState {
        let policy = try LimitPolicy(limit: limit, window: window)
        var counts = KeyCounts()
        for k in keys { counts.add(k, now: now) }
        return TenantState(id: try TenantID(id),
                           meta: .ok(TenantMeta(name: name ?? id.uppercased(), tier: .ok(.smb), status: .ok(.active), realm: "smb", group: "/tenants/\(id)", createdAt: 0)),
                           routes: [RouteReading(route: try Route("chat"), state: .ok(WindowState(policy: policy, count: requests, throttles: throttles, now: now)))],
                           throttles: throttles, budget: budget.map { .ok(BudgetState($0, now: now)) }, keys: counts, readAt: now)
    }

    static func snapshot(_ tenants: [TenantState], at: Double = 120) -> FleetSnapshot {
        FleetSnapshot(tenants: tenants, malformedTenantIDs: 0, takenAt: at)
    }

    static func digest(_ pairs: [(String, Int)], at: Double = 120, previous: FleetDigest? = nil) throws -> FleetDigest {
        FleetDigest(snapshot(try pairs.map { try tenant($0.0, requests: $0.1, now: at) }, at: at), previous: previous)
    }
}

@Suite struct FleetDigestTests {
    @Test func sortsByIdAndFindsTenantsByBinarySearch() throws {
        let d = try Fleet.digest([("globex", 1), ("acme-eu", 2), ("acme", 3), ("zorg", 4)])
        #expect(d.tenants.map(\.id.rawValue) == ["acme", "acme-eu", "globex", "zorg"])
        #expect(d.index(of: try TenantID("globex")) == 2)
        #expect(d.index(of: try TenantID("acm")) == nil)
        #expect(d.ids(startingWith: "acme", limit: 10).map(\.rawValue) == ["acme", "acme-eu"])
        #expect(d.ids(startingWith: "acme-", limit: 10).map(\.rawValue) == ["acme-eu"])
        #expect(d.ids(startingWith: "", limit: 2).map(\.rawValue) == ["acme", "acme-eu"])
        #expect(d.ids(startingWith: "zz", limit: 10).isEmpty)
    }

    @Test func ratesComeFromCounterDeltasWithinAWindow() throws {
        // Window 60 s starting at 120: 100 requests at 130, 400 at 140.
        let first = try Fleet.digest([("acme", 100), ("globex", 0)], at: 130)
        let second = try Fleet.digest([("acme", 400), ("globex", 50)], at: 140, previous: first)
        #expect(second.generation == first.generation + 1)
        #expect(second.rates[0].requestsPerSecond == 30)
        #expect(second.rates[1].requestsPerSecond == 5)
        #expect(second.totals.requestsPerSecond == 35)
        // Over the limit of 1000: denials grow as the counter does.
        let third = try Fleet.digest([("acme", 1_300), ("globex", 50)], at: 150, previous: second)
        #expect(third.rates[0].deniedPerSecond == 30)
        #expect(first.rates[0].requestsPerSecond == nil, "no earlier reading, no rate")
    }

    @Test func aReadingServedAgainHasNotMovedAndKeepsItsShareOfTheTotals() throws {
        let month = YearMonth(containing: 130)
        // acme and initech are read at 130 and served again at 140 (a quiet tenant's kept state);
        // globex is read again at 140. initech's served state has its session counts completed
        // since (a copy with the same readAt): still the same reading.
        let acme = try Fleet.tenant("acme", requests: 100, now: 130, budget: Budget(month: month, limit: 100, used: 90))
        let initech = try Fleet.tenant("initech", requests: 1_200, now: 130)
        var recounted = initech
        recounted.keyspace = KeyspaceCounts(sessions: 3, cacheEntries: 4)
        let first = FleetDigest(Fleet.snapshot([acme, try Fleet.tenant("globex", requests: 10, now: 130), initech], at: 130), previous: nil)
        let second = FleetDigest(Fleet.snapshot([acme, try Fleet.tenant("globex", requests: 60, now: 140), recounted], at: 140), previous: first)
        #expect(second.rates[0].requestsPerSecond == 0 && second.rates[0].deniedPerSecond == 0)
        #expect(second.rates[0].tokensPerSecond == 0, "a budget was read: it burned nothing")
        #expect(second.rates[1].requestsPerSecond == 5, "globex moved: its rate is its counter's delta")
        #expect(second.rates[2].requestsPerSecond == 0 && second.rates[2].tokensPerSecond == nil, "no budget, no burn")
        #expect(second.tenants[2].keyspace?.sessions == 3, "the served state is the one shown")
        #expect(second.totals.requestsPerSecond == 5)
        #expect(second.totals.requests == 1_360)
        #expect(second.totals.nearLimit == 2 && second.totals.denying == 1, "acme at 90% of its budget, initech over its limit")
        #expect(second.rates.map(\.rank) == [2, 3, 1])
    }

    /// Ranks stand while every tenant has the requests it had (re-read or served again), and are
    /// sorted again when one has other requests, or a tenant comes or goes.
    @Test func ranksAreSortedAgainOnlyWhenRequestsMoveOrTenantsChange() throws {
        let first = try Fleet.digest([("a", 10), ("b", 30), ("c", 20)], at: 130)
        #expect(first.rates.map(\.rank) == [3, 1, 2])
        // All read again at 140 with the same counts: new readings, same ranks and shares.
        let reread = try Fleet.digest([("a", 10), ("b", 30), ("c", 20)], at: 140, previous: first)
        #expect(reread.rates.map(\.rank) == [3, 1, 2])
        #expect(reread.rates.map(\.share) == first.rates.map(\.share))
        // a overtakes everyone.
        let moved = try Fleet.digest([("a", 40), ("b", 30), ("c", 20)], at: 150, previous: reread)
        #expect(moved.rates.map(\.rank) == [1, 2, 3])
        #expect(moved.rates[0].share == 40.0 / 90)
        // A tenant comes, with no requests, ahead of the others by id: every position moves.
        let came = try Fleet.digest([("0", 0), ("a", 40), ("b", 30), ("c", 20)], at: 160, previous: moved)
        #expect(came.rates.map(\.rank) == [4, 1, 2, 3])
        // And goes again.
        let went = try Fleet.digest([("a", 40), ("b", 30), ("c", 20)], at: 170, previous: came)
        #expect(went.rates.map(\.rank) == [1, 2, 3])
    }

    @Test func aRolledWindowCountsFromItsStart() throws {
        let before = try Fleet.digest([("acme", 900)], at: 175)
        // 180 starts a new window: 60 requests in the 10 s since it began.
        let after = try Fleet.digest([("acme", 60)], at: 190, previous: before)
        #expect(after.rates[0].requestsPerSecond == 6)
    }

    @Test func totalsAndSharesAreComputedOnceForTheFleet() throws {
        let now = 120.0
        let th = Throttle(route: .all, limit: 10, reason: "noisy", actor: "ops:a", setAt: 0, expiresAt: 1_000)
        let expiring = APIKey(id: try KeyID("k1"), label: "x", prefix: "tg.a.k1.", state: .active, createdAt: 0, createdBy: "ops",
                              expiresAt: Int64(now) + 86_400)
        let month = YearMonth(containing: Int64(now))
        let tenants = [
            try Fleet.tenant("acme", requests: 300, now: now, throttles: [th]),
            try Fleet.tenant("globex", requests: 850, now: now, keys: [expiring]),
            try Fleet.tenant("initech", requests: 50, now: now, budget: Budget(month: month, limit: 100, used: 100)),
        ]
        let d = FleetDigest(Fleet.snapshot(tenants, at: now), previous: nil)
        #expect(d.totals.tenants == 3 && d.totals.requests == 1_200)
        #expect(d.totals.throttled == 1)
        #expect(d.totals.denying == 1, "acme is held to 10 and has 300")
        #expect(d.totals.nearLimit == 3, "acme over its throttle, globex at 85%, initech's budget spent")
        #expect(d.totals.outOfBudget == 1)
        #expect(d.totals.expiringKeys == 1)
        #expect(d.rates.map(\.rank) == [2, 1, 3])
        #expect(d.rates[1].share == 850.0 / 1_200)
    }
}

@Suite struct FleetArrangementTests {
    @Test func sortsByAColumnWithTiesInIdOrder() throws {
        let d = try Fleet.digest([("c", 10), ("a", 30), ("b", 10), ("d", 20)])
        let desc = FleetArrangement.build(d, ArrangeSpec(sort: .requests, descending: true), now: 120)
        #expect((0..<desc.count).map { desc.row(at: $0).tenant.id.rawValue } == ["a", "d", "b", "c"])
        let asc = FleetArrangement.build(d, ArrangeSpec(sort: .tenant, descending: false), now: 120)
        #expect((0..<asc.count).map { asc.row(at: $0).tenant.id.rawValue } == ["a", "b", "c", "d"])
        #expect(desc.row(of: try TenantID("b")) == 2)
    }

    @Test func filtersBySubstringOfIdOrNameAndNegates() throws {
        let tenants = [try Fleet.tenant("acme", name: "Acme Corp", requests: 1), try Fleet.tenant("acme-eu", name: "Acme Europe", requests: 2),
                       try Fleet.tenant("globex", name: "Globex Corporation", requests: 3)]
        let d = FleetDigest(Fleet.snapshot(tenants), previous: nil)
        func ids(_ text: String) -> [String] {
            let a = FleetArrangement.build(d, ArrangeSpec(sort: .tenant, descending: false, filter: TenantFilter(text)), now: 120)
            return (0..<a.count).map { a.row(at: $0).tenant.id.rawValue }
        }
        #expect(ids("eu") == ["acme-eu"])
        #expect(ids("CORP") == ["acme", "globex"], "names match too, case-insensitively")
        #expect(ids("!acme") == ["globex"])
        #expect(ids("zzz").isEmpty)
        #expect(TenantFilter("") == nil && TenantFilter("!") == nil)
        let hidden = FleetArrangement.build(d, ArrangeSpec(sort: .tenant, descending: false, filter: TenantFilter("eu")), now: 120)
        #expect(hidden.row(of: try TenantID("acme")) == nil)
    }
}

@Suite struct FleetTableTests {
    func table() -> FleetTable { FleetTable(columns: [(.tenant, 0), (.requests, 0)], spec: ArrangeSpec(sort: .requests, descending: true)) }

    func arrange(_ t: inout FleetTable, _ d: FleetDigest) {
        guard case .arrange(let digest, let spec)? = t.receive(d) else { Issue.record("no arrangement asked for"); return }
        let accepted = t.accept(FleetArrangement.build(digest, spec, now: 120))
        #expect(accepted)
    }

    @Test func selectionFollowsTheTenantAcrossRefreshes() throws {
        var t = table()
        arrange(&t, try Fleet.digest([("a", 30), ("b", 20), ("c", 10)]))
        #expect(t.selectedTenant?.id.rawValue == "a")
        t.move(by: 1, visible: 3)
        #expect(t.selectedTenant?.id.rawValue == "b")
        arrange(&t, try Fleet.digest([("a", 30), ("b", 90), ("c", 10)], previous: t.latest))
        #expect(t.selectedRow == 0 && t.selectedTenant?.id.rawValue == "b", "b moved to the top and stays selected")
    }

    @Test func selectionFallsToTheSameRowWhenTheTenantGoes() throws {
        var t = table()
        arrange(&t, try Fleet.digest([("a", 30), ("b", 20), ("c", 10)]))
        t.move(by: 1, visible: 3)
        arrange(&t, try Fleet.digest([("a", 30), ("c", 10)], previous: t.latest))
        #expect(t.selectedTenant?.id.rawValue == "c")
        arrange(&t, try Fleet.digest([], previous: t.latest))
        #expect(t.selectedTenant == nil && t.count == 0)
    }

    @Test func staleArrangementsAreNotShown() throws {
        var t = table()
        let first = try Fleet.digest([("a", 1), ("b", 2)])
        arrange(&t, first)
        let old = FleetArrangement.build(first, t.spec, now: 120)
        _ = t.sortReverse()
        let oldSpec = t.accept(old)
        #expect(!oldSpec, "made for the previous sort order")
        let second = try Fleet.digest([("a", 1), ("b", 2)], previous: first)
        _ = t.receive(second)
        let newer = t.accept(FleetArrangement.build(second, t.spec, now: 120))
        let older = t.accept(FleetArrangement.build(first, t.spec, now: 120))
        #expect(newer && !older, "an older digest never replaces a newer one")
        let again = t.receive(first)
        #expect(again == nil, "an older digest is not arranged")
    }

    @Test func movingClampsAndScrolls() throws {
        var t = table()
        arrange(&t, try Fleet.digest((0..<10).map { ("t\($0)", 100 - $0) }))
        t.move(by: 3, visible: 4)
        #expect(t.selectedRow == 3 && t.offset == 0)
        t.move(by: 100, visible: 4)
        #expect(t.selectedRow == 9 && t.offset == 6)
        t.move(by: -100, visible: 4)
        #expect(t.selectedRow == 0 && t.offset == 0)
    }
}

@Suite struct RateHistoryTests {
    @Test func bucketsHoldTheMeanAndGapsStayEmpty() throws {
        var h = RateHistory()
        let acme = try TenantID("acme")
        h.record(acme, requestsPerSecond: 10, at: 1_000)
        h.record(acme, requestsPerSecond: 20, at: 1_002)   // same 5 s bucket
        h.record(acme, requestsPerSecond: 40, at: 1_010)
        let s = h.series(acme, now: 1_012)
        #expect(s.values.count == RateHistory.buckets)
        #expect(Array(s.values.suffix(3)) == [15, nil, 40])
        #expect(s.sampledSpan == 15)
        h.record(acme, requestsPerSecond: 99, at: 900)   // older than the ring: dropped
        #expect(h.series(acme, now: 1_012).values.compactMap { $0 } == [15, 40])
    }

    @Test func quietTenantsCostNothingAndOldSamplesFallOut() throws {
        var h = RateHistory()
        let quiet = try TenantID("quiet"), busy = try TenantID("busy")
        h.record(quiet, requestsPerSecond: 0, at: 1_000)
        #expect(h.tenants == 0)
        h.record(busy, requestsPerSecond: 5, at: 1_000)
        h.record(busy, requestsPerSecond: 7, at: 1_000 + RateHistory.step * Double(RateHistory.buckets + 3))
        #expect(h.tenants == 1)
        #expect(h.series(busy, now: 1_000 + RateHistory.step * Double(RateHistory.buckets + 3)).values.compactMap { $0 } == [7])
    }
}
