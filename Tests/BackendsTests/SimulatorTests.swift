import Crypto
import Foundation
import Testing
@testable import Backends

/// `tollgate simulate`'s engine against the real Redis and ClickHouse that `make test` starts:
/// what it writes reads back through tollgate's own readers as the contract says.
@Suite(.serialized, .enabled(if: TestServices.configured, "run through `make test`"))
struct SimulatorTests {
    static let db = 34
    static let clickhouseDB = "tollgate_sim"

    static func redis() throws -> RedisAuto {
        let (host, port) = try #require(TestServices.redis)
        return RedisAuto(RedisURL(endpoint: .tcp(host: host, port: port), database: db))
    }

    /// Runs `simulator` until it has handled `requests` (or a minute passed: a loaded machine),
    /// returns its stats.
    /// Runs until `requests` were sent or `seconds` passed. A counter expires 2W after its last
    /// write (20 s for the fleet's 10 s windows), so a run that is to be counted back stops well
    /// before that, however slow the machine is that day.
    static func run(_ simulator: GatewaySimulator, requests: Int, seconds: Double = 12) async throws -> SimulationStats {
        let end = SystemClock().now() + seconds
        try await simulator.run(every: 3600, stop: { simulator.stats.requests >= requests || SystemClock().now() >= end }) { _, _ in }
        return simulator.stats
    }

    /// Every window counter the run wrote, with the denials the contract's arithmetic gives it
    /// under the policies and the live throttles.
    static func deniedByCounters(_ tenants: [SimulatedFleet.TenantPlan], _ redis: any RedisCommands, throttled: [TenantID: Int]) async throws -> (count: Int, denied: Int) {
        // One SCAN walk for every counter (a walk per tenant and route took seconds on a loaded
        // machine, long enough for the first counters to expire).
        var effective: [String: Int] = [:]   // counter key prefix -> the route's effective limit
        for t in tenants {
            for r in t.routes { effective[KeySchema.counterPrefix(t.id, r.route)] = min(r.policy.limit, throttled[t.id] ?? .max) }
        }
        let keys = try await redis.scanKeys(matching: "rl:*")
        let values = try await redis.pipeline(keys.map { ["GET", $0] })
        var count = 0, denied = 0
        for (key, v) in zip(keys, values) {
            guard let end = key.lastIndex(of: ":"), let limit = effective[String(key[...end])] else { continue }
            let n = try #require(v.string.flatMap { Int($0) })
            count += n
            denied += max(0, n - limit)
        }
        return (count, denied)
    }

