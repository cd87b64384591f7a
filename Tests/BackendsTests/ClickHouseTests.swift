import Foundation
import TestSupport
import Testing
@testable import Backends

@Suite struct SQLLiteralTests {
    @Test func escapesEverythingThatCouldEndOrBendALiteral() {
        #expect(SQL.literal("plain") == "'plain'")
        #expect(SQL.literal("it's") == "'it\\'s'")
        #expect(SQL.literal("a\\b") == "'a\\\\b'")
        #expect(SQL.literal("\\'") == "'\\\\\\''")
        #expect(SQL.literal("x\ny\tz\r\0") == "'x\\ny\\tz\\r\\0'")
        #expect(SQL.literal("\u{1B}[2J\u{7F}") == "'\\x1B[2J\\x7F'")
        #expect(SQL.literal("数据") == "'数据'")
    }

    @Test func theTenantPredicateIsAlwaysThere() throws {
        let sql = SQLSchema.auditTail(AuditQuery(tenant: try TenantID("acme"), grep: "' OR 1=1 --"), database: "gateway")
        #expect(sql.contains("WHERE tenant_id = 'acme'"))
        #expect(sql.contains("position(detail, '\\' OR 1=1 --') > 0"))
        #expect(sql.contains("LIMIT 1 BY event_id"))
    }

    @Test(arguments: ["", "1gateway", "gate way", "gateway;DROP", "a.b", "x`"])
    func refusesBadDatabaseNames(_ name: String) {
        #expect(throws: ValidationError.self) { try SQLSchema.validDatabase(name) }
    }

    @Test func timeSpans() throws {
        #expect(try TimeSpan.seconds("30m", field: "x") == 1800)
        #expect(try TimeSpan.seconds("2w", field: "x") == 1_209_600)
        #expect(try TimeSpan.seconds("0", field: "x") == 0)
        for bad in ["", "m", "1.5h", "-1h", "1y", "10 m", "1h30m"] {
            #expect(throws: ValidationError.self) { try TimeSpan.seconds(bad, field: "x") }
        }
        #expect(try TimeSpan.instant("1h", now: 10_000, field: "x") == 6_400)
        #expect(try TimeSpan.instant("2026-11-29T07:29:12Z", now: 0, field: "x") == 1_795_937_352)
        #expect(try TimeSpan.instant("1795937352", now: 0, field: "x") == 1_795_937_352)
        #expect(throws: ValidationError.self) { try TimeSpan.instant("2026-13-01T00:00:00Z", now: 0, field: "x") }
    }

    @Test func tsvUnescapes() {
        let rows = TSV.rows(Array("a\\tb\tc\\\\d\\n\te\\x1B\n\t\n".utf8))
        #expect(rows.count == 2)
        #expect(rows[0].map { String(decoding: $0, as: UTF8.self) } == ["a\tb", "c\\d\n", "e\u{1B}"])
        #expect(rows[1].map { String(decoding: $0, as: UTF8.self) } == ["", ""])
    }
}

