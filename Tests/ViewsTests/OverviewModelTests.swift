import Backends
import Testing
@testable import Views

@Suite struct OverviewModelTests {
    func tenant(_ id: String, requests: Int) throws -> TenantState {
        let policy = try LimitPolicy(limit: 1_000, window: 60)
        return TenantState(id: try TenantID(id), meta: .ok(TenantMeta(name: id, tier: .ok(.smb), status: .ok(.active), realm: "smb", group: "/tenants/\(id)", createdAt: 0)),
                           routes: [RouteReading(route: try Route("chat"), state: .ok(WindowState(policy: policy, count: requests, throttles: [], now: 10)))],
                           throttles: [], budget: nil, keys: KeyCounts())
    }

    func snapshot(_ pairs: [(String, Int)]) throws -> FleetSnapshot {
        FleetSnapshot(tenants: try pairs.map { try tenant($0.0, requests: $0.1) }, malformedTenantIDs: 0, takenAt: 10)
    }

    @Test func selectionFollowsTheTenantAcrossRefreshes() throws {
        var m = OverviewModel()
        m.visibleRows = 3
        m.apply(try snapshot([("a", 30), ("b", 20), ("c", 10)]))
        #expect(m.selectedTenant?.id.rawValue == "a")
        m.move(by: 1)
        #expect(m.selectedTenant?.id.rawValue == "b")
        // b becomes the busiest: it moves to the top and stays selected.
        m.apply(try snapshot([("a", 30), ("b", 90), ("c", 10)]))
        #expect(m.rows.map(\.id.rawValue) == ["b", "a", "c"])
        #expect(m.selectedTenant?.id.rawValue == "b")
    }

    @Test func selectionFallsToTheSameRowWhenTheTenantDisappears() throws {
        var m = OverviewModel()
        m.apply(try snapshot([("a", 30), ("b", 20), ("c", 10)]))
        m.move(by: 1)
        m.apply(try snapshot([("a", 30), ("c", 10)]))
        #expect(m.selectedTenant?.id.rawValue == "c")
        m.apply(try snapshot([]))
        #expect(m.selectedTenant == nil)
    }

    @Test func sortingAndReversing() throws {
        var m = OverviewModel()
        m.apply(try snapshot([("b", 20), ("a", 30), ("c", 10)]))
        #expect(m.rows.map(\.id.rawValue) == ["a", "b", "c"])
        m.sort(by: .tenant, descending: false)
        #expect(m.rows.map(\.id.rawValue) == ["a", "b", "c"])
        m.sortReverse()
        #expect(m.rows.map(\.id.rawValue) == ["c", "b", "a"])
        m.sortNext()
        #expect(m.sortColumn == .tier)
    }

    @Test func pagingScrollsAndClamps() throws {
        var m = OverviewModel()
        m.visibleRows = 4
        m.apply(try snapshot((0..<10).map { ("t\($0)", 100 - $0) }))
        m.page(by: 1)
        #expect(m.selectedIndex == 3)
        m.page(by: 5)
        #expect(m.selectedIndex == 9)
        #expect(m.table.offset == 6)
        m.home()
        #expect(m.selectedIndex == 0 && m.table.offset == 0)
    }

    @Test func brokenValuesShowAsMarkedErrors() throws {
        var t = try tenant("bad", requests: 5)
        t.routes.append(RouteReading(route: try Route("embeddings"), state: .bad("limit policy \"abc/0\" is malformed")))
        t.budget = .bad("budget used \"x\" is not a number")
        #expect(t.hasProblems)
        #expect(OverviewColumn.budget.cell(t) == ("ERR", .error))
        #expect(OverviewColumn.tenant.cell(t).1 == .error)
    }
}

@Suite struct GridTests {
    @Test func wideCharactersTakeTwoCells() {
        var g = Grid(width: 6, height: 1)
        let used = g.put("数据x", x: 0, y: 0)
        #expect(used == 5)
        #expect(g[1, 0].isContinuation && g[3, 0].isContinuation)
        #expect(g.text == "数据x\n")
    }

    @Test func wideCharacterThatDoesNotFitIsNotHalfDrawn() {
        var g = Grid(width: 3, height: 1)
        #expect(g.put("a数据", x: 0, y: 0) == 3)
        var h = Grid(width: 4, height: 1)
        #expect(h.put("ab数", x: 1, y: 0) == 2)
        #expect(h.text == " ab\n")
    }