    @Test func whatItWritesReadsBackThroughTollgatesReaders() async throws {
        let redis = try Self.redis()
        _ = try await redis.pipeline([["FLUSHDB"]])
        let audit = try await ClickHouseAuditTests.audit(Self.clickhouseDB)
        let usage = try ClickHouseUsage(client: audit.client, database: Self.clickhouseDB)
        let now = Int64(SystemClock().now())
        let fleet = SimulatedFleet(seed: 7, tenants: 40, rate: 4000, scenarios: [.noisyNeighbour, .authStorm], now: now)
        let simulator = GatewaySimulator(fleet: fleet, redis: redis, control: try Self.redis(), clickhouse: (audit, usage), seed: 7)
        try await simulator.setUp()

        // An operator's throttle, a revoked key and a budget about to run out, set before the run.
        let busiest = fleet.tenant(rank: 0), second = fleet.tenant(rank: 1)
        var ops = ContractSeed(now: now)
        ops.throttle(busiest.id, .all, limit: 5, expiresIn: 600)
        ops.commands.append(["HSET", KeySchema.apiKey(second.id, second.keys[0].id), "state", "revoked"])
        ops.commands.append(["HSET", KeySchema.budget(second.id, month: YearMonth(containing: now)), "hard", "1", "used", String(second.budgetLimit - 3000)])
        _ = try await redis.pipeline(ops.commands)

        let stats = try await Self.run(simulator, requests: 8000)
        #expect(stats.requests > 5000, "\(stats)")
        #expect(stats.requests == stats.allowed + stats.denied + stats.budgetDenied + stats.authFailed + stats.redisErrors)
        #expect(stats.redisErrors == 0)

        // Denials only above the effective limit: the counters' arithmetic gives the same number.
        let counted = try await Self.deniedByCounters(fleet.tenants, redis, throttled: [busiest.id: 5])
        #expect(counted.count == stats.requests - stats.authFailed)
        #expect(counted.denied == stats.denied && stats.denied > 0)
        let gateway = RedisGateway(redis: redis)
        let throttledState = try await gateway.tenant(busiest.id)
        #expect(throttledState.throttles.map(\.limit) == [5])
        // The reader sees the throttle on every route (the counters' arithmetic above used it too);
        // the current window may have just begun on a slow machine, so its count is not checked.
        #expect(!throttledState.routes.isEmpty && throttledState.routes.allSatisfy { $0.state.value?.effectiveLimit == 5 })
        let busiestDenied = try await Self.deniedByCounters([busiest], redis, throttled: [busiest.id: 5]).denied
        #expect(busiestDenied > 0, "the throttled tenant is denied")

        // Budgets never past a hard limit; the one that ran out was denied.
        for t in fleet.tenants {
            guard case .ok(let b)? = try await gateway.tenant(t.id).budget else { Issue.record("no budget for \(t.id)"); continue }
            if b.budget.hard { #expect(b.budget.used <= b.effectiveLimit, "\(t.id)") }
        }
        guard case .ok(let runOut)? = try await gateway.tenant(second.id).budget else { Issue.record("no budget"); return }
        #expect(runOut.budget.used == runOut.effectiveLimit && stats.budgetDenied > 0)

        // Key hashes match their secrets; no plaintext is stored.
        for t in fleet.tenants.prefix(10) {
            let keys = try await gateway.keys(of: t.id)
            #expect(Set(keys.map(\.id)) == Set(t.keys.map(\.id)))
            for k in t.keys {
                let stored = try await redis.pipeline([["HGETALL", KeySchema.apiKey(t.id, k.id)]])[0].hash ?? [:]
                #expect(stored["sha256"] == SHA256.hash(data: Array(k.secret.plaintext.utf8)).map { String(format: "%02x", $0) }.joined())
                #expect(stored["prefix"] == String(k.secret.plaintext.prefix(12)))
                #expect(!stored.values.contains { $0.contains(k.secret.plaintext) })
            }
        }

        // ClickHouse: a usage row per request, and audit rows per tenant that add up to the stats.
        var usageRows = 0, deniedRows = 0, authRows = 0, budgetRows = 0, revokedRows = 0
        for t in fleet.tenants {
            usageRows += try await usage.usage(tenant: t.id, key: nil).lastDay.requests
            let events = try await audit.audit(AuditQuery(tenant: t.id, limit: 100_000))
            #expect(events.allSatisfy { $0.tenant == t.id })
            for e in events {
                let detail = try #require(try JSONSerialization.jsonObject(with: Data(e.detail.utf8)) as? [String: Any])
                let n = try #require(detail["count"] as? Int)
                switch e.action {
                case "request.denied": deniedRows += n
                case "auth.failed":
                    authRows += n
                    if t.id == second.id, e.actor == second.keys[0].id.rawValue, (detail["reason"] as? String)?.contains("not usable") == true { revokedRows += n }
                case "budget.exceeded": budgetRows += n
                default: Issue.record("unexpected action \(e.action)")
                }
            }
        }
        #expect(usageRows == stats.requests)
        #expect(deniedRows == stats.denied && authRows == stats.authFailed && budgetRows == stats.budgetDenied)
        #expect(revokedRows > 0, "requests with the revoked key fail")
        #expect(simulator.rows.usageWritten == stats.requests && simulator.rows.waiting == 0)
    }

    @Test func theSameSeedGivesTheSameFleetButNeverTheSameSecrets() {
        let a = SimulatedFleet(seed: 3, tenants: 50, rate: 1000, scenarios: [], now: 1_795_800_000)
        let b = SimulatedFleet(seed: 3, tenants: 50, rate: 1000, scenarios: [], now: 1_795_800_000)
        #expect(a.tenants.map(\.id) == b.tenants.map(\.id))
        #expect(a.tenants.map { $0.routes.map(\.policy) } == b.tenants.map { $0.routes.map(\.policy) })
        #expect(a.tenant(rank: 0).id == b.tenant(rank: 0).id)
        #expect(a.tenants[0].keys[0].id == b.tenants[0].keys[0].id)
        #expect(a.tenants[0].keys[0].secret.plaintext != b.tenants[0].keys[0].secret.plaintext)
        #expect(abs(a.tenants.map(\.share).reduce(0, +) - 1) < 1e-9)
        #expect(a.tenant(rank: 0).share > 10 * a.tenant(rank: 40).share)
        #expect(throws: ValidationError.self) { try Scenario(parsing: "noisy") }
    }
}

extension RedisClusterTests {
    /// The simulator on the cluster: a pipeline per tick spans every master, and tollgate's
    /// readers see what it wrote.
    @Test func theSimulatorWritesTheContractOnTheCluster() async throws {
        try await Self.flushAll()
        let cluster = RedisAuto(try Self.seedURL())
        let fleet = SimulatedFleet(seed: 11, tenants: 30, rate: 2000, scenarios: [.clockAhead], now: Int64(SystemClock().now()))
        let simulator = GatewaySimulator(fleet: fleet, redis: cluster, control: RedisAuto(try Self.seedURL()), clickhouse: nil, seed: 11)
        try await simulator.setUp()
        let stats = try await SimulatorTests.run(simulator, requests: 2000)
        #expect(stats.requests > 1000 && stats.redisErrors == 0, "\(stats)")
        let counted = try await SimulatorTests.deniedByCounters(fleet.tenants, cluster, throttled: [:])
        #expect(counted.count == stats.requests - stats.authFailed && counted.denied == stats.denied)
        let snapshot = try await RedisGateway(redis: cluster).fleet()
        #expect(Set(snapshot.tenants.map(\.id)) == Set(fleet.tenants.map(\.id)))
        #expect(snapshot.tenants.allSatisfy { $0.meta.value != nil && $0.budget != nil })
    }
}
