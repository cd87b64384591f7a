import Foundation
import Testing
@testable import Backends

/// The Distributed layout over the two ClickHouse 18.16 shards `make test` starts (cluster
/// `tollgate_two_shards` in both servers' remote_servers; every query in their system.query_log).
@Suite(.serialized, .enabled(if: TestServices.env["TOLLGATE_TEST_CLICKHOUSE_SHARDS"] != nil, "run through `make test`, which starts two ClickHouse shards"))
struct ClickHouseClusterTests {
    static let cluster = TestServices.env["TOLLGATE_TEST_CLICKHOUSE_CLUSTER"] ?? "tollgate_two_shards"
    static var shards: [ClickHouseClient] {
        (TestServices.env["TOLLGATE_TEST_CLICKHOUSE_SHARDS"] ?? "").split(separator: ",").map { try! ClickHouseClient(ClickHouseURL(parsing: String($0)), timeout: 60) }
    }

    static func fresh(_ db: String) async throws -> [ClickHouseClient] {
        let shards = Self.shards
        for s in shards { _ = try await s.execute("DROP DATABASE IF EXISTS \(db)") }
        return shards
    }

    static func count(_ server: ClickHouseClient, _ sql: String) async throws -> Int {
        Int(String(decoding: try await server.execute(sql), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test func readsRunUnchangedOverTwoShardsAndEachShardReadsOnlyTheTenantsRange() async throws {
        let db = "cluster_reads"
        let shards = try await Self.fresh(db)
        // Either shard may be the one named first; the other comes as a shard of it.
        let laid = try await ClusterSchema(cluster: Self.cluster, database: db, servers: shards.reversed()).apply()
        #expect(laid.map(\.number) == [1, 2])
        try await ClusterSchema(cluster: Self.cluster, database: db, servers: shards).apply()   // idempotent
        for s in shards {
            let engines = String(decoding: try await s.execute("SELECT name, engine FROM system.tables WHERE database = '\(db)' ORDER BY name FORMAT TabSeparated"), as: UTF8.self)
            #expect(engines == "audit_log\tDistributed\naudit_log_local\tMergeTree\nkey_usage\tDistributed\nkey_usage_local\tMergeTree\n")
        }

        // 400,000 rows of 1,000 other tenants, then acme's own through the adapter, on the first shard.
        let now = Int64(Date().timeIntervalSince1970)
        _ = try await shards[0].execute("""
            INSERT INTO \(db).audit_log SELECT concat('t', toString(number % 1000)), toDateTime(\(now - 3000) + intDiv(number, 1000)), 0,
              toString(number), 'gateway', 'system', 'request.denied', 'route/x', 'denied', '', '', '{}' FROM system.numbers LIMIT 400000
            """, settings: SQLSchema.insertSettings)
        _ = try await shards[0].execute("""
            INSERT INTO \(db).key_usage SELECT concat('t', toString(number % 1000)), toDateTime(\(now - 3000) + intDiv(number, 1000)),
              'k_other', 'chat', 200, 1, 1, 5 FROM system.numbers LIMIT 400000
            """, settings: SQLSchema.insertSettings)
        let audit = try ClickHouseAudit(client: shards[0], database: db)
        let events = (0..<30).map { i in ClickHouseAuditTests.event("acme", "e\(i)", ts: now - 600 + Int64(i) * 10) }
        try await audit.insert(events + [ClickHouseAuditTests.event("acme-eu", "other", ts: now - 5)])
        let usage = try ClickHouseUsage(client: shards[0], database: db)
        let key = try KeyID("k_ACME0001")
        try await usage.insert((0..<40).map { i in
            KeyUsageRecord(tenant: try! TenantID("acme"), ts: now - 1200 + Int64(i) * 10, key: key, route: try! Route("chat.completions"),
                           status: i < 5 ? 429 : 200, tokensIn: 10, tokensOut: 20, latencyMs: 30)
        })

        // Both shards hold rows, and all of acme's are on one of them.
        var local: [Int] = []
        var acmeLocal: [Int] = []
        for s in shards {
            local.append(try await Self.count(s, "SELECT count() FROM \(db).audit_log_local"))
            acmeLocal.append(try await Self.count(s, "SELECT count() FROM \(db).audit_log_local WHERE tenant_id = 'acme'"))
        }
        #expect(local.allSatisfy { $0 > 100_000 } && local.reduce(0, +) == 400_031, "rows per shard: \(local)")
        #expect(acmeLocal.sorted() == [0, 30], "acme's rows per shard: \(acmeLocal)")

        // The reads, as the console and the CLI make them.
        let tail = try await audit.audit(AuditQuery(tenant: try TenantID("acme"), limit: 100))
        #expect(tail.map(\.eventID) == events.reversed().map(\.eventID))
        #expect(try await audit.arrived(events) == Set(events.map(\.eventID)))
        let report = try await usage.usage(tenant: try TenantID("acme"), key: nil)
        #expect(report.lastHour.requests == 40 && report.lastHour.denials == 5 && report.lastHour.tokensOut == 800)
        #expect(report.rows.map(\.key) == ["k_ACME0001"])

        // Each shard read only the tenant's range of the primary key: a few granules of 8,192 rows,
        // not its 200,000. The shard that was asked reads its part within the query itself; the
        // other gets the query rewritten to audit_log_local.
        for s in shards { _ = try await s.execute("SYSTEM FLUSH LOGS") }
        let reads = """
            SELECT max(read_rows) FROM system.query_log WHERE type = 2 AND position(query, '\(db).audit_log') > 0
              AND position(query, 'ORDER BY ts DESC') > 0 AND position(query, 'tenant_id = \\'acme\\'') > 0
            """
        let asked = try await Self.count(shards[0], reads + " AND is_initial_query")
        let other = try await Self.count(shards[1], reads + " AND NOT is_initial_query")
        #expect(asked > 0 && other >= 0, "query_log: the tail was not logged on the shard asked (\(asked))")
        #expect(try await Self.count(shards[1], reads.replacingOccurrences(of: "max(read_rows)", with: "count()") + " AND NOT is_initial_query") >= 1,
                "the other shard never got the tail")
        #expect(asked <= 3 * 8192 && other <= 3 * 8192, "rows read: \(asked) by the shard asked (both shards' reads), \(other) by the other")
    }

    @Test func refusesALayoutItCannotMakeAndChangesNothing() async throws {
        let db = "cluster_refusals"
        let shards = try await Self.fresh(db)

        // One shard alone: the other has no server.
        await #expect(throws: BackendError.self) { try await ClusterSchema(cluster: Self.cluster, database: db, servers: [shards[0]]).apply() }
        // The same shard twice.
        await #expect(throws: BackendError.self) { try await ClusterSchema(cluster: Self.cluster, database: db, servers: [shards[0], shards[0]]).apply() }
        // A cluster the servers do not know.
        let unknown = try ClusterSchema(cluster: "no_such_cluster", database: db, servers: shards)
        do throws(BackendError) {
            try await unknown.apply()
            Issue.record("an unknown cluster was laid out")
        } catch {
            #expect(error.description.contains("no cluster \"no_such_cluster\"") && error.description.contains(Self.cluster))
        }
        #expect(throws: ValidationError.self) { try ClusterSchema(cluster: "bad name", database: db, servers: shards) }
        for s in shards { #expect(try await Self.count(s, "SELECT count() FROM system.databases WHERE name = '\(db)'") == 0) }

        // The single-server layout on one shard: its audit_log holds rows a Distributed table would hide.
        try await ClickHouseAudit(client: shards[1], database: db).applySchema()
        let schema = try ClusterSchema(cluster: Self.cluster, database: db, servers: shards)
        do throws(BackendError) {
            try await schema.apply()
            Issue.record("a MergeTree audit_log was laid over")
        } catch {
            guard case .conflict = error else { Issue.record("not a conflict: \(error)"); return }
            #expect(error.description.contains("\(db).audit_log on shard 2") && error.description.contains("RENAME TABLE"))
        }
        #expect(try await Self.count(shards[0], "SELECT count() FROM system.databases WHERE name = '\(db)'") == 0, "the first shard was changed")
        #expect(try await Self.count(shards[1], "SELECT count() FROM system.tables WHERE database = '\(db)' AND name LIKE '%_local'") == 0)
    }
}
