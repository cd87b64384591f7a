import Backends
import Foundation
import Testing

/// `tollgate schema apply` and `tollgate audit tail` against the real ClickHouse of `make test`,
/// with no Redis configured.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_CLICKHOUSE"] != nil, "run through `make test`"))
struct AuditCommandTests {
    static let url = ProcessInfo.processInfo.environment["TOLLGATE_TEST_CLICKHOUSE"] ?? ""
    static let db = "tollgate_cli"
    static let spool = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-cli-spool-\(getpid()).jsonl").path

    static func tollgate(_ args: [String]) async throws -> Tmux.Output {
        try await Tmux.run(Tmux.binary, args + ["--clickhouse", url, "--clickhouse-database", db, "--spool", spool])
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_CLICKHOUSE_SHARDS"] != nil, "needs the two shards of `make test`"))
    func schemaApplyOverAClusterOfShards() async throws {
        let env = ProcessInfo.processInfo.environment
        let shards = try #require(env["TOLLGATE_TEST_CLICKHOUSE_SHARDS"]).split(separator: ",").map(String.init)
        let cluster = try #require(env["TOLLGATE_TEST_CLICKHOUSE_CLUSTER"])
        let db = "tollgate_cli_cluster"
        for s in shards { _ = try await ClickHouseClient(try ClickHouseURL(parsing: s)).execute("DROP DATABASE IF EXISTS \(db)") }
        // A spool of its own: a schema apply delivers its spool, and the other tests' events are not for these shards.
        let spool = Self.spool + ".cluster"
        func apply(_ args: [String]) async throws -> Tmux.Output {
            try await Tmux.run(Tmux.binary, ["schema", "apply", "--clickhouse", shards[1], "--clickhouse-database", db, "--spool", spool] + args)
        }

        let laid = try await apply(["--cluster", cluster, "--shard", shards[0]])
        #expect(laid.status == 0, "\(laid.stderr)")
        #expect(laid.stdout.contains("schema ready on cluster \(cluster), 2 shards") && laid.stdout.contains("\(db).audit_log and \(db).key_usage are Distributed"))
        #expect(try await apply(["--cluster", cluster, "--shard", shards[0]]).status == 0)   // idempotent

        let missing = try await apply(["--cluster", cluster])
        #expect(missing.status == 1 && missing.stderr.contains("no server given for shard 1 of cluster \(cluster)"), "\(missing.stderr)")
        let lone = try await apply(["--shard", shards[0]])
        #expect(lone.status == 2 && lone.stderr.contains("--shard needs --cluster NAME"), "\(lone.stderr)")
        let secret = try await apply(["--cluster", cluster, "--shard", shards[0].replacingOccurrences(of: "http://", with: "http://default:hunter2@")])
        #expect(secret.status == 2 && secret.stderr.contains("a password in --shard") && !secret.stderr.contains("hunter2"), "\(secret.stderr)")
    }

    @Test func schemaApplyThenTailWithJSONAndSpoolDelivery() async throws {
        let client = ClickHouseClient(try ClickHouseURL(parsing: Self.url))
        _ = try await client.execute("DROP DATABASE IF EXISTS \(Self.db)")
        let first = try await Self.tollgate(["schema", "apply"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try await Self.tollgate(["schema", "apply"]).status == 0)

        // An event left in the spool by an earlier run goes out with this one.
        try AuditSpool(path: Self.spool).append(AuditEvent(tenant: try TenantID("acme"), ts: 1_795_800_000, tsMs: 7, eventID: "spooled-1",
                                                           actor: "ops:alice", actorType: "operator", action: "throttle.set",
                                                           resource: "route/_all", outcome: "success", detail: "{\"after\":5}"))
        let audit = try ClickHouseAudit(client: client, database: Self.db)
        try await audit.insert([AuditEvent(tenant: try TenantID("acme"), ts: 1_795_800_001, tsMs: 42, eventID: "e-1", actor: "k_1",
                                           actorType: "apikey", action: "request.denied", resource: "route/chat", outcome: "denied",
                                           detail: "{\"evil\":\"\u{1B}[2J\"}")])
        let tail = try await Self.tollgate(["audit", "tail", "--tenant", "acme", "--json"])
        #expect(tail.status == 0, "\(tail.stderr)")
        #expect(tail.stderr.contains("delivered 1 spooled audit event"))
        // The spool goes out before the read, so the spooled event is in this very tail.
        let rows = try tail.stdout.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(rows.compactMap { $0["event_id"] as? String } == ["e-1", "spooled-1"])
        let obj = try #require(rows.first)
        #expect(obj["ts"] as? String == "2026-11-27T17:20:01.042Z")
        #expect(obj["detail"] as? String == "{\"evil\":\"\u{1B}[2J\"}")
        #expect(!tail.stdout.contains("\u{1B}"))   // JSON escapes it

        let again = try await Self.tollgate(["audit", "tail", "--tenant", "acme"])
        #expect(again.status == 0)
        #expect(again.stdout.contains("throttle.set") && again.stdout.contains("request.denied"))
        #expect(!again.stdout.contains("\u{1B}") && again.stdout.contains("\\x1B[2J"))
    }

    /// `audit show`, the text tail's columns, an empty result, prefixes, and refused filters.
    @Test func showPrefixesAndRefusals() async throws {
        let client = ClickHouseClient(try ClickHouseURL(parsing: Self.url))
        let db = "tollgate_cli_show"
        let audit = try ClickHouseAudit(client: client, database: db)
        _ = try await client.execute("DROP DATABASE IF EXISTS \(db)")
        try await audit.applySchema()
        let acme = try TenantID("acme")
        func e(_ id: String, _ action: String, ts: Int64) -> AuditEvent {
            AuditEvent(tenant: acme, ts: ts, tsMs: 0, eventID: id, actor: "ops:alice", actorType: "operator", action: action,
                       resource: "apikey/k_1", outcome: "success", ip: "10.1.2.3", requestID: "req-\(id)", detail: "{\"grace\":86400}")
        }
        try await audit.insert([e("a-1", "key.rotate", ts: 1_795_800_000), e("a-2", "keyXrotate", ts: 1_795_800_001),
                                e("a-3", "throttle.set", ts: 1_795_800_002)])
        func run(_ args: [String]) async throws -> Tmux.Output {
            try await Tmux.run(Tmux.binary, args + ["--clickhouse", Self.url, "--clickhouse-database", db, "--spool", Self.spool + ".show"])
        }

        let show = try await run(["audit", "show", "a-1", "--tenant", "acme"])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("request_id  req-a-1") && show.stdout.contains("ip          10.1.2.3"))
        #expect(show.stdout.contains("detail\n  {\n    \"grace\" : 86400\n  }"), "\(show.stdout)")
        let other = try await run(["audit", "show", "a-1", "--tenant", "acme-eu"])
        #expect(other.status == 1 && other.stderr.contains("no audit event \"a-1\" of tenant acme-eu"), "\(other.stderr)")

        let prefix = try await run(["audit", "tail", "--tenant", "acme", "--action", "key.*"])
        #expect(prefix.status == 0 && prefix.stdout.contains("key.rotate") && !prefix.stdout.contains("keyXrotate") && !prefix.stdout.contains("throttle"))
        #expect(prefix.stdout.contains("operator") && prefix.stdout.contains("10.1.2.3") && prefix.stdout.contains("req-a-1"), "\(prefix.stdout)")
        let none = try await run(["audit", "tail", "--tenant", "acme", "--action", "key_*"])
        #expect(none.status == 0 && none.stderr.contains("no audit events of acme match"), "\(none.stderr)")

        let outcome = try await run(["audit", "tail", "--tenant", "acme", "--outcome", "ok"])
        #expect(outcome.status == 2 && outcome.stderr.contains("invalid --outcome \"ok\": must be one of success, denied, error"), "\(outcome.stderr)")
        let early = try await run(["audit", "tail", "--tenant", "acme", "--since", "1960-01-01T00:00:00Z"])
        #expect(early.status == 2 && early.stderr.contains("1960-01-01T00:00:00Z"), "\(early.stderr)")
        let late = try await run(["audit", "tail", "--tenant", "acme", "--until", "2200-01-01T00:00:00Z"])
        #expect(late.status == 2 && late.stderr.contains("2200-01-01T00:00:00Z"), "\(late.stderr)")
    }

    /// A password on the command line would show in ps: refused; a file or the environment carries it.
    @Test func aClickHousePasswordStaysOutOfTheArguments() async throws {
        let host = Self.url.replacingOccurrences(of: "http://", with: "")
        let visible = try await Tmux.run(Tmux.binary, ["audit", "tail", "--tenant", "acme", "--clickhouse", "http://ops:hunter2@\(host)", "--spool", Self.spool])
        #expect(visible.status == 2 && visible.stderr.contains("a password in --clickhouse shows in the process list") && !visible.stderr.contains("hunter2"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-ch-pw-\(getpid())").path
        _ = FileManager.default.createFile(atPath: file, contents: Data("hunter2\n".utf8), attributes: [.posixPermissions: 0o600])
        defer { try? FileManager.default.removeItem(atPath: file) }
        let denied = try await Tmux.run(Tmux.binary, ["audit", "tail", "--tenant", "acme", "--clickhouse", "http://ops@\(host)",
                                                     "--clickhouse-password-file", file, "--spool", Self.spool])
        #expect(denied.status == 4, "ClickHouse refuses the unknown user: \(denied.stderr)")
        #expect(!denied.stderr.contains("hunter2"))
    }

    @Test func badInputAndDownServers() async throws {
        #expect(try await Self.tollgate(["audit", "tail", "--tenant", "ACME"]).status == 2)
        #expect(try await Self.tollgate(["audit", "tail", "--tenant", "acme", "--since", "soon"]).status == 2)
        #expect(try await Self.tollgate(["audit", "tail", "--tenant", "acme", "--limit", "0"]).status == 2)
        let down = try await Tmux.run(Tmux.binary, ["audit", "tail", "--tenant", "acme", "--clickhouse", "http://127.0.0.1:1", "--spool", Self.spool])
        #expect(down.status == 5)
        let none = try await Tmux.run(Tmux.binary, ["audit", "tail", "--tenant", "acme"])
        #expect(none.status == 2 && none.stderr.contains("--clickhouse"))
    }
}
