import Backends
import Testing
@testable import Views

/// Keys through the model as a person presses them: overlays take keys first, then the screen's
/// bindings, then the global ones.
@Suite struct NavigationTests {
    @Test func enterDrillsInEscGoesBackAndBracketsWalkHistory() async throws {
        var h = try await Harness(width: 100, height: 30)
        let first = try #require((h.app.nav.current as? FleetScreen)?.table.selectedTenant?.id)
        h.press(.enter)
        #expect((h.app.nav.current as? TenantDetailScreen)?.tenant == first)
        try await h.load()
        #expect(h.screen.contains("tenant \(first) ‹ overview"))
        h.press(.escape)
        #expect(h.app.nav.current is FleetScreen && h.app.nav.forward.count == 1)
        h.press(.char("]"))
        #expect((h.app.nav.current as? TenantDetailScreen)?.tenant == first)
        h.press(.char("["))
        #expect(h.app.nav.current is FleetScreen)
        h.press(.char("l"))   // l drills in too, and drops what was forward
        #expect(h.app.nav.current is TenantDetailScreen && h.app.nav.forward.isEmpty)
        h.press(.char("h"))
        #expect(h.app.nav.current is FleetScreen)
        h.press(.escape)
        #expect(h.app.flash?.text.contains("this is the first screen") == true, "Esc on the first screen says why it does nothing")
    }

    @Test func theScreenDeclaresWhatItNeeds() async throws {
        var h = try await Harness(width: 100, height: 30)
        #expect(h.app.needs == [.fleet])
        h.type(":tenant acme")
        h.press(.enter)
        let acme = try TenantID("acme")
        #expect(h.app.needs == [.tenant(acme), .keys(acme), .recentAudit(acme), .usage(acme, nil)])
        var noClickHouse = try await Harness(width: 100, height: 30, session: Harness.session(audit: nil))
        noClickHouse.type(":tenant acme")
        noClickHouse.press(.enter)
        #expect(noClickHouse.app.needs == [.tenant(acme), .keys(acme)], "no audit store: those feeds are not started")
        try await noClickHouse.load()
        #expect(noClickHouse.screen.contains("audit events need ClickHouse: pass --clickhouse URL"))
        #expect(noClickHouse.screen.contains("clickhouse off"))
    }

    @Test func unboundKeysSaySo() async throws {
        var h = try await Harness(width: 100, height: 30)
        h.press(.tab)
        #expect(h.screen.contains("Tab does nothing here; ? shows this screen's keys"))
        h.press(.char("j"))
        #expect(!h.screen.contains("does nothing here"), "the next key clears the line")
    }
}

@Suite struct OverlayTests {
    @Test func anyKeyClosesTheHelpAndQDoesNotQuitFromIt() async throws {
        var h = try await Harness(width: 100, height: 30)
        h.press(.char("?"))
        #expect(h.screen.contains("keys: overview") && h.screen.contains("COMMAND MODE"))
        h.press(.char("q"))
        #expect(h.app.overlay == nil && !h.effects.contains { if case .quit = $0 { true } else { false } })
        h.press(.char("q"))
        #expect(h.effects.contains { if case .quit = $0 { true } else { false } })
    }

    @Test func ctrlCInADialogCancelsIt() async throws {
        var h = try await Harness(width: 100, height: 30)
        h.press(.char("t"))
        h.type("5")
        h.press(.ctrl("c"))
        #expect(h.app.overlay == nil && h.performed.isEmpty)
        #expect(!h.effects.contains { if case .quit = $0 { true } else { false } })
        #expect(h.screen.contains("cancelled, nothing changed"))
    }

    @Test func theFilterNarrowsAsYouTypeAndEscClearsIt() async throws {
        var h = try await Harness(width: 100, height: 30)
        h.press(.char("/"))
        h.type("acme")
        #expect((h.app.nav.current as? FleetScreen)?.table.count == 2, "acme and acme-eu")
        #expect(h.screen.contains(" acme ") && h.screen.contains(" acme-eu ") && !h.screen.contains(" globex "))
        h.press(.enter)
        #expect(h.app.overlay == nil && h.app.nav.current.filter == "acme")
        #expect(h.screen.contains("filter \"acme\": 2 of 40 tenants"))
        h.press(.enter)
        #expect((h.app.nav.current as? TenantDetailScreen) != nil, "Enter opens the filtered row")
        h.press(.escape)
        h.press(.escape)   // first Esc on a filtered table clears the filter
        #expect(h.app.nav.current.filter == nil && h.screen.contains("/40"))
        h.press(.char("/"))
        h.type("!a")
        let shown = try #require((h.app.nav.current as? FleetScreen)?.table.count)
        #expect(shown > 0 && shown < 40)
        h.press(.escape)
        #expect(h.app.nav.current.filter == nil)
    }

