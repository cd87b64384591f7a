import Backends
import Testing
@testable import Views

/// The contract's role table and tenant scope in the console: what each role's bindings allow,
/// which reads its screens start, and what command mode refuses (and has audited).
@Suite struct PermissionTests {
    let acme = try! TenantID("acme")

    func binding(_ h: Harness, _ key: Character) -> Binding? {
        h.app.nav.current.bindings(h.app.env).first { $0.keys.contains(.char(key)) }
    }

    @Test func aViewerReadsNoAuditNorUsage() async throws {
        var h = try await Harness(width: 120, height: 40, session: Harness.session(role: .viewer))
        h.type(":tenant acme")
        h.press(.enter)
        try await h.load()
        #expect(binding(h, "a")?.disabled == "audit events need the support role; ops:test has viewer")
        #expect(binding(h, "u")?.disabled == "key usage needs the support role; ops:test has viewer")
        #expect(!h.app.needs.contains(.recentAudit(acme)) && !h.app.needs.contains(.usage(acme, nil)), "no refused read is started")
        #expect(h.app.needs.contains(.tenant(acme)), "the tenant itself is read")
        #expect(h.screen.contains("audit events need the support role"), "the pane says why it is empty")

        h.type(":audit acme")
        h.press(.enter)
        #expect(h.app.nav.current is TenantDetailScreen, "nothing opened")
        guard case .command(let prompt) = h.app.overlay else { Issue.record("the command line stays open"); return }
        #expect(prompt.error == "audit events need the support role; ops:test has viewer")
        #expect(h.effects.contains { if case .auditRefusal(.audit, acme) = $0 { true } else { false } }, "the refusal is audited")
    }

    @Test func supportReadsAuditAndUsageButActsOnNothing() async throws {
        var h = try await Harness(width: 120, height: 40, session: Harness.session(role: .support))
        h.type(":tenant acme")
        h.press(.enter)
        try await h.load()
        #expect(binding(h, "a")?.disabled == nil && binding(h, "u")?.disabled == nil)
        #expect(h.app.needs.contains(.recentAudit(acme)) && h.app.needs.contains(.usage(acme, nil)))
        #expect(binding(h, "t")?.disabled == "throttle.set needs the operator role; ops:test has support")
        h.type(":audit")
        h.press(.enter)
        #expect((h.app.nav.current as? AuditScreen)?.tenant == acme)
    }

    @Test func aTenantScopedOperatorReachesNoOtherTenant() async throws {
        var h = try await Harness(width: 120, height: 40, session: Harness.session(role: .admin, scope: acme))
        for line in [":tenant globex", ":keys globex", ":audit globex", ":usage globex"] {
            h.type(line)
            h.press(.enter)
            guard case .command(let prompt) = h.app.overlay else { Issue.record("\(line): the command line stays open"); continue }
            #expect(prompt.error == "ops:test is confined to tenant acme", "\(line)")
            #expect(h.app.nav.current is FleetScreen, "\(line): nothing opened")
            h.press(.escape)
        }
        let kinds: [ReadKind] = h.effects.compactMap { if case .auditRefusal(let k, let t) = $0, t.rawValue == "globex" { k } else { nil } }
        #expect(kinds == [.tenants, .tenants, .audit, .usage], "each refusal is audited")
        h.type(":tenant acme")
        h.press(.enter)
        #expect((h.app.nav.current as? TenantDetailScreen)?.tenant == acme)
    }

    /// The detail's identity pane, with Keycloak's admin API configured: a realm's users and
    /// sessions per client, a group's members; a viewer is told why it stays empty.
    @Test func theIdentityPaneShowsARealmOrAGroupToSupportAndUp() async throws {
        var h = try await Harness(width: 160, height: 48, session: Harness.session(role: .support, identities: "demo keycloak"))
        h.type(":tenant acme")
        h.press(.enter)
        try await h.load()
        #expect(h.app.needs.contains(.identity(acme)))
        let line = try #require(h.screen.split(separator: "\n").first { $0.contains(" IDENTITY") })
        #expect(line.contains("realm tenant-acme") && line.contains("enabled") && line.contains("users") && line.contains("gateway-web"), "\(line)")
        #expect(h.screen.contains("demo keycloak"), "the header names the store")

        var viewer = try await Harness(width: 160, height: 48, session: Harness.session(role: .viewer, identities: "demo keycloak"))
        viewer.type(":tenant acme")
        viewer.press(.enter)
        try await viewer.load()
        #expect(!viewer.app.needs.contains(.identity(acme)))
        #expect(viewer.screen.contains("IDENTITY Keycloak sessions need the support role; ops:test has viewer"))
        var none = try await Harness(width: 160, height: 48)
        none.type(":tenant acme")
        none.press(.enter)
        try await none.load()
        #expect(!none.screen.contains("IDENTITY") && !none.app.needs.contains(.identity(acme)), "no pane without Keycloak's admin API")
    }
}
