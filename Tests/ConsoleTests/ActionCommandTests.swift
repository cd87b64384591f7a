import Backends
import Foundation
import Testing

/// `tollgate throttle` and `tollgate budget` against the real Redis and ClickHouse of `make test`.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_CLICKHOUSE"] != nil, "run through `make test`"))
struct ActionCommandTests {
    static let env = ProcessInfo.processInfo.environment
    static let redisURL = "redis://\(env["TOLLGATE_TEST_REDIS"] ?? "")/12"
    static let db = "tollgate_actions"
    static let spool = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-actions-\(getpid()).jsonl").path

    static func tollgate(_ args: [String], role: String = "admin") async throws -> Tmux.Output {
        try await Tmux.run("/usr/bin/env", ["TOLLGATE_ROLE=\(role)", Tmux.binary] + args + ["--redis", redisURL, "--clickhouse", env["TOLLGATE_TEST_CLICKHOUSE"]!,
                                                                                     "--clickhouse-database", db, "--spool", spool])
    }

    static func setUp() async throws -> (RedisClient, ClickHouseAudit) {
        let redis = RedisClient(try RedisURL(parsing: redisURL))
        var seed = ContractSeed(now: Int64(SystemClock().now()))
        seed.tenant(try TenantID("acme"))
        seed.route(try TenantID("acme"), try Route("chat.completions"), policy: try LimitPolicy(limit: 600, window: 60), count: 100)
        seed.budget(try TenantID("acme"), limit: 1000, used: 900)
        _ = try await redis.pipeline([["FLUSHDB"]] + seed.commands)
        let audit = try ClickHouseAudit(client: ClickHouseClient(try ClickHouseURL(parsing: env["TOLLGATE_TEST_CLICKHOUSE"]!)), database: db)
        _ = try await audit.client.execute("DROP DATABASE IF EXISTS \(db)")
        try await audit.applySchema()
        return (redis, audit)
    }