    @Test func typingInAPromptNeverTriggersBindings() async throws {
        var h = try await Harness(width: 100, height: 30)
        h.press(.char("/"))
        h.type("q?t")
        #expect(h.app.overlay != nil && h.effects.isEmpty && h.performed.isEmpty)
    }
}

@Suite struct CommandModeTests {
    @Test func commandsOpenScreensAndKeepAHistory() async throws {
        var h = try await Harness(width: 100, height: 30)
        h.press(.char(":"))
        h.type("noisy")
        h.press(.enter)
        #expect((h.app.nav.current as? FleetScreen)?.kind == .noisy)
        h.press(.char(":"))
        h.type("tenant acme")
        h.press(.enter)
        #expect((h.app.nav.current as? TenantDetailScreen)?.tenant.rawValue == "acme")
        h.press(.char(":"), .up)
        guard case .command(let p)? = h.app.overlay else { Issue.record("no prompt"); return }
        #expect(p.editor.text == "tenant acme")
        h.press(.up)
        if case .command(let p)? = h.app.overlay { #expect(p.editor.text == "noisy") }
        h.press(.down, .down)
        if case .command(let p)? = h.app.overlay { #expect(p.editor.text == "") }
        h.press(.escape)
        h.type(":q")
        h.press(.enter)
        #expect(h.effects.contains { if case .quit = $0 { true } else { false } })
    }

    @Test func badInputNamesTheValueAndTheRuleAndChangesNothing() async throws {
        var h = try await Harness(width: 120, height: 30)
        for (typed, message) in [("tenant Acme;DROP", "invalid tenant_id \"Acme;DROP\": must match"),
                                 ("frobnicate", "unknown command \"frobnicate\": commands are tenant, keys, audit, usage, expiring, noisy"),
                                 ("tenant", ":tenant needs a tenant id"),
                                 ("noisy now", ":noisy takes no argument; got \"now\""),
                                 ("tenant nosuch", "no tenant \"nosuch\" among the 40 tenants"),
                                 ("tenant \u{1B}[2Jx", "invalid tenant_id \"[2Jx\"")] {   // control characters cannot be typed
            h.press(.char(":"))
            h.type(typed)
            h.press(.enter)
            #expect(h.app.nav.current is FleetScreen, "\(typed)")
            guard case .command(let p)? = h.app.overlay else { Issue.record("prompt closed after \(typed)"); continue }
            #expect(p.error?.contains(message) == true, "\(typed): \(p.error ?? "no error")")
            #expect(!h.screen.unicodeScalars.contains { SafeText.isUnsafe($0) && $0 != "\n" })
            h.press(.escape)
        }
        #expect(h.app.history.isEmpty, "nothing that failed is kept")
    }

    @Test func tabCompletesCommandsAndTenantIds() async throws {
        var h = try await Harness(width: 100, height: 30)
        h.press(.char(":"))
        h.type("te")
        h.press(.tab)
        guard case .command(let p)? = h.app.overlay else { Issue.record("no prompt"); return }
        #expect(p.editor.text == "tenant ")
        h.type("acme")
        h.press(.tab)
        if case .command(let p)? = h.app.overlay {
            #expect(p.editor.text == "tenant acme" && p.candidates == ["acme", "acme-eu"])
        }
        h.type("-")
        h.press(.tab)
        if case .command(let p)? = h.app.overlay { #expect(p.editor.text == "tenant acme-eu ") }
        h.press(.enter)
        #expect((h.app.nav.current as? TenantDetailScreen)?.tenant.rawValue == "acme-eu")
    }

    @Test func parsing() {
        #expect(Commands.parse("ctx prod") == .success(.context("prod")))
        #expect(Commands.parse("theme mono") == .success(.theme("mono")))
        #expect(Commands.parse("top") == .success(.noisy))
        #expect(Commands.parse("o") == .success(.overview))
        #expect(Commands.parse("quit") == .success(.quit))
        #expect(Commands.complete("th", Commands.Sources(fleet: nil, themes: ["default", "mono"], contexts: [])).text == "theme ")
        #expect(Commands.complete("theme m", Commands.Sources(fleet: nil, themes: ["default", "mono"], contexts: [])).text == "theme mono ")
        #expect(Commands.complete("ctx ", Commands.Sources(fleet: nil, themes: [], contexts: ["prod", "staging"])).candidates == ["prod", "staging"])
    }
}

@Suite struct ActionDialogTests {
    @Test func aThrottleThroughTheDialogReachesTheActionLayer() async throws {
        var h = try await Harness(width: 100, height: 30)
        let tenant = try #require((h.app.nav.current as? FleetScreen)?.table.selectedTenant?.id)
        h.press(.char("t"))
        #expect(h.screen.contains("throttle \(tenant)"))
        h.type("2k")                         // limit (focused first: the only empty field before reason)
        h.press(.tab, .ctrl("u"))
        h.type("2h")
        h.press(.tab)
        h.type("noisy")
        #expect(h.screen.contains("every route of \(tenant) is held to at most 2000 requests per window"))
        h.press(.enter)
        #expect(h.performed == [.throttleSet(tenant, .all, limit: 2_000, duration: 7_200, reason: "noisy")])
        #expect(h.app.overlay == nil && h.screen.contains("throttle.set \(tenant): working…"))
        h.send(.actionFinished(h.performed[0], .success(ActionOutcome(before: [:], after: ["limit": "2000", "expires_at": "1795807247"]))))
        #expect(h.screen.contains("throttle.set \(tenant) route/_all: done, limit 2000 until 19:20 UTC"))
        #expect(h.effects.contains { if case .refresh = $0 { true } else { false } })
    }

    @Test func badInputStaysInTheDialogWithTheRule() async throws {
        var h = try await Harness(width: 100, height: 30)
        h.press(.char("t"))
        h.type("lots")
        h.press(.enter)
        guard case .form(let d)? = h.app.overlay else { Issue.record("the dialog closed"); return }
        #expect(d.error?.contains("invalid limit \"lots\": must be a whole number") == true)
        #expect(d.fields[d.focus].name == "limit")
        h.press(.ctrl("u"))
        h.type("10")
        h.press(.enter)   // the reason is still empty
        if case .form(let d)? = h.app.overlay {
            #expect(d.error?.contains("invalid reason \"\": must not be empty") == true && d.fields[d.focus].name == "reason")
        }
        #expect(h.performed.isEmpty)
    }

    @Test func theDialogShowsTheThrottleInForceAndClearsIt() async throws {
        var h = try await Harness(width: 120, height: 40)
        let acme = try TenantID("acme")
        try await h.gateway.setThrottle(acme, Throttle(route: .all, limit: 7, reason: "incident", actor: "ops:bob",
                                                       setAt: Int64(Harness.instant) - 60, expiresAt: Int64(Harness.instant) + 725))
        h.type(":tenant acme")
        h.press(.enter)
        try await h.load()
        #expect(h.screen.contains("⏷7 12m04s ops:bob: incident"))
        h.press(.char("t"))
        #expect(h.screen.contains("in force on _all: limit 7, 12m04s left"))
        guard case .form(let d)? = h.app.overlay else { Issue.record("no dialog"); return }
        #expect(d.fields[0].editor.text != "_all", "the route field starts with the selected route")
        // Up from the first empty field (limit) to the route; clear it to _all, then ^X.
        h.press(.up, .ctrl("u"))
        h.type("_all")
        h.press(.ctrl("x"))
        #expect(h.performed == [.throttleClear(acme, .all)])
    }

    @Test func refusedActionsAreGreyedAndSayWhy() async throws {
        var h = try await Harness(width: 100, height: 30, session: Harness.session(role: .viewer))
        #expect(h.screen.contains("t throttle (off)"))
        h.press(.char("t"))
        #expect(h.app.overlay == nil)
        #expect(h.screen.contains("throttle the tenant: throttle.set needs the operator role; ops:test has viewer"))
    }

    @Test func aTenantScopedOperatorIsRefusedOnOtherTenantsOnly() async throws {
        let acme = try TenantID("acme")
        let policy = AccessPolicy(op: Operator(name: "ops:acme", role: .operator, tenant: acme, authenticated: true), readonly: false)
        #expect(policy.refusal(.throttleSet, tenant: acme) == nil)
        #expect(policy.refusal(.throttleSet, tenant: try TenantID("globex"))?.contains("confined to tenant acme") == true)
        #expect(policy.refusal(.keyRotate, tenant: acme)?.contains("needs the admin role") == true)
    }

    @Test func aFailedActionIsANoticeAnyKeyCloses() async throws {
        var h = try await Harness(width: 100, height: 30)
        h.send(.actionFinished(.throttleClear(try TenantID("acme"), .all), .failure(.denied("read-only mode"))))
        #expect(h.screen.contains("throttle.clear failed") && h.screen.contains("permission denied: read-only mode"))
        h.press(.char("x"))
        #expect(h.app.overlay == nil)
    }
}

@Suite struct StaleDataTests {
    @Test func keepsTheLastDataMarksItStaleAndRecovers() async throws {
        var h = try await Harness(width: 100, height: 30)
        h.send(.tick(Harness.instant + 12))
        h.send(.failed(.fleet, "backend unavailable: redis 127.0.0.1:6379: Connection refused", at: Harness.instant + 12))
        #expect(h.screen.contains("demo STALE, data 12s old: backend unavailable"))
        #expect(h.screen.contains("TENANT") && h.screen.contains("/40"), "the last data stays on screen")
        let row = h.grid
        let dimmed = (0..<row.width).filter { row[$0, 4].role == .dim }.count
        #expect(dimmed > 50, "rows are dimmed while stale")
        let later = FleetDigest(try await DemoGateway(seed: 42, clock: FixedClock(Harness.instant + 13)).fleet(), previous: h.app.fleet)
        h.send(.loaded(.fleet, .fleet(later)))
        #expect(!h.screen.contains("STALE"))
    }
}