    @Test func controlCharactersAreNeverWrittenRaw() {
        var g = Grid(width: 40, height: 1)
        g.put("x\u{1B}]0;pwned\u{7}\u{1B}[2J\u{202E}y", x: 0, y: 0)
        for c in g.cells { #expect(!c.text.unicodeScalars.contains { SafeText.isUnsafe($0) }) }
        #expect(g.text.hasPrefix("x\\x1B]0;pwned\\x07\\x1B[2J"))
    }

    @Test func displayWidths() {
        #expect(DisplayWidth.of("abc") == 3)
        #expect(DisplayWidth.of("日本") == 4)
        #expect(DisplayWidth.of("e\u{301}") == 1)
        #expect(DisplayWidth.of("👩‍💻") == 2)
        #expect(DisplayWidth.of("❤️") == 2)
        #expect(DisplayWidth.of("ｱ") == 1)   // halfwidth katakana
    }

    @Test func fitTruncatesWithEllipsis() {
        #expect(Fit.text("chat.completions", 8) == "chat.co…")
        #expect(Fit.text("42", 5, .right) == "   42")
        #expect(Fit.text("数据中心", 5) == "数据…")
        #expect(DisplayWidth.of(Fit.text("数据中心", 6)) == 6)
    }

    @Test func formats() {
        #expect(Format.count(9_999) == "9999")
        #expect(Format.count(12_345) == "12k")
        #expect(Format.count(1_250_000) == "1.2M")
        #expect(Format.duration(59) == "59s")
        #expect(Format.duration(3_725) == "1h02m")
        #expect(Format.duration(2 * 86_400 + 3 * 3600) == "2d03h")
        #expect(Format.duration(-5) == "0s")
        #expect(Format.percent(87.9) == "87%")
        #expect(Format.percent(0.42) == "0.4%")
    }
}

@Suite struct ThemeTests {
    @Test func parsesAThemeFile() throws {
        let t = try Theme.parse("""
        name = "t"
        [roles.bar]
        fg = "white"
        bg = 236
        attrs = ["bold", "reverse"]
        """, source: "t.toml")
        #expect(t.name == "t")
        #expect(t.style(.bar).fg == .index(7) && t.style(.bar).bg == .index(236))
        #expect(t.style(.bar).bold && t.style(.bar).reverse)
        #expect(t.style(.normal) == Theme.Style())
    }

    @Test(arguments: [
        ("[roles.bar]\nfg = \"chartreuse\"", "unknown colour \"chartreuse\""),
        ("[roles.bar]\nfg = 300", "out of range"),
        ("[roles.nope]\nfg = 1", "unknown role \"nope\""),
        ("[roles.bar]\nattrs = [\"blink\"]", "unknown attribute"),
        ("roles = [", "not valid TOML"),
        ("name = \"x\"", "missing [roles"),
    ])
    func refusesBadThemes(_ text: String, _ message: String) {
        #expect {
            _ = try Theme.parse(text, source: "bad.toml")
        } throws: { error in
            "\(error)".contains(message) && "\(error)".contains("bad.toml")
        }
    }

    @Test func shippedThemesParse() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("themes")
        for name in ["default", "mono"] {
            let text = try String(contentsOf: dir.appendingPathComponent("\(name).toml"), encoding: .utf8)
            let theme = try Theme.parse(text, source: name)
            #expect(theme.name == name)
            #expect(!theme.styles.isEmpty)
        }
    }
}

import Foundation

@Suite struct StaleDataTests {
    @Test func keepsTheLastDataAndSaysHowOldItIs() async throws {
        let gw = DemoGateway(seed: 1, clock: FixedClock(1_795_800_047))
        var app = AppModel(width: 100, height: 30, now: 1_795_800_047, source: "redis://127.0.0.1:6379")
        _ = app.update(.fleet(try await gw.fleet()))
        _ = app.update(.fleetFailed("backend unavailable: redis 127.0.0.1:6379: Connection refused", at: 1_795_800_059))
        #expect(app.overview.rows.count == 40)
        let screen = AppView.render(app).text
        #expect(screen.contains("STALE (data 12s old)"))
        #expect(screen.contains("TENANT"))
        _ = app.update(.fleet(try await gw.fleet()))
        #expect(!AppView.render(app).text.contains("STALE"))
    }
}

@Suite struct SparklineTests {
    @Test func scalesToTheLargestValue() {
        #expect(Sparkline.text([0, 1, 4, 8]) == " ▁▄█")
        #expect(Sparkline.text([5, 5]) == "██")
        #expect(Sparkline.text([]) == "")
    }
}

