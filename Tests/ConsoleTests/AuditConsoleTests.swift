import Backends
import Foundation
import TestSupport
import Testing

/// The audit and usage screens of the real binary, in tmux, on the real ClickHouse 18.16 and Redis
/// of `make test`: following while rows are inserted, a row dated ahead, hostile rows, paging back,
/// filters matched literally, nothing of acme-eu, an action of the console in its audit; and a
/// ClickHouse of the test's own frozen with SIGSTOP under the open audit screen and `--follow`.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_CLICKHOUSE"] != nil, "run through `make test`"))
struct AuditConsoleTests {
    static let env = ProcessInfo.processInfo.environment
    static let redisURL = "redis://\(env["TOLLGATE_TEST_REDIS"] ?? "")/30"   // a database no other test uses
    static let db = "tollgate_console_audit"
    static let acme = try! TenantID("acme")

    static func event(_ id: String, ts: Int64, action: String, actor: String = "ops:alice", resource: String = "route/chat",
                      outcome: String = "success", detail: String = "{}", tenant: TenantID = acme) -> AuditEvent {
        AuditEvent(tenant: tenant, ts: ts, tsMs: 0, eventID: id, actor: actor, actorType: "operator", action: action, resource: resource,
                   outcome: outcome, ip: "10.0.0.1", requestID: "req-\(id)", detail: detail)
    }

    /// Redis with acme and acme-eu (and a few others); `url`'s ClickHouse with acme's history.
    static func seed(clickhouse url: String, now: Int64) async throws -> ClickHouseAudit {
        let redis = RedisAuto(try RedisURL(parsing: redisURL))
        var s = ContractSeed(now: now)
        for name in ["acme", "acme-eu"] + (0..<50).map({ "tenant-\($0)" }) {
            let t = try TenantID(name)
            s.tenant(t)
            s.route(t, try Route("chat.completions"), policy: try LimitPolicy(limit: 600, window: 60), count: 10)
        }
        _ = try await redis.pipeline([["FLUSHDB"]] + s.commands)

        let audit = try ClickHouseAudit(client: ClickHouseClient(try ClickHouseURL(parsing: url)), database: db)
        _ = try await audit.client.execute("DROP DATABASE IF EXISTS \(db)")
        try await audit.applySchema()
        // 260 old denials, the oldest on route/the-oldest: more than the first page of 200.
        var rows = (0..<260).map { i in
            event("old-\(i)", ts: now - 3_600 - Int64(i) * 10, action: "request.denied", actor: "k_old", resource: i == 259 ? "route/the-oldest" : "route/chat",
                  outcome: "denied")
        }
        rows += [
            event("kc-1", ts: now - 600, action: "key.create"),
            event("kx-1", ts: now - 590, action: "keyXrotate"),       // what `key_*` would match as a LIKE pattern
            event("kl-1", ts: now - 580, action: "key_legacy"),
            event("ob-1", ts: now - 570, action: "sessions.logout", actor: "o'brien", detail: "{\"why\":\"end of shift\",\"n\":[1,2]}"),
            event("hostile-1", ts: now - 560, action: "auth.failed", actor: "\u{1B}]0;pwned\u{7}\u{1B}[2Jmallory", outcome: "error",
                  detail: "{\"x\":\"\u{1B}[31mred\u{202E}\"}"),
            event("ahead-1", ts: now + 600, action: "clock.skew"),     // a gateway whose clock runs ten minutes fast
            event("eu-1", ts: now - 30, action: "eu.only", actor: "eu-actor-marker", tenant: try TenantID("acme-eu")),
        ]
        try await audit.insert(rows)
        return audit
    }

    static func console(_ t: Tmux, clickhouse: String, extra: String = "") async {
        let spool = t.dir.appendingPathComponent("spool.jsonl").path
        t.start("\(Tmux.binary) --redis \(redisURL) --clickhouse \(clickhouse) --clickhouse-database \(db) --spool \(spool) --refresh 0.5 \(extra)",
                environment: "USER=ops-test")
        _ = try? await t.waitFor("the fleet") { $0.contains("/52") }
    }

    static func open(_ t: Tmux, _ command: String) {
        t.keys(":")
        t.keys(command, literal: true)
        t.keys("Enter")
    }

