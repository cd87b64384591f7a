import Foundation
import Testing
@testable import Backends
@testable import Views

/// Every screen and overlay at 80x24 and 160x48, in two themes, from the seeded demo gateway at a
/// fixed clock (Golden/*.txt; re-record with `TOLLGATE_RECORD_GOLDEN=1 swift test`).
@Suite struct GoldenScreenTests {
    static let sizes = [(80, 24), (160, 48)]

    func each(_ name: String, _ build: (inout Harness) async throws -> Void) async throws {
        for (w, h) in Self.sizes {
            var harness = try await Harness(width: w, height: h)
            try await build(&harness)
            try Golden.check(harness.grid, "\(name)-\(w)x\(h)")
        }
    }

    /// Opens the busiest tenant's detail, with a throttle in force on one route and on all.
    func detail(_ h: inout Harness) async throws {
        let id = try #require(h.app.fleet?.tenants.max { $0.requests < $1.requests }?.id)
        let now = Int64(Harness.instant)
        try await h.gateway.setThrottle(id, Throttle(route: try Route("files.upload"), limit: 20_000, reason: "noisy uploads", actor: "ops:alice",
                                                       setAt: now - 600, expiresAt: now + 1800))
        try await h.gateway.setThrottle(id, Throttle(route: .all, limit: 100_000, reason: "incident 4711", actor: "ops:bob",
                                                       setAt: now - 60, expiresAt: now + 7200))
        h.type(":tenant \(id)")
        h.press(.enter)
        try await h.load()
    }

    @Test func overview() async throws { try await each("overview") { _ in } }

    /// `gw:tenants` of the wrong type: the fleet found by SCAN, and the header says so.
    @Test func overviewIndexProblem() async throws {
        try await each("overview-index-problem") { h in
            let s = try await h.gateway.fleet()
            let broken = FleetSnapshot(tenants: s.tenants, malformedTenantIDs: s.malformedTenantIDs, takenAt: s.takenAt + 1,
                                       keyspaceAsOf: s.keyspaceAsOf, indexProblem: "gw:tenants is a string")
            h.send(.loaded(.fleet, .fleet(FleetDigest(broken, previous: h.app.fleet))))
        }
    }

    @Test func overviewHelp() async throws { try await each("overview-help") { $0.press(.char("?")) } }

    @Test func overviewFilter() async throws { try await each("overview-filter") { $0.press(.char("/")); $0.type("ac") } }

    @Test func overviewCommandCompletion() async throws {
        try await each("overview-command") { h in
            h.press(.char(":"))
            h.type("tenant ac")
            h.press(.tab)
        }
    }

    @Test func overviewCommandError() async throws {
        try await each("overview-command-error") { h in
            h.press(.char(":"))
            h.type("tenant Acme;DROP")
            h.press(.enter)
        }
    }

    @Test func overviewThrottleDialog() async throws {
        try await each("overview-throttle") { h in
            h.press(.char("t"))
            h.type("50")
            h.press(.tab, .tab)
            h.type("noisy neighbour")
        }
    }

    @Test func noisy() async throws {
        try await each("noisy") { h in
            h.type(":noisy")
            h.press(.enter)
            try await h.load()
        }
    }

    @Test func tenantDetail() async throws { try await each("detail") { try await detail(&$0) } }

    @Test func tenantDetailHelp() async throws {
        try await each("detail-help") { h in
            try await detail(&h)
            h.press(.char("?"))
        }
    }

    @Test func tenantDetailThrottleDialog() async throws {
        try await each("detail-throttle") { h in
            try await detail(&h)
            h.press(.end, .char("t"))   // the last route, files.upload
        }
    }

    @Test func tenantDetailBudgetDialog() async throws {
        try await each("detail-budget") { h in
            try await detail(&h)
            h.press(.char("b"))
            h.type("75M")
            h.press(.tab, .tab)
            h.type("launch week")
        }
    }

