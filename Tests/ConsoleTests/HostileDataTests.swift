import Backends
import Foundation
import Testing
import TestSupport

/// A public corpus of hostile strings (the Big List of Naughty Strings, and the escape sequences
/// of known terminal vulnerabilities: scripts/hostile-corpus.py) in every text field of Redis and
/// ClickHouse, read through every CLI output and every console screen: nothing reaches the
/// terminal raw, nothing crashes, and no view of one tenant shows another's data.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_CLICKHOUSE"] != nil, "run through `make test`"))
struct HostileDataTests {
    static let db = 35
    static let clickhouseDB = "tollgate_hostile"
    static var redisURL: String { "redis://\(ProcessInfo.processInfo.environment["TOLLGATE_TEST_REDIS"]!)/\(db)" }
    static var clickhouse: String { ProcessInfo.processInfo.environment["TOLLGATE_TEST_CLICKHOUSE"]! }
    static let tenants = 10
    /// What only the other tenant holds: a view of an `h-` tenant that shows it leaks.
    static let marker = "ZZB-OTHER-TENANT"

    static func corpus() async throws -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let out = try await Tmux.run("/usr/bin/env", ["python3", root.appendingPathComponent("scripts/hostile-corpus.py").path])
        #expect(out.status == 0, "\(out.stderr)")
        return try JSONDecoder().decode([String].self, from: Data(out.stdout.utf8))
    }

    static func id(_ j: Int) -> String { "h-" + String(format: "%03d", j) }

    /// Tenant j's text: every corpus string whose index is j modulo the tenant count, so every
    /// string is in every field of one tenant.
    static func text(_ corpus: [String], _ j: Int) -> String {
        stride(from: j, to: corpus.count, by: tenants).map { corpus[$0] }.joined(separator: " | ")
    }

    static func seed() async throws -> [String] {
        let corpus = try await Self.corpus()
        #expect(corpus.count > 150)
        let redis = RedisClient(try RedisURL(parsing: redisURL))
        let now = Int64(SystemClock().now())
        let month = YearMonth(containing: now).description
        var commands: [[String]] = [["FLUSHDB"]]
        var events: [AuditEvent] = []
        var usage: [String] = []
        for j in 0...tenants {
            let t = j == tenants ? "zzb-other" : id(j)
            let s = j == tenants ? marker : text(corpus, j)
            commands += [
                ["SADD", "gw:tenants", t, s],
                ["HSET", "{\(t)}:meta", "name", s, "tier", j % 2 == 0 ? s : "smb", "status", j % 3 == 0 ? s : "active", "realm", s, "group", s, "created_at", s],
                ["HSET", "{\(t)}:limits", "chat", "100/60", s, "100/60", "embeddings", s],
                ["SET", "rl:{\(t)}:chat:\(now / 60 * 60)", "150"],
                ["HSET", "{\(t)}:throttle:_all", "limit", "50", "reason", s, "actor", s, "set_at", String(now), "expires_at", String(now + 600)],
                ["HSET", "{\(t)}:budget:\(month)", "limit", "1000", "used", j % 2 == 0 ? "10" : s, "soft_pct", s, "hard", s],
                ["SADD", "{\(t)}:apikeys", "k1", s],
                ["HSET", "{\(t)}:apikey:k1", "label", s, "prefix", s, "sha256", s, "state", "active", "created_at", String(now - 100),
                 "created_by", s, "expires_at", "0", "scopes", s, "last_used_at", String(now)],
                ["SET", "{\(t)}:session:\(s)", s],
            ]
            let tenant = try TenantID(t)
            events.append(AuditEvent(tenant: tenant, ts: now - 5, tsMs: 1, eventID: "e-\(t)", actor: s, actorType: s, action: s, resource: s,
                                     outcome: s, ip: s, requestID: s, detail: s))
            let json = String(decoding: try JSONEncoder().encode(["user_agent": s, "prompt": s]), as: UTF8.self)
            events.append(AuditEvent(tenant: tenant, ts: now - 4, tsMs: 2, eventID: "f-\(t)", actor: s, actorType: "apikey", action: "auth.failed",
                                     resource: s, outcome: "error", ip: s, requestID: s, detail: json))
            usage.append("(\(SQL.literal(t)), \(now - 30), \(SQL.literal(s)), \(SQL.literal(s)), 429, 10, 20, 30)")
        }
        _ = try await redis.pipeline(commands)
        let audit = try ClickHouseAudit(client: ClickHouseClient(try ClickHouseURL(parsing: clickhouse)), database: clickhouseDB)
        _ = try await audit.client.execute("DROP DATABASE IF EXISTS \(clickhouseDB)")
        try await audit.applySchema()
        try await audit.insert(events)
        _ = try await audit.client.execute("INSERT INTO \(clickhouseDB).key_usage VALUES " + usage.joined(separator: ", "))
        return corpus
    }

    /// Whether a text holds a character that must never reach a terminal raw (line breaks and
    /// tabs of the output's own layout aside).
    static func raw(_ s: String) -> String? {
        s.unicodeScalars.first { $0 != "\n" && $0 != "\t" && SafeText.isUnsafe($0) }.map { String(format: "U+%04X", $0.value) }
    }

    @Test func everyCLIOutputIsCleanAndIsolated() async throws {
        _ = try await Self.seed()
        let stores = ["--redis", Self.redisURL, "--clickhouse", Self.clickhouse, "--clickhouse-database", Self.clickhouseDB,
                      "--spool", FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-hostile-spool-\(getpid())").path]
        var runs: [[String]] = [["tenants", "list"], ["tenants", "list", "--json"]]
        for j in 0..<Self.tenants {
            let t = Self.id(j)
            runs += [["tenants", "show", t], ["tenants", "show", t, "--json"], ["keys", "list", "--tenant", t], ["keys", "list", "--tenant", t, "--json"],
                     ["audit", "tail", "--tenant", t], ["audit", "tail", "--tenant", t, "--json"], ["audit", "show", "e-\(t)", "--tenant", t],
                     ["audit", "show", "f-\(t)", "--tenant", t, "--json"], ["usage", "--tenant", t], ["usage", "--tenant", t, "--json"]]
        }
        for args in runs {
            let r = try await Tmux.run(Tmux.binary, args + stores)
            let what = args.joined(separator: " ")
            #expect(r.status == 0 || r.status == 1, "\(what): exit \(r.status) \(r.stderr.prefix(300))")
            #expect(Self.raw(r.stdout) == nil, "\(what): raw \(Self.raw(r.stdout) ?? "") on stdout")
            #expect(Self.raw(r.stderr) == nil, "\(what): raw \(Self.raw(r.stderr) ?? "") on stderr")
            if args.contains("--json") && r.status == 0 {
                // `audit tail --json` is a JSON object per line, as `--follow` streams them.
                let documents = args[1] == "tail" ? r.stdout.split(separator: "\n").map(String.init) : [r.stdout]
                #expect(!documents.isEmpty && documents.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil }, "\(what): not JSON")
            }
            if args.count > 2 && args[0] != "tenants" || args.prefix(2) == ["tenants", "show"] {
                #expect(!r.stdout.contains(Self.marker), "\(what) shows another tenant's data")
            }
        }
    }

    /// Every screen of the console on the hostile fleet: the pane's title is never set from data,
    /// the console stays up on its alternate screen, and a tenant's screens show nothing of another.
    @Test func everyConsoleScreenIsCleanAndIsolated() async throws {
        _ = try await Self.seed()
        let t = try Tmux(width: 200, height: 50)
        defer { t.kill() }
        let spool = t.dir.appendingPathComponent("spool").path
        t.start("\(Tmux.binary) --redis \(Self.redisURL) --clickhouse \(Self.clickhouse) --clickhouse-database \(Self.clickhouseDB) --spool \(spool) --refresh 0.5")
        _ = try await t.waitFor("the overview") { $0.contains("21 tenants") || $0.contains("TENANT") }
        let title = try Tmux.tmux(["-L", t.socket, "display-message", "-p", "-t", "0", "#{pane_title}"]).stdout
        func check(_ name: String, isolated: Bool) throws {
            let screen = t.capture()
            #expect(Self.raw(screen) == nil, "\(name): \(screen)")
            if isolated { #expect(!screen.contains(Self.marker), "\(name) shows another tenant's data") }
            #expect(try Tmux.tmux(["-L", t.socket, "display-message", "-p", "-t", "0", "#{pane_title}"]).stdout == title, "\(name) set the title")
            #expect(try Tmux.tmux(["-L", t.socket, "display-message", "-p", "-t", "0", "#{alternate_on}"]).stdout.hasPrefix("1"), "\(name) left the alternate screen")
            #expect(!FileManager.default.fileExists(atPath: t.dir.appendingPathComponent("status").path), "\(name): the console ended")
        }
        try check("overview", isolated: false)
        var sawEscaped = false
        for j in [0, 1, 7, Self.tenants - 1] where j < Self.tenants {
            let id = Self.id(j)
            for (command, what) in [("tenant", "TENANT"), ("keys", "KEY"), ("audit", "audit"), ("usage", "usage")] {
                t.keys(":")
                t.keys("\(command) \(id)", literal: true)
                t.keys("Enter")
                _ = try await t.waitFor(":\(command) \(id)") { $0.contains(id) && $0.lowercased().contains(what.lowercased()) }
                try await Task.sleep(nanoseconds: 700_000_000)   // a refresh or two on the screen
                try check(":\(command) \(id)", isolated: true)
                let screen = t.capture()
                sawEscaped = sawEscaped || screen.contains("\\u{") || screen.contains("\\x")
                if command == "audit" {
                    t.keys("Enter")   // the newest event, whole
                    try await Task.sleep(nanoseconds: 500_000_000)
                    try check("the event of \(id)", isolated: true)
                    t.keys("Escape")
                }
            }
        }
        #expect(sawEscaped, "the hostile text is shown escaped, not dropped")
        t.keys("q")
        #expect(try await t.waitForExit() == "0")
        try await t.expectSaneTerminal()
    }
}