    @Test func followPagingFiltersAndHostileRows() async throws {
        let now = Int64(SystemClock().now())
        let ch = try #require(Self.env["TOLLGATE_TEST_CLICKHOUSE"])
        let audit = try await Self.seed(clickhouse: ch, now: now)
        let t = try Tmux(width: 200, height: 50)
        defer { t.kill() }
        await Self.console(t, clickhouse: ch)
        Self.open(t, "audit acme")
        // The row dated ahead shown and marked, the hostile row escaped.
        let first = try await t.waitFor("acme's audit") {
            $0.contains("following") && $0.contains("200 loaded") && $0.contains("ahead ") && $0.contains("clock.skew")
                && $0.contains("operator:\\x1B]0;pwned\\x07") && $0.contains("{\"x\":\"\\x1B[31mred\\u{202E}\"}")
        }
        #expect(!first.contains("eu.only") && !first.contains("eu-actor-marker"), "nothing of acme-eu")
        let title = try Tmux.tmux(["-L", t.socket, "display-message", "-p", "-t", "0", "#{pane_title}"]).stdout
        #expect(!title.contains("pwned"), "no escape sequence from the data reached the terminal")

        // Following: rows inserted now show, though a row ten minutes ahead is already loaded.
        try await audit.insert([Self.event("live-1", ts: Int64(SystemClock().now()), action: "live.one")])
        _ = try await t.waitFor("the first live row") { $0.contains("live.one") }
        try await audit.insert([Self.event("live-2", ts: Int64(SystemClock().now()), action: "live.two")])
        _ = try await t.waitFor("the second live row, each row once") {
            $0.contains("live.two") && $0.contains("202 loaded") && $0.components(separatedBy: "live.one").count == 2
        }

        // Paused, new rows wait and are counted; resuming shows them.
        t.keys("p")
        _ = try await t.waitFor("paused") { $0.contains("PAUSED: 0 new rows wait") }
        try await audit.insert([Self.event("live-3", ts: Int64(SystemClock().now()), action: "live.three")])
        _ = try await t.waitFor("the waiting row counted, not shown") { $0.contains("PAUSED: 1 new rows wait") && !$0.contains("live.three") }
        t.keys("p")
        _ = try await t.waitFor("the waiting row shown") { $0.contains("live.three") && $0.contains("following") }

        // Paging back: past the last loaded row, the older ones, down to the first.
        t.keys("G")
        _ = try await t.waitFor("the older page") { $0.contains("all 269 loaded") }
        t.keys("G")
        _ = try await t.waitFor("the oldest row") { $0.contains("route/the-oldest") }

        // Search highlights and jumps; Enter opens the event with its detail as JSON.
        t.keys("g")
        t.keys("/")
        t.keys("o'brien", literal: true)
        t.keys("Enter")
        _ = try await t.waitFor("the search") { $0.contains("search \"o'brien\": 1 matches") }
        t.keys("Enter")
        _ = try await t.waitFor("the event, its detail as JSON") {
            $0.contains("event_id    ob-1") && $0.contains("\"why\" : \"end of shift\"") && $0.contains("request_id  req-ob-1")
        }
        t.keys("Escape")

        // Filters are literal: `key_*` is the prefix key_, not a LIKE pattern; SQL in a value is text.
        t.keys("Escape")   // clear the search
        t.keys("f")
        t.keys("key_*", literal: true)
        t.keys("Enter")
        _ = try await t.waitFor("key_legacy alone") {
            $0.contains("action key_*") && $0.contains("1 loaded") && $0.contains("key_legacy") && !$0.contains("keyXrotate") && !$0.contains("key.create")
        }
        t.keys("f")
        t.keys("C-u")
        t.keys("key.*", literal: true)
        t.keys("Enter")
        _ = try await t.waitFor("key.create alone") {
            $0.contains("action key.*") && $0.contains("1 loaded") && $0.contains("key.create") && !$0.contains("keyXrotate") && !$0.contains("key_legacy")
        }
        t.keys("f")
        t.keys("C-u")
        t.keys("Tab")
        t.keys("' OR 1=1 --", literal: true)
        t.keys("Enter")
        _ = try await t.waitFor("nothing matches") { $0.contains("no audit event of acme matches the filters") }
        t.keys("f")
        t.keys("Tab")
        t.keys("C-u")
        t.keys("o'brien", literal: true)
        t.keys("Tab")
        t.keys("nope", literal: true)
        t.keys("Enter")
        _ = try await t.waitFor("the refused outcome") { $0.contains("invalid outcome \"nope\": must be one of success, denied, error") }
        t.keys("Escape")

        // An action taken in the console is in its audit screen: the spool goes out before the read.
        Self.open(t, "tenant acme")
        _ = try await t.waitFor("acme's detail") { $0.contains("tenant acme ‹") && $0.contains("chat.completions") }
        t.keys("t")
        t.keys("Up")
        t.keys("C-u")
        t.keys("_all", literal: true)
        t.keys("Tab")
        t.keys("5", literal: true)
        t.keys("Tab")
        t.keys("Tab")
        t.keys("from the console test", literal: true)
        t.keys("Enter")
        _ = try await t.waitFor("the throttle") { $0.contains("throttle.set acme route/_all: done, limit 5") }
        Self.open(t, "audit")
        _ = try await t.waitFor("the throttle in the audit") { $0.contains("audit acme ‹") && $0.contains("throttle.set") && $0.contains("operator:local:ops-test") }

        // Key usage of the tenant, from the real key_usage table.
        let usage = (0..<30).map { i in "('acme', toDateTime(\(now - Int64(i) * 30)), 'k_live', 'chat.completions', \(i % 10 == 0 ? 503 : 200), 10, 5, \(100 + i))" }
        _ = try await audit.client.execute("INSERT INTO \(Self.db).key_usage VALUES " + usage.joined(separator: ", "))
        Self.open(t, "usage acme")
        _ = try await t.waitFor("the usage") { $0.contains("usage acme ‹") && $0.contains("k_live chat.completions") && $0.contains("last hour: 30 requests · 0 4xx · 0 429 · 3 5xx") }
        t.keys("q")
        #expect(try await t.waitForExit() == "0")
    }