    /// The keys of a tenant that has keys in several states, the first active one selected.
    func keys(_ h: inout Harness) async throws {
        let now = Harness.instant
        var chosen: (TenantID, KeyID)?
        for t in h.app.fleet?.tenants ?? [] {
            let keys = try await h.gateway.keys(of: t.id)
            let states = Set(keys.map { $0.state(at: now) })
            if states.count >= 3, let active = keys.first(where: { $0.state(at: now) == .active }) { chosen = (t.id, active.id); break }
        }
        let (t, k) = try #require(chosen)
        h.type(":keys \(t)")
        h.press(.enter)
        try await h.load()
        while (h.app.nav.current as? KeysScreen)?.table.selected != k { h.press(.char("j")) }
    }

    @Test func keysScreen() async throws { try await each("keys") { try await keys(&$0) } }

    @Test func keyCreateDialog() async throws {
        try await each("keys-create") { h in
            try await keys(&h)
            h.press(.char("c"))
            h.type("ci runner")
            h.press(.tab)
            h.type("chat,embeddings")
        }
    }

    @Test func keyRotateDialog() async throws {
        try await each("keys-rotate") { h in
            try await keys(&h)
            h.press(.char("r"))
        }
    }

    @Test func keyRotateDialogWithNoGrace() async throws {
        try await each("keys-rotate-now") { h in
            try await keys(&h)
            h.press(.char("r"), .ctrl("u"))
            h.type("0")
            h.press(.enter)   // refused: the tenant id is not typed
        }
    }

    @Test func keyRevokeDialog() async throws {
        try await each("keys-revoke") { h in
            try await keys(&h)
            h.press(.char("x"))
            h.type("leaked in a CI log")
        }
    }

    @Test func theSecretShownOnce() async throws {
        try await each("keys-secret") { h in
            try await keys(&h)
            let t = try #require(h.app.nav.current.subject)
            let id = try KeyID("k_NEWKEY01")
            let secret = APIKeySecret(plaintext: "tg.\(t).\(id).0123456789abcdefghijklmnopqrstuvwxyzABCDEFG")
            h.send(.actionFinished(.keyRotate(t, try KeyID("k_OLDKEY01"), grace: 86_400),
                                   .success(ActionOutcome(before: [:], after: [:], newKey: id, secret: secret))))
        }
    }

    @Test func expiringKeys() async throws {
        try await each("expiring") { h in
            h.type(":expiring")
            h.press(.enter)
            try await h.load()
        }
    }

    /// acme's audit log.
    func audit(_ h: inout Harness) async throws {
        h.type(":audit acme")
        h.press(.enter)
        try await h.load()
    }

    @Test func auditScreen() async throws { try await each("audit") { try await audit(&$0) } }

    @Test func auditSearchAndPause() async throws {
        try await each("audit-search") { h in
            try await audit(&h)
            h.press(.char("/"))
            h.type("denied")
            h.press(.enter, .char("p"))
        }
    }

    @Test func auditFilterDialog() async throws {
        try await each("audit-filter") { h in
            try await audit(&h)
            h.press(.char("f"))
            h.type("key.*")
            h.press(.tab, .tab)
            h.type("success")
        }
    }

    @Test func auditEvent() async throws {
        try await each("audit-event") { h in
            try await audit(&h)
            h.press(.char("j"), .enter)
        }
    }

    @Test func usageOfATenant() async throws {
        try await each("usage") { h in
            h.type(":usage acme")
            h.press(.enter)
            try await h.load()
        }
    }

    @Test func failedActionNotice() async throws {
        try await each("notice") { h in
            let t = try TenantID("acme")
            h.send(.actionFinished(.throttleSet(t, .all, limit: 5, duration: 60, reason: "x"),
                                   .failure(.unavailable("redis 127.0.0.1:6379: Connection refused; retrying in 2s"))))
        }
    }

    @Test func readOnlyOperator() async throws {
        for (w, h) in Self.sizes {
            var harness = try await Harness(width: w, height: h, session: Harness.session(role: .viewer, readonly: true, audit: nil))
            harness.type(":tenant acme")
            harness.press(.enter)
            try await harness.load()
            harness.press(.char("?"))
            try Golden.check(harness.grid, "readonly-detail-help-\(w)x\(h)")
        }
    }

    @Test func tooSmall() async throws {
        let h = try await Harness(width: 79, height: 24)
        #expect(h.screen.contains("terminal too small"))
        #expect(h.screen.contains("79x24, tollgate needs at least 80x24"))
        #expect(!h.screen.contains("TENANT"))
    }
}