@Suite struct ThrottleDisplayTests {
    @Test func theHottestRouteSaysHowLongItsThrottleLasts() throws {
        let policy = try LimitPolicy(limit: 100, window: 60)
        let th = Throttle(route: .all, limit: 10, reason: "noisy", actor: "ops:a", setAt: 0, expiresAt: 1_000 + 725)
        let t = TenantState(id: try TenantID("acme"), meta: .ok(TenantMeta(name: "a", tier: .ok(.smb), status: .ok(.active), realm: "smb", group: "", createdAt: nil)),
                            routes: [RouteReading(route: try Route("chat"), state: .ok(WindowState(policy: policy, count: 30, throttles: [th], now: 1_000)))],
                            throttles: [th], budget: nil, keys: KeyCounts())
        #expect(OverviewColumn.hottest.cell(t) == ("chat ⏷12m05s", .warn))
        #expect(OverviewColumn.load.cell(t) == ("300%", .bad))
    }
}

@Suite struct ThrottleDialogTests {
    func app() async throws -> AppModel {
        var app = AppModel(width: 100, height: 30, now: 1_795_800_047, source: "demo")
        _ = app.update(.fleet(try await DemoGateway(seed: 42, clock: FixedClock(1_795_800_047)).fleet()))
        return app
    }

    @Test func typingAndEnterAskForTheThrottle() async throws {
        var app = try await app()
        let tenant = try #require(app.overview.selectedTenant?.id)
        _ = app.update(.key(.char("T")))
        #expect(app.dialog?.tenant == tenant)
        for c in "50" { _ = app.update(.key(.char(c))) }
        _ = app.update(.key(.tab))
        _ = app.update(.key(.backspace)); _ = app.update(.key(.backspace)); _ = app.update(.key(.backspace))
        for c in "2h" { _ = app.update(.key(.char(c))) }
        _ = app.update(.key(.tab))
        for c in "noisy" { _ = app.update(.key(.char(c))) }
        #expect(AppView.render(app).text.contains("throttle \(tenant) on all routes"))
        let effects = app.update(.key(.enter))
        #expect(effects == [.perform(.throttleSet(tenant, .all, limit: 50, duration: 7200, reason: "noisy"))])
        #expect(app.dialog == nil)
        #expect(app.update(.actionFinished("throttle.set \(tenant): done", failed: false)) == [.refreshNow])
        #expect(AppView.render(app).text.contains("throttle.set \(tenant): done"))
    }

    @Test func badInputStaysInTheDialogWithTheRule() async throws {
        var app = try await app()
        _ = app.update(.key(.char("T")))
        for c in "lots" { _ = app.update(.key(.char(c))) }
        #expect(app.update(.key(.enter)).isEmpty)
        #expect(app.dialog?.error?.contains("invalid limit \"lots\"") == true)
        _ = app.update(.key(.escape))
        #expect(app.dialog == nil)
    }

    @Test func refusedActionsAreGreyedAndSayWhy() async throws {
        var app = try await app()
        app.actionsRefused = "read-only mode"
        #expect(AppView.render(app).text.contains("T throttle (off)"))
        _ = app.update(.key(.char("T")))
        #expect(app.dialog == nil)
        #expect(AppView.render(app).text.contains("throttle: read-only mode"))
    }
}

@Suite struct KeyspaceCountTests {
    /// Until the first SCAN walk completes the SESS and CACHE cells say nothing, and the header
    /// says why; a failing walk is named.
    @Test func countsNotYetCompletedOrFailingAreSaid() async throws {
        let demo = try await DemoGateway(seed: 1, clock: FixedClock(1_795_800_047)).fleet()
        var uncounted = demo.tenants
        for i in uncounted.indices { uncounted[i].keyspace = nil }
        var app = AppModel(width: 140, height: 30, now: 1_795_800_047, source: "redis://127.0.0.1:6379")
        _ = app.update(.fleet(FleetSnapshot(tenants: uncounted, malformedTenantIDs: 0, takenAt: 1_795_800_047)))
        let counting = AppView.render(app).text
        #expect(counting.contains("SESS/CACHE counting") && counting.contains("SESS CACHE"))
        #expect(OverviewColumn.sessions.cell(uncounted[0]).0 == "-")
        _ = app.update(.fleet(FleetSnapshot(tenants: uncounted, malformedTenantIDs: 0, takenAt: 1_795_800_048, keyspaceProblem: "SCAN: NOPERM")))
        #expect(AppView.render(app).text.contains("SESS/CACHE counts failing"))
        _ = app.update(.fleet(demo))
        #expect(!AppView.render(app).text.contains("SESS/CACHE c"))
        #expect(OverviewColumn.sessions.cell(demo.tenants[0]).0 != "-")
    }
}