    /// A ClickHouse of this test's own, frozen with SIGSTOP for 30 s: the audit pane says it stalled
    /// and since when, keys still answer, and the follow resumes by itself; `audit tail --follow` retries.
    @Test func aFrozenClickHouse() async throws {
        let services = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/services.sh").path
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-frozen-ch-\(getpid())").path
        let started = try await Tmux.run("/bin/bash", [services, "clickhouse", dir])
        defer { _ = try? Child.wait(Child.spawn("/bin/bash", [services, "stop", dir])); try? FileManager.default.removeItem(atPath: dir) }
        try #require(started.status == 0, "\(started.stderr)")
        let envFile = try String(contentsOfFile: dir + "/env", encoding: .utf8)
        let url = try #require(envFile.split(separator: "=").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        let pid = try #require(pid_t(try String(contentsOfFile: dir + "/clickhouse.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let audit = try await Self.seed(clickhouse: url, now: Int64(SystemClock().now()))

        let t = try Tmux(width: 120, height: 30), cli = try Tmux(width: 200, height: 20)
        var frozen = false
        defer {
            if frozen { kill(pid, SIGCONT) }
            t.kill()
            cli.kill()
        }
        await Self.console(t, clickhouse: url, extra: "--clickhouse-timeout 1")
        Self.open(t, "audit acme")
        _ = try await t.waitFor("acme's audit") { $0.contains("following") && $0.contains("200 loaded") }
        cli.start("\(Tmux.binary) audit tail --tenant acme --follow --limit 3 --clickhouse \(url) --clickhouse-database \(Self.db) --clickhouse-timeout 1 "
                  + "--spool \(cli.dir.path)/spool.jsonl")
        _ = try await cli.waitFor("the CLI's tail") { $0.contains("clock.skew") }

        kill(pid, SIGSTOP)
        frozen = true
        let frozenAt = SystemClock().now()
        let stalled = try await t.waitFor("the stall") { $0.contains("ClickHouse stalled: no answer since") }
        #expect(stalled.contains("clock.skew"), "the loaded rows stay on screen")
        t.keys("?")
        _ = try await t.waitFor("the help, while ClickHouse is frozen") { $0.contains("these keys") || $0.contains("command mode") }
        t.keys("Escape")
        Self.open(t, "tenant acme")
        _ = try await t.waitFor("acme's detail from Redis, while ClickHouse is frozen") { $0.contains("tenant acme ‹") && $0.contains("chat.completions") }
        t.keys("[")
        _ = try await t.waitFor("back on the audit") { $0.contains("audit acme ‹") && $0.contains("stalled") }
        for _ in 0..<100 {
            if (try? String(contentsOf: cli.dir.appendingPathComponent("stderr"), encoding: .utf8))?.contains("ClickHouse stalled") == true { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        let stderr = try String(contentsOf: cli.dir.appendingPathComponent("stderr"), encoding: .utf8)
        #expect(stderr.contains("ClickHouse stalled") && stderr.contains("retrying every 3 s"), "\(stderr)")
        #expect(!FileManager.default.fileExists(atPath: cli.dir.appendingPathComponent("status").path), "the CLI's follow is still running")
        // Frozen for 30 s in all: the screen keeps saying so and keeps answering keys.
        while SystemClock().now() - frozenAt < 30 {
            t.keys("?")
            _ = try await t.waitFor("the help, \(Int(SystemClock().now() - frozenAt)) s into the freeze") { $0.contains("these keys") || $0.contains("command mode") }
            t.keys("Escape")
            _ = try await t.waitFor("still stalled") { $0.contains("audit acme ‹") && $0.contains("stalled") && $0.contains("clock.skew") }
            try await Task.sleep(nanoseconds: 2_000_000_000)
        }

        kill(pid, SIGCONT)
        frozen = false
        try await audit.insert([Self.event("after-thaw", ts: Int64(SystemClock().now()), action: "after.thaw")])
        _ = try await t.waitFor("the follow resumed") { $0.contains("after.thaw") && $0.contains("following") && !$0.contains("stalled") }
        _ = try await cli.waitFor("the CLI resumed") { $0.contains("after.thaw") }
        let again = try String(contentsOf: cli.dir.appendingPathComponent("stderr"), encoding: .utf8)
        #expect(again.contains("ClickHouse answers again after"), "\(again)")
        t.keys("q")
        #expect(try await t.waitForExit() == "0")
    }
}