/// Against the real ClickHouse (18.16 here) that `make test` starts; each test in its own database.
@Suite(.enabled(if: TestServices.configured, "run through `make test`, which starts ClickHouse"))
struct ClickHouseAuditTests {
    static func audit(_ db: String, timeout: Double = 10) async throws -> ClickHouseAudit {
        let url = try ClickHouseURL(parsing: try #require(TestServices.clickhouse))
        let a = try ClickHouseAudit(client: ClickHouseClient(url, timeout: timeout), database: db)
        _ = try await a.client.execute("DROP DATABASE IF EXISTS \(db)")
        try await a.applySchema()
        try await a.applySchema()   // idempotent
        return a
    }

    static func event(_ tenant: String, _ id: String, ts: Int64, action: String = "key.rotate", actor: String = "ops:alice",
                      outcome: String = "success", detail: String = "{}") -> AuditEvent {
        AuditEvent(tenant: try! TenantID(tenant), ts: ts, tsMs: UInt16(ts % 1000), eventID: id, actor: actor, actorType: "operator",
                   action: action, resource: "apikey/k1", outcome: outcome, ip: "127.0.0.1", requestID: "r-\(id)", detail: detail)
    }

    static let hostile: [String] = [
        "\u{1B}]0;pwned\u{7}\u{1B}[2J", "quote ' and \" and `", "back\\slash \\' \\\\", "nul \u{0} inside", "new\nline\r\ttab",
        "bidi \u{202E}evil", "数据 👩‍💻 e\u{301}", "'; DROP TABLE gateway.audit_log; --", "%_%", String(repeating: "x", count: 1_048_576),
    ]

    @Test func hostileTextRoundTripsUnchanged() async throws {
        let a = try await Self.audit("tollgate_t1")
        let events = Self.hostile.enumerated().map { i, text in
            Self.event("acme", "e\(i)", ts: 1_795_800_000 + Int64(i), actor: text, detail: text)
        }
        try await a.insert(events)
        let back = try await a.audit(AuditQuery(tenant: try TenantID("acme"), limit: 100))
        #expect(back.count == events.count)
        for e in events {
            let got = try #require(back.first { $0.eventID == e.eventID })
            #expect(got == e, "event \(e.eventID) changed on the way")
        }
    }

    @Test func invalidUTF8IsReadAsReplacementCharacters() async throws {
        let a = try await Self.audit("tollgate_t2")
        _ = try await a.client.execute("""
            INSERT INTO tollgate_t2.audit_log SELECT 'acme', toDateTime(1795800000), 0, 'bad', unhex('FF41FE'), 'operator',
              'x', 'r', 'success', '', '', unhex('C328')
            """)
        let back = try await a.audit(AuditQuery(tenant: try TenantID("acme")))
        #expect(back.count == 1)
        #expect(back[0].actor == "\u{FFFD}A\u{FFFD}")
        #expect(back[0].detail == "\u{FFFD}(")
    }

    @Test func filtersMatchLiterally() async throws {
        let a = try await Self.audit("tollgate_t3")
        try await a.insert([
            Self.event("acme", "1", ts: 1_795_800_001, action: "key.rotate", actor: "o'brien", detail: "{\"route\":\"a%b\"}"),
            Self.event("acme", "2", ts: 1_795_800_002, action: "key.revoke", actor: "ops\\x", outcome: "denied", detail: "{\"route\":\"a_b\"}"),
            Self.event("acme", "3", ts: 1_795_800_003, action: "throttle.set", detail: "{\"route\":\"axb\"}"),
        ])
        let acme = try TenantID("acme")
        #expect(try await a.audit(AuditQuery(tenant: acme, actor: "o'brien")).map(\.eventID) == ["1"])
        #expect(try await a.audit(AuditQuery(tenant: acme, actor: "ops\\x")).map(\.eventID) == ["2"])
        #expect(try await a.audit(AuditQuery(tenant: acme, grep: "a%b")).map(\.eventID) == ["1"])
        #expect(try await a.audit(AuditQuery(tenant: acme, grep: "a_b")).map(\.eventID) == ["2"])
        #expect(try await a.audit(AuditQuery(tenant: acme, grep: "%")).map(\.eventID) == ["1"])
        #expect(try await a.audit(AuditQuery(tenant: acme, grep: "' OR '1'='1")).isEmpty)
        #expect(try await a.audit(AuditQuery(tenant: acme, outcome: "denied")).map(\.eventID) == ["2"])
        #expect(try await a.audit(AuditQuery(tenant: acme, action: "throttle.set")).map(\.eventID) == ["3"])
        #expect(try await a.audit(AuditQuery(tenant: acme, since: 1_795_800_002)).map(\.eventID) == ["3", "2"])
        #expect(try await a.audit(AuditQuery(tenant: acme, before: 1_795_800_002)).map(\.eventID) == ["1"])
        #expect(try await a.audit(AuditQuery(tenant: acme, limit: 2)).map(\.eventID) == ["3", "2"])
    }

    @Test func tenantsAreIsolatedAndEventsDeduplicated() async throws {
        let a = try await Self.audit("tollgate_t4")
        try await a.insert([Self.event("acme", "1", ts: 1_795_800_001), Self.event("acme", "1", ts: 1_795_800_001),
                            Self.event("acme-eu", "2", ts: 1_795_800_002), Self.event("acm", "3", ts: 1_795_800_003)])
        _ = try await a.client.execute("INSERT INTO tollgate_t4.audit_log (tenant_id, ts, event_id) VALUES ('acme''--', toDateTime(1795800004), '4')")
        #expect(try await a.audit(AuditQuery(tenant: try TenantID("acme"))).map(\.eventID) == ["1"])
        #expect(try await a.audit(AuditQuery(tenant: try TenantID("acme-eu"))).map(\.eventID) == ["2"])
    }

    @Test func serverErrorsBecomeClearMessages() async throws {
        let url = try ClickHouseURL(parsing: try #require(TestServices.clickhouse))
        let client = ClickHouseClient(url)
        do {
            _ = try await client.execute("SELECT * FROM no_such_db.t")
            Issue.record("expected an error")
        } catch {
            guard case .failed(let m) = error else { Issue.record("expected .failed, got \(error)"); return }
            #expect(m.hasPrefix("ClickHouse error 81") && m.contains("no_such_db"))
        }
    }

    @Test func aServerThatIsDownIsUnavailable() async throws {
        let client = ClickHouseClient(ClickHouseURL(host: "127.0.0.1", port: 1), connectTimeout: 1, timeout: 2)
        await #expect(throws: BackendError.self) { _ = try await client.execute("SELECT 1") }
    }

    @Test func aServerThatStallsTimesOut() async throws {
        // A listener that accepts connections and never answers.
        let listener = try LoopbackSocket(listening: true)
        let port = Int(listener.port)
        let client = ClickHouseClient(ClickHouseURL(host: "127.0.0.1", port: port), connectTimeout: 1, timeout: 0.5)
        do {
            _ = try await client.execute("SELECT 1")
            Issue.record("expected a timeout")
        } catch {
            guard case .unavailable(let m) = error else { Issue.record("expected .unavailable, got \(error)"); return }
            #expect(m.contains("imeout") || m.contains("timed out"))
        }
    }
}

@Suite(.enabled(if: TestServices.configured, "run through `make test`, which starts ClickHouse"))
struct AuditFollowTests {
    @Test func followReadsOnlyNewEventsOnceEach() async throws {
        let a = try await ClickHouseAuditTests.audit("tollgate_t5")
        let acme = try TenantID("acme")
        try await a.insert([ClickHouseAuditTests.event("acme", "a", ts: 1_795_800_000), ClickHouseAuditTests.event("acme", "b", ts: 1_795_800_001)])
        let initial = try await a.audit(AuditQuery(tenant: acme, limit: 10))
        var follower = AuditFollower(AuditQuery(tenant: acme, limit: 2))
        let now = SystemClock().now()
        follower.start(after: initial, now: now)
        #expect(try await follower.poll(a, now: now).isEmpty)
        // Late arrival in the cursor's second, a duplicate delivery, newer events, another tenant.
        try await a.insert([ClickHouseAuditTests.event("acme", "c", ts: 1_795_800_001), ClickHouseAuditTests.event("acme", "b", ts: 1_795_800_001),
                            ClickHouseAuditTests.event("acme", "d", ts: 1_795_800_002), ClickHouseAuditTests.event("acme", "e", ts: 1_795_800_003),
                            ClickHouseAuditTests.event("acme", "f", ts: 1_795_800_004), ClickHouseAuditTests.event("globex", "g", ts: 1_795_800_005)])
        let next = try await follower.poll(a, now: now)
        #expect(next.map(\.eventID) == ["c", "d", "e", "f"])
        #expect(try await follower.poll(a, now: now).isEmpty)
    }

    /// A gateway whose clock runs ten minutes fast: its row is shown, once, and the real events
    /// after it still appear.
    @Test func aRowDatedAheadDoesNotBlindTheFollow() async throws {
        let a = try await ClickHouseAuditTests.audit("tollgate_t9")
        let acme = try TenantID("acme")
        let now = SystemClock().now(), t = Int64(now)
        try await a.insert([ClickHouseAuditTests.event("acme", "past", ts: t - 10)])
        var follower = AuditFollower(AuditQuery(tenant: acme, limit: 50))
        follower.start(after: try await a.audit(AuditQuery(tenant: acme, limit: 50)), now: now)
        try await a.insert([ClickHouseAuditTests.event("acme", "ahead", ts: t + 600)])
        let first = try await follower.poll(a, now: now)
        #expect(first.map(\.eventID) == ["ahead"] && first[0].isAhead(of: now))
        try await a.insert([ClickHouseAuditTests.event("acme", "real-1", ts: t + 1), ClickHouseAuditTests.event("acme", "real-2", ts: t + 2)])
        let later = try await follower.poll(a, now: now + 3)
        #expect(later.map(\.eventID) == ["real-1", "real-2"], "the real events after the row dated ahead still appear")
        #expect(try await follower.poll(a, now: now + 4).isEmpty, "and the row dated ahead is not shown twice")
        #expect(try await follower.poll(a, now: now + 700).isEmpty, "nor when the clock reaches it")
    }

    /// Paging back by (ts, ts_ms, event_id) skips nothing of a second shared by a page boundary;
    /// a prefix filter matches literally.
    @Test func pagingBackAndPrefixFilters() async throws {
        let a = try await ClickHouseAuditTests.audit("tollgate_t10")
        let acme = try TenantID("acme")
        var rows: [AuditEvent] = []
        for i in 0..<9 {
            var e = ClickHouseAuditTests.event("acme", "e\(i)", ts: 1_795_800_000 + Int64(i / 3))   // three rows a second
            e.action = i % 2 == 0 ? "key.rotate" : "key%_x"
            rows.append(e)
        }
        var other = ClickHouseAuditTests.event("acme-eu", "other", ts: 1_795_800_001)
        other.action = "key.rotate"
        try await a.insert(rows + [other])
        var seen: [String] = []
        var q = AuditQuery(tenant: acme, limit: 4)
        while true {
            let page = try await a.audit(q)
            seen += page.map(\.eventID)
            guard page.count == q.limit, let last = page.last else { break }
            q.olderThan = AuditCursor(last)
        }
        #expect(seen.count == 9 && Set(seen) == Set(rows.map(\.eventID)), "every row once, none of acme-eu: \(seen)")
        let keyPrefix = try AuditQuery.typed(acme, action: "key.*", now: 1_795_900_000)
        #expect(try await a.audit(keyPrefix).count == 5, "key.* is a literal prefix: key%_x does not match")
        let wildcard = try AuditQuery.typed(acme, action: "key%*", now: 1_795_900_000)
        #expect(try await a.audit(wildcard).map(\.action).allSatisfy { $0 == "key%_x" })
        let injected = try AuditQuery.typed(acme, action: "' OR 1=1 --*", now: 1_795_900_000)
        #expect(try await a.audit(injected).isEmpty)
    }

    @Test(arguments: [("outcome", "ok", "must be one of success, denied, error"), ("since", "9999999999", "what ClickHouse's DateTime holds"),
                      ("until", "1969-12-31T23:59:59Z", "must be"), ("action", "k*y", "a prefix ending in *")])
    func badFiltersAreRefusedByName(_ field: String, _ value: String, _ rule: String) throws {
        let acme = try TenantID("acme")
        #expect {
            switch field {
            case "outcome": _ = try AuditQuery.typed(acme, outcome: value, now: 1_795_800_000)
            case "since": _ = try AuditQuery.typed(acme, since: value, now: 1_795_800_000)
            case "until": _ = try AuditQuery.typed(acme, until: value, now: 1_795_800_000)
            default: _ = try AuditQuery.typed(acme, action: value, now: 1_795_800_000)
            }
        } throws: { error in
            "\(error)".contains("invalid \(field) ") && "\(error)".contains(rule)
        }
    }
}

@Suite(.enabled(if: TestServices.configured, "run through `make test`, which starts ClickHouse"))
struct AuditSpoolTests {
    static func tempSpool() -> AuditSpool {
        AuditSpool(path: FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-spool-\(UUID().uuidString)/audit-spool.jsonl").path)
    }

    @Test func appendIsDurableAndPrivate() throws {
        let spool = Self.tempSpool()
        try spool.append(ClickHouseAuditTests.event("acme", "s1", ts: 1_795_800_000, detail: "{\"before\":1,\"after\":2}"))
        #expect(try spool.pending().map(\.eventID) == ["s1"])
        let mode = try FileManager.default.attributesOfItem(atPath: spool.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    /// A spool made looser than it should be (a 0644 file in a 0777 folder) is mended on the next
    /// use; one in a shared sticky folder such as /tmp is fine as it is.
    @Test func aLooserSpoolIsMadePrivateAgain() throws {
        let spool = Self.tempSpool()
        try spool.append(ClickHouseAuditTests.event("acme", "m1", ts: 1_795_800_000))
        let dir = (spool.path as NSString).deletingLastPathComponent
        chmod(dir, 0o777)
        chmod(spool.path, 0o644)
        try spool.append(ClickHouseAuditTests.event("acme", "m2", ts: 1_795_800_001))
        func mode(_ p: String) -> Int? { (try? FileManager.default.attributesOfItem(atPath: p))?[.posixPermissions] as? Int }
        #expect(mode(dir) == 0o700 && mode(spool.path) == 0o600 && mode(spool.path + ".lock") == 0o600)
        #expect(try spool.pending().map(\.eventID) == ["m1", "m2"], "nothing lost")
        func rawMode(_ p: String) -> mode_t { var st = stat(); return stat(p, &st) == 0 ? st.st_mode & 0o7777 : 0 }
        let tmp = NSTemporaryDirectory(), before = rawMode(tmp)
        let shared = AuditSpool(path: tmp + "tollgate-spool-\(UUID().uuidString).jsonl")
        try shared.append(ClickHouseAuditTests.event("acme", "m3", ts: 1_795_800_002))
        #expect(rawMode(tmp) == before, "a shared folder is left as it is")
        #expect(mode(shared.path) == 0o600)
    }

    @Test func nothingIsLostWhileClickHouseIsDown() async throws {
        let spool = Self.tempSpool()
        let events = (0..<25).map { ClickHouseAuditTests.event("acme", "s\($0)", ts: 1_795_800_000 + Int64($0)) }
        for e in events { try spool.append(e) }
        let down = try ClickHouseAudit(client: ClickHouseClient(ClickHouseURL(host: "127.0.0.1", port: 1), connectTimeout: 0.5, timeout: 1))
        await #expect(throws: BackendError.self) { try await spool.drain(to: down) }
        #expect(try spool.pending().count == 25)

        let up = try await ClickHouseAuditTests.audit("tollgate_t6")
        #expect(try await spool.drain(to: up, batch: 10) == 25)
        #expect(try spool.pending().isEmpty)
        let arrived = try await up.audit(AuditQuery(tenant: try TenantID("acme"), limit: 100))
        #expect(Set(arrived.map(\.eventID)) == Set(events.map(\.eventID)))
        #expect(try await spool.drain(to: up) == 0)
    }

    @Test func aTornLineIsKeptAsideAndTheRestDelivered() async throws {
        let spool = Self.tempSpool()
        try spool.append(ClickHouseAuditTests.event("acme", "ok1", ts: 1_795_800_000))
        let fd = open(spool.path, O_WRONLY | O_APPEND)
        _ = "{\"tenant_id\":\"acme\",\"ts\":17".withCString { write(fd, $0, strlen($0)) }
        _ = "\n".withCString { write(fd, $0, 1) }
        close(fd)
        try spool.append(ClickHouseAuditTests.event("acme", "ok2", ts: 1_795_800_001))
        let up = try await ClickHouseAuditTests.audit("tollgate_t7")
        #expect(try await spool.drain(to: up) == 2)
        let rejected = try String(contentsOfFile: spool.path + ".rejected", encoding: .utf8)
        #expect(rejected.contains("\"ts\":17"))
    }

    /// Ten processes act while ClickHouse is frozen (SIGSTOP) and each tries to deliver the
    /// shared spool; their inserts time out, but ClickHouse applies what it had received once it
    /// thaws. One delivers at a time, and none resends what already arrived: each event is
    /// stored once.
    @Test func aFrozenClickHouseStoresEachEventOnce() async throws {
        let services = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/services.sh").path
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-spool-ch-\(UUID().uuidString)").path
        let started = await Child.exit(try Child.spawn("/bin/bash", [services, "clickhouse", dir]))
        defer { _ = try? Child.wait(Child.spawn("/bin/bash", [services, "stop", dir])); try? FileManager.default.removeItem(atPath: dir) }
        try #require(started == 0)
        let env = try String(contentsOfFile: dir + "/env", encoding: .utf8)
        let url = try ClickHouseURL(parsing: try #require(env.split(separator: "=").last).trimmingCharacters(in: .whitespacesAndNewlines))
        let pid = try #require(pid_t(try String(contentsOfFile: dir + "/clickhouse.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let patient = try ClickHouseAudit(client: ClickHouseClient(url), database: "spool_once")
        try await patient.applySchema()
        let path = Self.tempSpool().path

        kill(pid, SIGSTOP)
        var frozen = true
        defer { if frozen { kill(pid, SIGCONT) } }
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<10 {
                group.addTask {
                    // A process of its own: its spool handle and its ClickHouse connection.
                    let spool = AuditSpool(path: path)
                    try? spool.append(ClickHouseAuditTests.event("acme", "once-\(i)", ts: 1_795_800_000 + Int64(i)))
                    let hasty = try? ClickHouseAudit(client: ClickHouseClient(url, connectTimeout: 0.5, timeout: 0.5), database: "spool_once")
                    if let hasty { _ = try? await spool.drain(to: hasty) }
                }
            }
        }
        kill(pid, SIGCONT)
        frozen = false
        #expect(try await AuditSpool(path: path).drain(to: patient) >= 0)
        try await Task.sleep(nanoseconds: 500_000_000)   // what ClickHouse received while frozen is applied by now
        _ = try await AuditSpool(path: path).drain(to: patient)
        let counts = String(decoding: try await patient.client.execute(
            "SELECT event_id, count() FROM spool_once.audit_log GROUP BY event_id ORDER BY event_id FORMAT TabSeparated"), as: UTF8.self)
        let rows = counts.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        #expect(rows.count == 10 && rows.allSatisfy { $0.count == 2 && $0[1] == "1" }, "\(counts)")
        #expect(try AuditSpool(path: path).pending().isEmpty)
    }

    @Test func concurrentAppendsStayWhole() async throws {
        let spool = Self.tempSpool()
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<200 {
                group.addTask { try? spool.append(ClickHouseAuditTests.event("acme", "c\(i)", ts: 1_795_800_000, detail: String(repeating: "d", count: 5000))) }
            }
        }
        #expect(try spool.pending().count == 200)
    }
}

@Suite(.enabled(if: TestServices.configured, "run through `make test`, which starts ClickHouse"))
struct KeyUsageTests {
    @Test func totalsAndPerMinuteSeries() async throws {
        let audit = try await ClickHouseAuditTests.audit("tollgate_t8")
        let now: Int64 = 1_795_800_030          // 30 s into a minute
        let minute = now / 60 * 60
        // (seconds ago, key, status, tokens in, tokens out)
        let rows: [(Int64, String, Int, Int, Int)] = [
            (10, "k1", 200, 100, 10), (20, "k1", 429, 0, 0), (70, "k2", 500, 5, 0), (3_000, "k1", 200, 1, 1),
            (7_200, "k1", 200, 1_000, 1_000), (90_000, "k1", 200, 9, 9),
        ]
        let values = rows.map { r in "('acme', toDateTime(\(now - r.0)), \(SQL.literal(r.1)), 'chat', \(r.2), \(r.3), \(r.4), 12)" }
        _ = try await audit.client.execute("INSERT INTO tollgate_t8.key_usage VALUES " + values.joined(separator: ", ")
                                           + ", ('globex', toDateTime(\(now - 5)), 'k1', 'chat', 200, 7, 7, 1)")
        let usage = try ClickHouseUsage(client: audit.client, database: "tollgate_t8", clock: FixedClock(Double(now)))
        let t = try await usage.usage(tenant: TenantID("acme"), key: nil)
        #expect(t.lastHour.requests == 4 && t.lastHour.errors == 2 && t.lastHour.denials == 1)
        #expect(t.lastHour.tokensIn == 106 && t.lastHour.tokensOut == 11)
        #expect(t.lastDay.requests == 5 && t.lastDay.tokensIn == 1_106)
        #expect(t.perMinute.count == 60 && t.seriesStart == minute - 59 * 60)
        #expect(t.perMinute[59].requests == 2)     // 10 s and 20 s ago: this minute
        #expect(t.perMinute[58].requests == 1)     // 70 s ago
        #expect(t.perMinute.reduce(0) { $0 + $1.requests } == 4)
        let k1 = try await usage.usage(tenant: TenantID("acme"), key: KeyID("k1"))
        #expect(k1.lastHour.requests == 3 && k1.lastHour.errors == 1 && k1.lastDay.requests == 4)
    }

    /// Errors split into 4xx, 429 and 5xx; latency quantiles; per key and route.
    @Test func errorClassesLatencyAndKeysByRoute() async throws {
        let audit = try await ClickHouseAuditTests.audit("tollgate_t11")
        let now: Int64 = 1_795_800_030
        // (seconds ago, key, route, status, latency ms)
        let rows: [(Int64, String, String, Int, Int)] = [
            (10, "k1", "chat", 200, 100), (11, "k1", "chat", 200, 200), (12, "k1", "chat", 404, 300), (13, "k1", "chat", 429, 400),
            (14, "k1", "embeddings", 503, 2_000), (15, "k2", "chat", 200, 50), (7_200, "k2", "chat", 401, 10),
        ]
        let values = rows.map { r in "('acme', toDateTime(\(now - r.0)), \(SQL.literal(r.1)), \(SQL.literal(r.2)), \(r.3), 1, 1, \(r.4))" }
        _ = try await audit.client.execute("INSERT INTO tollgate_t11.key_usage VALUES " + values.joined(separator: ", "))
        let usage = try ClickHouseUsage(client: audit.client, database: "tollgate_t11", clock: FixedClock(Double(now)))
        let r = try await usage.usage(tenant: TenantID("acme"), key: nil)
        #expect(r.lastHour.clientErrors == 1 && r.lastHour.denials == 1 && r.lastHour.serverErrors == 1 && r.lastHour.errors == 3)
        #expect(r.lastDay.clientErrors == 2, "the 401 of two hours ago counts in the day only")
        #expect(r.lastHour.p50.map { $0 >= 100 && $0 <= 300 } == true && r.lastHour.p95.map { $0 >= 400 } == true)
        let chat = try #require(r.rows.first { $0.key == "k1" && $0.route == "chat" })
        #expect(chat.lastHour.requests == 4 && chat.lastHour.clientErrors == 1 && chat.lastHour.denials == 1)
        #expect(r.rows.map { "\($0.key) \($0.route)" } == ["k1 chat", "k2 chat", "k1 embeddings"], "busiest first")
        #expect(r.perMinute.reduce(0) { $0 + $1.serverErrors } == 1)
    }
}
