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

    static func tollgate(_ args: [String]) throws -> Tmux.Output {
        try Tmux.run(Tmux.binary, args + ["--clickhouse", url, "--clickhouse-database", db, "--spool", spool])
    }

    @Test func schemaApplyThenTailWithJSONAndSpoolDelivery() async throws {
        let client = ClickHouseClient(try ClickHouseURL(parsing: Self.url))
        _ = try await client.execute("DROP DATABASE IF EXISTS \(Self.db)")
        let first = try Self.tollgate(["schema", "apply"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try Self.tollgate(["schema", "apply"]).status == 0)

        // An event left in the spool by an earlier run goes out with this one.
        try AuditSpool(path: Self.spool).append(AuditEvent(tenant: try TenantID("acme"), ts: 1_795_800_000, tsMs: 7, eventID: "spooled-1",
                                                           actor: "ops:alice", actorType: "operator", action: "throttle.set",
                                                           resource: "route/_all", outcome: "success", detail: "{\"after\":5}"))
        let audit = try ClickHouseAudit(client: client, database: Self.db)
        try await audit.insert([AuditEvent(tenant: try TenantID("acme"), ts: 1_795_800_001, tsMs: 42, eventID: "e-1", actor: "k_1",
                                           actorType: "apikey", action: "request.denied", resource: "route/chat", outcome: "denied",
                                           detail: "{\"evil\":\"\u{1B}[2J\"}")])
        let tail = try Self.tollgate(["audit", "tail", "--tenant", "acme", "--json"])
        #expect(tail.status == 0, "\(tail.stderr)")
        #expect(tail.stderr.contains("delivered 1 spooled audit event"))
        // The spool goes out before the read, so the spooled event is in this very tail.
        let rows = try tail.stdout.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(rows.compactMap { $0["event_id"] as? String } == ["e-1", "spooled-1"])
        let obj = try #require(rows.first)
        #expect(obj["ts"] as? String == "2026-11-27T17:20:01.042Z")
        #expect(obj["detail"] as? String == "{\"evil\":\"\u{1B}[2J\"}")
        #expect(!tail.stdout.contains("\u{1B}"))   // JSON escapes it

        let again = try Self.tollgate(["audit", "tail", "--tenant", "acme"])
        #expect(again.status == 0)
        #expect(again.stdout.contains("throttle.set") && again.stdout.contains("request.denied"))
        #expect(!again.stdout.contains("\u{1B}") && again.stdout.contains("\\x1B[2J"))
    }

    @Test func badInputAndDownServers() throws {
        #expect(try Self.tollgate(["audit", "tail", "--tenant", "ACME"]).status == 2)
        #expect(try Self.tollgate(["audit", "tail", "--tenant", "acme", "--since", "soon"]).status == 2)
        #expect(try Self.tollgate(["audit", "tail", "--tenant", "acme", "--limit", "0"]).status == 2)
        let down = try Tmux.run(Tmux.binary, ["audit", "tail", "--tenant", "acme", "--clickhouse", "http://127.0.0.1:1", "--spool", Self.spool])
        #expect(down.status == 5)
        let none = try Tmux.run(Tmux.binary, ["audit", "tail", "--tenant", "acme"])
        #expect(none.status == 2 && none.stderr.contains("--clickhouse"))
    }
}