    @Test func throttleAndBudgetChangeWhatTheGatewayReadsAndAreAudited() async throws {
        let (redis, audit) = try await Self.setUp()
        let set = try await Self.tollgate(["throttle", "set", "--tenant", "acme", "--route", "chat.completions", "--limit", "50",
                                     "--for", "30m", "--reason", "noisy neighbour", "--yes"])
        #expect(set.status == 0, "\(set.stderr)")
        let th = try await redis.pipeline([["HGETALL", "{acme}:throttle:chat.completions"], ["TTL", "{acme}:throttle:chat.completions"]])
        #expect(th[0].hash?["limit"] == "50" && th[0].hash?["reason"] == "noisy neighbour")
        if case .integer(let ttl) = th[1] { #expect(ttl > 1700 && ttl <= 1800) } else { Issue.record("no TTL") }
        let show = try await Tmux.run(Tmux.binary, ["tenants", "show", "acme", "--json", "--redis", Self.redisURL])
        #expect(show.stdout.contains("\"effective_limit\":50"))

        let raise = try await Self.tollgate(["budget", "raise", "--tenant", "acme", "--limit", "5000", "--for", "24h", "--reason", "launch", "--yes"])
        #expect(raise.status == 0, "\(raise.stderr)")
        let shown = try await Tmux.run(Tmux.binary, ["tenants", "show", "acme", "--redis", Self.redisURL])
        #expect(shown.stdout.contains("900 of 5000 tokens"))

        let clear = try await Self.tollgate(["throttle", "clear", "--tenant", "acme", "--route", "chat.completions", "--yes"])
        #expect(clear.status == 0)
        #expect(try await redis.pipeline([["EXISTS", "{acme}:throttle:chat.completions"]])[0] == .integer(0))

        let events = try await audit.audit(AuditQuery(tenant: try TenantID("acme"), limit: 10, oldestFirst: false))
        #expect(Set(events.map(\.action)) == ["throttle.set", "budget.raise", "throttle.clear"])
        #expect(events.allSatisfy { $0.outcome == "success" && $0.actorType == "operator" && $0.actor.hasPrefix("local:") })
        #expect(events.first { $0.action == "throttle.clear" }?.detail.contains("\"before\":{") == true)
    }

    @Test func refusalsExitWithTheirCodesAndAreAudited() async throws {
        let (redis, audit) = try await Self.setUp()
        let viewer = try await Self.tollgate(["throttle", "set", "--tenant", "acme", "--all", "--limit", "1", "--for", "5m", "--reason", "x", "--yes"], role: "viewer")
        #expect(viewer.status == 4 && viewer.stderr.contains("operator role"))
        let ro = try await Self.tollgate(["budget", "raise", "--tenant", "acme", "--limit", "2", "--for", "1h", "--reason", "x", "--yes", "--readonly"])
        #expect(ro.status == 4 && ro.stderr.contains("read-only"))
        let noYes = try await Self.tollgate(["throttle", "clear", "--tenant", "acme", "--all"])
        #expect(noYes.status == 2 && noYes.stderr.contains("--yes"))
        let bad = try await Self.tollgate(["throttle", "set", "--tenant", "acme", "--route", "a:b", "--limit", "1", "--for", "5m", "--reason", "x", "--yes"])
        #expect(bad.status == 2 && bad.stderr.contains("invalid --route \"a:b\": must match"))
        let forever = try await Self.tollgate(["throttle", "set", "--tenant", "acme", "--all", "--limit", "1", "--for", "0", "--reason", "x", "--yes"])
        #expect(forever.status == 2)
        let none = try await Self.tollgate(["throttle", "clear", "--tenant", "acme", "--all", "--yes"])
        #expect(none.status == 1 && none.stderr.contains("no throttle"))
        #expect(try await redis.pipeline([["EXISTS", "{acme}:throttle:_all"]])[0] == .integer(0))

        let events = try await audit.audit(AuditQuery(tenant: try TenantID("acme"), limit: 10))
        #expect(events.filter { $0.outcome == "denied" }.count == 2)
        #expect(events.filter { $0.outcome == "error" }.count == 1)   // clearing a throttle that is not there
    }

    /// Reads follow the role table too: a viewer reads tenants, not audit events or key usage;
    /// the refusal is audited as denied with the operator as actor. Booleans are strict.
    @Test func readsFollowTheRoleTableAndBooleansAreStrict() async throws {
        let (_, audit) = try await Self.setUp()
        for command in [["audit", "tail", "--tenant", "acme"], ["audit", "show", "e-1", "--tenant", "acme"], ["usage", "--tenant", "acme"]] {
            let viewer = try await Self.tollgate(command, role: "viewer")
            #expect(viewer.status == 4, "\(command): \(viewer.stderr)")
            #expect(viewer.stderr.contains("need the support role") || viewer.stderr.contains("needs the support role"), "\(command): \(viewer.stderr)")
            #expect(viewer.stdout.isEmpty)
        }
        let support = try await Self.tollgate(["audit", "tail", "--tenant", "acme", "--json"], role: "support")
        #expect(support.status == 0, "\(support.stderr)")
        let viewerList = try await Self.tollgate(["tenants", "list", "--json"], role: "viewer")
        #expect(viewerList.status == 0 && viewerList.stdout.contains("\"acme\""), "\(viewerList.stderr)")
        let denied = try await audit.audit(AuditQuery(tenant: try TenantID("acme"), limit: 10, outcome: "denied"))
        #expect(Set(denied.map(\.action)) == ["audit.read", "usage.read"] && denied.count == 3)
        #expect(denied.allSatisfy { $0.actor.hasPrefix("local:") && $0.actorType == "operator" && $0.detail.contains("has viewer") })

        for value in ["on", "2", "enabled"] {
            let bad = try await Tmux.run("/usr/bin/env", ["TOLLGATE_READONLY=\(value)", Tmux.binary, "tenants", "list", "--redis", Self.redisURL])
            #expect(bad.status == 2 && bad.stderr.contains("invalid TOLLGATE_READONLY \"\(value)\": must be true, false, 1, 0, yes or no"), "\(bad.stderr)")
        }
        let off = try await Tmux.run("/usr/bin/env", ["TOLLGATE_READONLY=no", Tmux.binary, "tenants", "list", "--redis", Self.redisURL])
        #expect(off.status == 0)
        let on = try await Tmux.run("/usr/bin/env", ["TOLLGATE_READONLY=YES", Tmux.binary, "throttle", "clear", "--tenant", "acme", "--all", "--yes",
                                                    "--redis", Self.redisURL, "--spool", Self.spool])
        #expect(on.status == 4 && on.stderr.contains("read-only"), "\(on.stderr)")
    }
}
