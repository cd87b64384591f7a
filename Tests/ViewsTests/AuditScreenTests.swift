import Foundation
import Testing
@testable import Backends
@testable import Views

/// The audit screen's model: what the follow brings, pausing, paging back, searching and the
/// filter form, on the demo gateway at a fixed clock.
@Suite struct AuditScreenTests {
    func acmeAudit() async throws -> Harness {
        var h = try await Harness(width: 120, height: 30)
        h.type(":audit acme")
        h.press(.enter)
        try await h.load()
        return h
    }

    func screen(_ h: Harness) throws -> AuditScreen { try #require(h.app.nav.current as? AuditScreen) }

    func event(_ id: String, ts: Int64, action: String = "live.event") -> AuditEvent {
        AuditEvent(tenant: try! TenantID("acme"), ts: ts, tsMs: 0, eventID: id, actor: "ops:test", actorType: "operator", action: action,
                   resource: "route/_all", outcome: "success", detail: "{}")
    }

    func follow(_ h: inout Harness, _ events: [AuditEvent]) throws {
        let q = try screen(h).query
        h.send(.loaded(.auditFollow(q), .auditTail(events, initial: false, at: Harness.instant)))
    }

    @Test func newRowsGoOnTopOnceEachAndTheSelectionFollowsThem() async throws {
        var h = try await acmeAudit()
        let now = Int64(Harness.instant)
        try follow(&h, [event("n-1", ts: now)])
        try follow(&h, [event("n-1", ts: now), event("n-2", ts: now + 1)])   // a poll that overlaps the last
        let s = try screen(h)
        #expect(s.events.prefix(2).map(\.eventID) == ["n-2", "n-1"] && s.events.count == 202)
        #expect(s.table.selected == "n-2", "on the newest row, the selection follows the new ones")
        // A late row of an earlier second goes where it belongs, not on top.
        try follow(&h, [event("late", ts: now - 300)])
        let after = try screen(h).events
        #expect(after.first?.eventID == "n-2" && (after.firstIndex { $0.eventID == "late" } ?? 0) > 2)
        #expect(zip(after, after.dropFirst()).allSatisfy { ($0.ts, $0.tsMs) >= ($1.ts, $1.tsMs) })
    }

    @Test func aSelectionAwayFromTheTopStaysWhereItIs() async throws {
        var h = try await acmeAudit()
        h.press(.char("j"), .char("j"))
        let selected = try screen(h).table.selected
        try follow(&h, [event("n-1", ts: Int64(Harness.instant))])
        #expect(try screen(h).table.selected == selected)
    }

    @Test func pausedRowsWaitAndAreCounted() async throws {
        var h = try await acmeAudit()
        h.press(.char("p"))
        let now = Int64(Harness.instant)
        try follow(&h, [event("w-1", ts: now)])
        try follow(&h, [event("w-1", ts: now), event("w-2", ts: now + 1)])
        #expect(try screen(h).waiting.count == 2 && !(try screen(h).events.contains { $0.eventID.hasPrefix("w-") }))
        #expect(h.screen.contains("PAUSED: 2 new rows wait (p resumes)"))
        h.press(.char("p"))
        #expect(try screen(h).events.prefix(2).map(\.eventID) == ["w-2", "w-1"] && h.screen.contains("following"))
    }

    @Test func pagingBackAsksOnceForTheRowsBeforeTheOldest() async throws {
        var h = try await acmeAudit()
        let oldest = try #require(try screen(h).events.last)
        h.press(.char("G"))
        h.press(.char("j"))   // asked again while under way: nothing more is asked
        let page = try #require(try screen(h).pendingPage)
        #expect(page.olderThan == AuditCursor(oldest) && page.limit == AuditScreen.pageSize)
        #expect(h.pendingReads == [.auditPage(page)], "one read, though asked twice")
        try await h.load()
        let s = try screen(h)
        #expect(s.pendingPage == nil && s.events.count > 200 && Set(s.events.map(\.eventID)).count == s.events.count)
        #expect(zip(s.events, s.events.dropFirst()).allSatisfy { ($0.ts, $0.tsMs) >= ($1.ts, $1.tsMs) }, "newest first throughout")
    }

    @Test func searchHighlightsAndJumpsBothWays() async throws {
        var h = try await acmeAudit()
        h.press(.char("/"))
        h.type("KEY.ROTATE")
        h.press(.enter)
        let s = try screen(h)
        let matches = s.events.indices.filter { s.events[$0].action == "key.rotate" }
        #expect(matches.count > 2)
        #expect(s.selectedIndex == matches[0], "case-insensitive; the selection moves to the first match")
        h.press(.char("n"))
        #expect(try screen(h).selectedIndex == matches[1])
        h.press(.char("N"), .char("N"))
        #expect(try screen(h).selectedIndex == matches.last, "N wraps round to the last match")
        #expect(h.screen.contains("search \"KEY.ROTATE\": \(matches.count) matches"))
        h.press(.escape)
        #expect(try screen(h).search == nil)
        h.press(.char("n"))
        #expect(h.screen.contains("nothing searched"), "n says why it does nothing")
    }

    @Test func theFilterFormStartsANewQueryOrNamesTheBadValue() async throws {
        var h = try await acmeAudit()
        h.press(.char("f"))
        h.type("key.*")
        h.press(.tab, .tab)
        h.type("nope")
        h.press(.enter)
        guard case .form(let d)? = h.app.overlay else { Issue.record("the form closed on a bad outcome"); return }
        #expect(d.error == "invalid outcome \"nope\": must be one of success, denied, error")
        #expect(try screen(h).query.action == nil, "nothing changed")
        h.press(.ctrl("u"))
        h.type("success")
        h.press(.enter)
        let q = try screen(h).query
        #expect(q.action == "key.*" && q.outcome == "success" && h.app.needs.contains(.auditFollow(q)))
        try await h.load()
        let s = try screen(h)
        #expect(!s.events.isEmpty && s.events.allSatisfy { $0.action.hasPrefix("key.") && $0.outcome == "success" })
        #expect(h.screen.contains("action key.*, outcome success"))
    }

    @Test func aRowDatedAheadIsMarked() async throws {
        var h = try await acmeAudit()
        try follow(&h, [event("ahead", ts: Int64(Harness.instant) + 600, action: "clock.skew")])
        #expect(h.screen.split(separator: "\n").contains { $0.contains("clock.skew") && $0.contains("ahead ") })
        h.press(.enter)
        #expect(h.screen.contains("dated ahead of this clock"))
    }
}
