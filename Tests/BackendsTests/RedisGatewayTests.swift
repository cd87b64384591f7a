import Foundation
import Testing
@testable import Backends

/// The contract's read side against the real Redis started by `make test`: standalone (each
/// test in its own database) and a three-master cluster.
@Suite(.enabled(if: TestServices.configured, "run through `make test`, which starts Redis"))
struct RedisGatewayTests {
    static func standalone(db: Int) async throws -> (RedisClient, RedisURL) {
        let (host, port) = try #require(TestServices.redis)
        let url = RedisURL(endpoint: .tcp(host: host, port: port), database: db)
        let client = RedisClient(url)
        _ = try await client.pipeline([["FLUSHDB"]])
        return (client, url)
    }

    static func seed(_ client: any RedisCommands, _ seed: ContractSeed) async throws {
        let replies = try await client.pipeline(seed.commands)
        for r in replies { #expect(r.errorMessage == nil, "seeding failed: \(r)") }
    }

    /// Checks every value of the standard seed (see ContractSeed.standard).
    static func expectStandardFleet(_ fleet: FleetSnapshot, now: Int64) throws {
        #expect(fleet.tenants.map(\.id.rawValue) == ["acme", "broken", "globex", "wrongtype"])
        #expect(fleet.malformedTenantIDs == 3)
        let byID = Dictionary(uniqueKeysWithValues: fleet.tenants.map { ($0.id.rawValue, $0) })

        let acme = try #require(byID["acme"])
        let chat = try #require(acme.routes.first { $0.route.rawValue == "chat.completions" }?.state.value)
        #expect(chat.count == 700 && chat.policy.limit == 600 && chat.effectiveLimit == 500)
        #expect(chat.denied == 200 && chat.remaining == 0)
        #expect(chat.limitingThrottle?.limit == 500 && chat.limitingThrottle?.expiresAt == now + 600)
        let emb = try #require(acme.routes.first { $0.route.rawValue == "embeddings" }?.state.value)
        #expect(emb.count == 40 && emb.effectiveLimit == 100 && emb.remaining == 60)
        #expect(emb.resetIn == Double((now / 10) * 10 + 10 - now))
        let files = try #require(acme.routes.first { $0.route.rawValue == "files.upload" }?.state.value)
        #expect(files.count == 0)
        #expect(acme.throttles.map(\.route.rawValue) == ["chat.completions"])  // the expired _all is not live
        let budget = try #require(acme.budget?.value)
        #expect(budget.percentUsed == 85 && budget.level == .soft)
        #expect(acme.keys[.active] == 2 && acme.keys[.rotating] == 1 && acme.keys[.retired] == 1)
        #expect(acme.keys[.revoked] == 1 && acme.keys[.expired] == 1 && acme.keys.expiringSoon == 1)
        #expect(!acme.hasProblems)

        let globex = try #require(byID["globex"])
        #expect(globex.meta.value?.tier == .ok(.smb) && globex.meta.value?.status == .ok(.suspended))
        #expect(globex.meta.value?.realm == "smb" && globex.meta.value?.group == "/tenants/globex")
        let gchat = try #require(globex.routes.first?.state.value)
        #expect(gchat.effectiveLimit == 5 && gchat.denied == 5 && gchat.limitingThrottle?.route == .all)
        #expect(globex.budget?.value?.effectiveLimit == 5000 && globex.budget?.value?.tempRaiseActive == true)

        let broken = try #require(byID["broken"])
        #expect(broken.routes.first { $0.route.rawValue == "embeddings" }?.state.problem?.contains("abc/0") == true)
        #expect(broken.routes.first { $0.route.rawValue == "chat.completions" }?.state.problem?.contains("\"lots\"") == true)
        #expect(broken.budget?.problem?.contains("used") == true)
        #expect(broken.skippedEntries == 2)
        #expect(broken.hasProblems)

        let wrong = try #require(byID["wrongtype"])
        #expect(wrong.routes.count == 1 && wrong.routes[0].state.problem?.contains("WRONGTYPE") == true)
        #expect(wrong.budget?.problem?.contains("WRONGTYPE") == true)
    }

    @Test func standaloneFleetFollowsTheContract() async throws {
        let (client, _) = try await Self.standalone(db: 1)
        let now = Int64(SystemClock().now())
        try await Self.seed(client, .standard(now: now))
        let gw = RedisGateway(redis: client, clock: FixedClock(Double(now)))
        let cold = try await gw.fleet()        // both tiers
        try Self.expectStandardFleet(cold, now: now)
        let hot = try await gw.fleet()         // counters, budgets, throttles; cold tier from cache
        try Self.expectStandardFleet(hot, now: now)
        #expect(hot == cold)

        // In slices (`tenants list --json`): the same tenants and values, in order, a slice at a
        // time, and nothing kept by a gateway of its own.
        let oneShot = RedisGateway(redis: client, clock: FixedClock(Double(now)))
        var slices: [FleetSnapshot] = []
        try await oneShot.fleet(slicesOf: 3) { (s: FleetSnapshot) throws(BackendError) in slices.append(s) }
        #expect(slices.map(\.tenants.count) == [3, 1])
        #expect(slices.flatMap(\.tenants) == cold.tenants)
        #expect(slices.allSatisfy { $0.malformedTenantIDs == cold.malformedTenantIDs && $0.takenAt == Double(now) })
        #expect(oneShot.cache.withLock { $0.cold.isEmpty })
    }

    @Test func commandsAreBinarySafe() async throws {
        let (client, _) = try await Self.standalone(db: 11)
        let values = ["", "a\r\nb", "*1\r\n$4\r\nPING\r\n", "nul\u{0}inside", "héllo 🙂", String(repeating: "x", count: 200_000)]
        var commands: [[String]] = []
        for (i, v) in values.enumerated() { commands.append(["SET", "k\r\n\(i)", v]) }
        for i in values.indices { commands.append(["GET", "k\r\n\(i)"]) }
        let replies = try await client.pipeline(commands)
        #expect(replies.prefix(values.count).allSatisfy { $0 == .status("OK") })
        #expect(replies.suffix(values.count).map(\.string) == values)
        #expect(try await client.pipeline([["DBSIZE"]]) == [.integer(Int64(values.count))])   // no command was split or injected
    }

    /// Sessions and cache entries of a few tenants, with keys that must not count.
    static func keyspaceSeed() -> [[String]] {
        var c: [[String]] = []
        for i in 0..<7 { c.append(["SET", "{acme}:session:s\(i)", "x"]) }
        for i in 0..<3 { c.append(["SET", "{acme}:cache:{nested}:\(i)", "x"]) }
        for i in 0..<2 { c.append(["SET", "{globex}:cache:c\(i)", "x"]) }
        c.append(["SET", "{acme}:sessions-archive", "x"])      // not a session key
        c.append(["SET", "{Bad*Id}:session:1", "x"])           // breaks the tenant pattern
        c.append(["SET", "{acme:session:1", "x"])              // no closing brace
        return c
    }

    /// Refreshes until the incremental count has completed a walk (a few steps on a cluster).
    static func counted(_ gw: RedisGateway) async throws -> FleetSnapshot {
        for _ in 0..<20 {
            let f = try await gw.fleet()
            if f.keyspaceAsOf != nil { return f }
        }
        Issue.record("the keyspace walk never completed")
        return try await gw.fleet()
    }

    @Test func sessionAndCacheCountsComeFromAnIncrementalScan() async throws {
        let (client, _) = try await Self.standalone(db: 8)
        let now = Int64(SystemClock().now())
        try await Self.seed(client, .standard(now: now))
        _ = try await client.pipeline(Self.keyspaceSeed())
        let gw = RedisGateway(redis: client, clock: FixedClock(Double(now)))
        let fleet = try await Self.counted(gw)
        #expect(fleet.keyspaceAsOf == Double(now) && fleet.keyspaceProblem == nil)
        let by = Dictionary(uniqueKeysWithValues: fleet.tenants.map { ($0.id.rawValue, $0.keyspace) })
        #expect(by["acme"] == KeyspaceCounts(sessions: 7, cacheEntries: 3))
        #expect(by["globex"] == KeyspaceCounts(sessions: 0, cacheEntries: 2))
        #expect(by["broken"] == KeyspaceCounts())
        let acme = try TenantID("acme")
        #expect(try await gw.tenant(acme).keyspace == KeyspaceCounts(sessions: 7, cacheEntries: 3))
        #expect(try await gw.keyspace(of: acme) == KeyspaceCounts(sessions: 7, cacheEntries: 3))
        // A later walk replaces the counts (on one server this small keyspace is one step).
        _ = try await client.pipeline([["DEL", "{acme}:session:s0", "{acme}:session:s1"], ["SET", "{globex}:session:new", "x"]])
        let again = try await Self.counted(gw)
        #expect(again.tenants.first { $0.id == acme }?.keyspace == KeyspaceCounts(sessions: 5, cacheEntries: 3))
        #expect(again.tenants.first { $0.id.rawValue == "globex" }?.keyspace == KeyspaceCounts(sessions: 1, cacheEntries: 2))
    }

    @Test func hotRefreshSeesNewTrafficAndThrottlesAtOnce() async throws {
        let (client, _) = try await Self.standalone(db: 5)
        let now = Int64(SystemClock().now())
        try await Self.seed(client, .standard(now: now))
        let gw = RedisGateway(redis: client, clock: FixedClock(Double(now)), coldInterval: 3600)
        _ = try await gw.fleet()
        var change = ContractSeed(now: now)
        change.route("acme", "embeddings", policy: "100/10", count: 250)
        change.throttle("globex", "chat.completions", limit: 2, expiresIn: 60)
        change.budget("acme", limit: 1_000_000, used: 1_000_000)
        try await Self.seed(client, change)
        let fleet = try await gw.fleet()
        let acme = try #require(fleet.tenants.first { $0.id.rawValue == "acme" })
        #expect(acme.routes.first { $0.route.rawValue == "embeddings" }?.state.value?.denied == 150)
        #expect(acme.budget?.value?.level == .exhausted)
        let globex = try #require(fleet.tenants.first { $0.id.rawValue == "globex" })
        #expect(globex.routes.first?.state.value?.effectiveLimit == 2)
        #expect(globex.throttles.map(\.route.rawValue) == ["_all", "chat.completions"])
    }

    @Test func newAndRemovedTenantsShowOnTheNextRefresh() async throws {
        let (client, _) = try await Self.standalone(db: 7)
        let now = Int64(SystemClock().now())
        try await Self.seed(client, .standard(now: now))
        let gw = RedisGateway(redis: client, clock: FixedClock(Double(now)), coldInterval: 3600)
        #expect(try await gw.fleet().tenants.count == 4)
        var more = ContractSeed(now: now)
        more.tenant("newco")
        try await Self.seed(client, more)
        #expect(try await gw.fleet().tenants.map(\.id.rawValue) == ["acme", "broken", "globex", "newco", "wrongtype"])
        _ = try await client.pipeline([["SREM", "gw:tenants", "broken"]])
        #expect(try await gw.fleet().tenants.map(\.id.rawValue) == ["acme", "globex", "newco", "wrongtype"])
    }

    @Test func coldTierIsReReadAfterItsInterval() async throws {
        let (client, _) = try await Self.standalone(db: 6)
        let now = Int64(SystemClock().now())
        try await Self.seed(client, .standard(now: now))
        let gw = RedisGateway(redis: client, clock: FixedClock(Double(now)), coldInterval: 0)
        _ = try await gw.fleet()
        _ = try await client.pipeline([["HSET", "{acme}:apikey:k_active", "state", "revoked"]])
        let acme = try #require(try await gw.fleet().tenants.first { $0.id.rawValue == "acme" })
        #expect(acme.keys[.revoked] == 2 && acme.keys[.active] == 1, "\(acme.keys)")
    }

    @Test func coldDataRidesInTheHotReadAndNewPoliciesServeFromTheNextRefresh() async throws {
        let (client, _) = try await Self.standalone(db: 16)
        let now = Int64(SystemClock().now())
        try await Self.seed(client, .standard(now: now))
        let gw = RedisGateway(redis: client, clock: FixedClock(Double(now)), coldInterval: 0)   // due every refresh
        func acme() async throws -> TenantState { try #require(try await gw.fleet().tenants.first { $0.id.rawValue == "acme" }) }
        func chatLimit(_ t: TenantState) -> Int? { t.routes.first { $0.route.rawValue == "chat.completions" }?.state.value?.policy.limit }
        #expect(chatLimit(try await acme()) == 600)
        _ = try await client.pipeline([["HSET", "{acme}:limits", "chat.completions", "900/60"], ["HSET", "{acme}:meta", "name", "Acme Two"]])
        let first = try await acme()      // read by the old policies: the new ones are not applied yet
        #expect(chatLimit(first) == 600 && first.meta.value?.name == "ACME")
        let second = try await acme()
        #expect(chatLimit(second) == 900 && second.meta.value?.name == "Acme Two")
    }

    @Test func tenantDetailAndKeys() async throws {
        let (client, _) = try await Self.standalone(db: 2)
        let now = Int64(SystemClock().now())
        try await Self.seed(client, .standard(now: now))
        let gw = RedisGateway(redis: client, clock: FixedClock(Double(now)))
        let acme = try await gw.tenant(TenantID("acme"))
        #expect(acme.denied == 200)
        let keys = try await gw.keys(of: TenantID("acme"))
        #expect(keys.map(\.id.rawValue) == ["k_active", "k_exp", "k_ret", "k_rev", "k_rot", "k_soon"])
        #expect(keys.first { $0.id.rawValue == "k_rot" }?.state(at: Double(now)) == .rotating)
        await #expect(throws: BackendError.self) { try await gw.tenant(TenantID("nobody")) }
    }

    @Test func discoveryFallsBackToScanWhenTheIndexIsMissing() async throws {
        let (client, _) = try await Self.standalone(db: 3)
        var seed = ContractSeed(now: Int64(SystemClock().now()))
        for t in ["t1", "t2", "t3"] { seed.tenant(t, index: false) }
        seed.commands.append(["HSET", "{Bad*}:meta", "tier", "smb"])
        seed.commands.append(["HSET", "{x}y}:meta", "tier", "smb"])       // not of the {T}:meta shape: ignored
        try await Self.seed(client, seed)
        let fleet = try await RedisGateway(redis: client).fleet()
        #expect(fleet.tenants.map(\.id.rawValue) == ["t1", "t2", "t3"])
        #expect(fleet.malformedTenantIDs == 1)
        #expect(fleet.indexProblem == nil, "a missing index is the contract's fallback, not a problem")
        // An index of the wrong type is a problem: the fleet is still found by SCAN, and says so.
        _ = try await client.pipeline([["SET", "gw:tenants", "t1,t2"]])
        let wrong = try await RedisGateway(redis: client).fleet()
        #expect(wrong.tenants.map(\.id.rawValue) == ["t1", "t2", "t3"])
        #expect(wrong.indexProblem?.contains("gw:tenants cannot be read as a set (WRONGTYPE") == true, "\(wrong.indexProblem ?? "nil")")
    }

    @Test func hostileTenantIDInTheIndexNeverReachesAKeyName() async throws {
        let (client, _) = try await Self.standalone(db: 4)
        var seed = ContractSeed(now: Int64(SystemClock().now()))
        seed.tenant("ok")
        seed.commands.append(["SADD", "gw:tenants", "*", "{ok}", "ok\n", "\u{1B}[2J"])
        try await Self.seed(client, seed)
        let fleet = try await RedisGateway(redis: client).fleet()
        #expect(fleet.tenants.map(\.id.rawValue) == ["ok"])
        #expect(fleet.malformedTenantIDs == 4)
    }

    @Test func wrongPasswordIsPermissionDenied() async throws {
        let (host, port) = try #require(TestServices.redis)
        let client = RedisClient(RedisURL(endpoint: .tcp(host: host, port: port), user: "nobody", password: "wrong"))
        await #expect(throws: BackendError.self) { _ = try await client.pipeline([["PING"]]) }
        do { _ = try await client.pipeline([["PING"]]) } catch {
            // Second call inside the backoff window fails fast with the same cause.
            #expect(error.description.contains("credentials") || error.description.contains("retrying"))
        }
    }

    @Test func refusedConnectionIsUnavailable() async throws {
        let client = RedisClient(RedisURL(endpoint: .tcp(host: "127.0.0.1", port: 1)), connectTimeout: 1)
        await #expect(throws: BackendError.unavailable("redis 127.0.0.1:1: Connection refused")) { _ = try await client.pipeline([["PING"]]) }
    }
}

/// One cluster, shared: these tests run one after another and flush every master first.
@Suite(.serialized, .enabled(if: TestServices.configured, "run through `make test`, which starts a Redis Cluster"))
struct RedisClusterTests {
    static func seedURL() throws -> RedisURL {
        let (host, port) = try #require(TestServices.redisCluster.first)
        return RedisURL(endpoint: .tcp(host: host, port: port))
    }

    static func flushAll() async throws {
        for (host, port) in TestServices.redisCluster {
            _ = try await RedisClient(RedisURL(endpoint: .tcp(host: host, port: port))).pipeline([["FLUSHALL"]])
        }
    }

    @Test func clusterFleetFollowsTheContract() async throws {
        try await Self.flushAll()
        let auto = RedisAuto(try Self.seedURL())
        let now = Int64(SystemClock().now())
        // gw:tenants lives on one node, each tenant on its own: one pipeline spans the cluster.
        try await RedisGatewayTests.seed(auto, .standard(now: now))
        #expect(auto.label.hasPrefix("cluster"))
        let slots = Set(["acme", "globex", "broken", "wrongtype"].map { HashSlot.of("{\($0)}:meta") })
        #expect(slots.count == 4)
        let gw = RedisGateway(redis: auto, clock: FixedClock(Double(now)))
        try RedisGatewayTests.expectStandardFleet(try await gw.fleet(), now: now)
        try RedisGatewayTests.expectStandardFleet(try await gw.fleet(), now: now)   // hot path
        // The incremental count walks every master.
        _ = try await auto.pipeline(RedisGatewayTests.keyspaceSeed())
        let counted = try await RedisGatewayTests.counted(RedisGateway(redis: auto, clock: FixedClock(Double(now))))   // a walk from the start
        #expect(counted.tenants.first { $0.id.rawValue == "acme" }?.keyspace == KeyspaceCounts(sessions: 7, cacheEntries: 3))
        #expect(counted.tenants.first { $0.id.rawValue == "globex" }?.keyspace == KeyspaceCounts(sessions: 0, cacheEntries: 2))
        // Discovery by SCAN covers every master.
        _ = try await auto.pipeline([["DEL", "gw:tenants"]])
        let scanned = try await RedisGateway(redis: auto, clock: FixedClock(Double(now))).fleet()
        #expect(scanned.tenants.map(\.id.rawValue) == ["acme", "broken", "globex", "wrongtype"])
    }

    /// Moves the slot of `{acme}` to another master while a client with a cached slot map keeps
    /// reading: half-way it gets ASK redirections, afterwards MOVED. Every read must be right.
    @Test func followsAskAndMovedDuringASlotMigration() async throws {
        try await Self.flushAll()
        let client = RedisClusterClient(seed: try Self.seedURL())
        let now = Int64(SystemClock().now())
        var seed = ContractSeed(now: now)
        seed.tenant("acme")
        for i in 0..<6 { seed.route("acme", "route\(i)", policy: "100/60", count: 10 + i) }
        try await RedisGatewayTests.seed(client, seed)
        let gw = RedisGateway(redis: client, clock: FixedClock(Double(now)))
        // A console on a client of its own: its slot map goes stale, and nothing it reads for the
        // test's own checks gets tracked on the new master.
        let watching = RedisGateway(redis: RedisClusterClient(seed: try Self.seedURL()), clock: FixedClock(Double(now)), coldInterval: 3600)
        for _ in 0..<3 { _ = try await watching.fleet() }   // steady: acme's throttles known by tracking
        func expectAcme() async throws {
            let t = try await gw.tenant(TenantID("acme"))
            #expect(t.routes.compactMap { $0.state.value?.count } == (0..<6).map { 10 + $0 })
        }
        try await expectAcme()

        let slot = HashSlot.of("{acme}:meta")
        let nodes = try await Self.nodes()
        let source = try #require(nodes.first { $0.slots.contains(slot) })
        let target = try #require(nodes.first { $0.id != source.id })
        let src = RedisClient(RedisURL(endpoint: .tcp(host: "127.0.0.1", port: source.port)))
        let dst = RedisClient(RedisURL(endpoint: .tcp(host: "127.0.0.1", port: target.port)))
        _ = try await dst.pipeline([["CLUSTER", "SETSLOT", String(slot), "IMPORTING", source.id]])
        _ = try await src.pipeline([["CLUSTER", "SETSLOT", String(slot), "MIGRATING", target.id]])
        let keys = try #require(try await src.pipeline([["CLUSTER", "GETKEYSINSLOT", String(slot), "1000"]])[0].array?.compactMap(\.string))
        #expect(keys.count > 6)
        // Move half of the keys: reads of those get ASK.
        let half = Array(keys.prefix(keys.count / 2))
        let moved = try await src.pipeline([["MIGRATE", "127.0.0.1", String(target.port), "", "0", "5000", "KEYS"] + half])[0]
        #expect(moved.errorMessage == nil, "MIGRATE: \(moved)")
        try await expectAcme()
        #expect(client.redirects.ask > 0 && client.redirects.moved == 0)
        // Finish: every key on the target, the slot assigned to it everywhere; reads get MOVED.
        let rest = Array(keys.dropFirst(keys.count / 2))
        _ = try await src.pipeline([["MIGRATE", "127.0.0.1", String(target.port), "", "0", "5000", "KEYS"] + rest])
        for n in nodes {
            _ = try await RedisClient(RedisURL(endpoint: .tcp(host: "127.0.0.1", port: n.port)))
                .pipeline([["CLUSTER", "SETSLOT", String(slot), "NODE", target.id]])
        }
        try await expectAcme()
        #expect(client.redirects.moved > 0)
        try await expectAcme()   // the refreshed map needs no redirect
        let after = client.redirects
        try await expectAcme()
        #expect(client.redirects.moved == after.moved && client.redirects.ask == after.ask)
        // A throttle set on the new master, which never tracked acme's keys for the console: the
        // MOVED its next refresh meets makes the refresh after it read every throttle again.
        _ = try await client.pipeline([["HSET", "{acme}:throttle:route0", "limit", "1", "expires_at", String(now + 60)]])
        _ = try await watching.fleet()
        let acme = try #require(try await watching.fleet().tenants.first)
        #expect(acme.throttles.map(\.route.rawValue) == ["route0"])
    }

    @Test func throttlesAndBudgetRaisesRunOnTheCluster() async throws {
        try await Self.flushAll()
        let auto = RedisAuto(try Self.seedURL())
        let now = Int64(SystemClock().now())
        var s = ContractSeed(now: now)
        s.tenant("globex")
        s.route("globex", "chat", policy: "100/60", count: 80)
        s.budget("globex", limit: 1000, used: 10)
        try await RedisGatewayTests.seed(auto, s)
        let op = Operator(name: "ops:test", role: .operator, authenticated: false)
        let writer = RedisActions(redis: auto)
        let g = try TenantID("globex")
        _ = try await writer.apply(.throttleSet(g, .all, limit: 20, duration: 600, reason: "test"), by: op, now: now)
        _ = try await writer.apply(.budgetRaise(g, limit: 5000, duration: 600, reason: "test"), by: op, now: now)
        let t = try await RedisGateway(redis: auto, clock: FixedClock(Double(now))).tenant(g)
        #expect(t.routes.first?.state.value?.effectiveLimit == 20 && t.denied == 60)
        #expect(t.budget?.value?.effectiveLimit == 5000)
        _ = try await writer.apply(.throttleClear(g, .all), by: op, now: now)
        #expect(try await RedisGateway(redis: auto, clock: FixedClock(Double(now))).tenant(g).routes.first?.state.value?.effectiveLimit == 100)
    }

    /// Each master's client tracks the throttles read on it (this suite runs serialized, so no
    /// other test flushes the cluster meanwhile).
    @Test func throttlesAreTrackedOnEveryMaster() async throws {
        try await Self.flushAll()
        let now = Int64(SystemClock().now())
        let redis = RedisTrackingTests.Recording(RedisAuto(try Self.seedURL()))
        try await RedisGatewayTests.seed(redis, .standard(now: now))
        let gw = RedisGateway(redis: redis, clock: FixedClock(Double(now)), coldInterval: 3600)
        _ = try await gw.fleet()
        _ = try await gw.fleet()   // tracking starts on every master
        _ = redis.throttleReads()
        try RedisGatewayTests.expectStandardFleet(try await gw.fleet(), now: now)
        #expect(redis.throttleReads().isEmpty, "a steady refresh reads no throttle")
        var change = ContractSeed(now: now)
        change.throttle("acme", "embeddings", limit: 10, expiresIn: 60)
        change.throttle("globex", "chat.completions", limit: 1, expiresIn: 60)
        _ = try await redis.inner.pipeline(change.commands)
        let fleet = try await gw.fleet()
        let reads = redis.throttleReads()
        #expect(Set(reads.map { $0[1].prefix { $0 != "}" } }) == ["{acme", "{globex"], "\(reads)")
        #expect(fleet.tenants.first { $0.id.rawValue == "acme" }?.throttles.map(\.route.rawValue) == ["chat.completions", "embeddings"])
        #expect(fleet.tenants.first { $0.id.rawValue == "globex" }?.throttles.map(\.route.rawValue) == ["_all", "chat.completions"])
    }

    @Test func keyTransactionsRunOnTheCluster() async throws {
        try await Self.flushAll()
        try await KeyActionTests.exerciseKeys(RedisAuto(try Self.seedURL()), flush: [])
    }

    struct Node { let id: String; let port: Int32; let slots: [Int] }

    static func nodes() async throws -> [Node] {
        let reply = try await RedisClient(try seedURL()).pipeline([["CLUSTER", "NODES"]])[0]
        let text = try #require(reply.string)
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            guard f.count >= 8, f[2].contains("master") else { return nil }
            let addr = f[1].split(separator: "@")[0]
            guard let port = Int32(addr.split(separator: ":").last ?? "") else { return nil }
            var slots: [Int] = []
            for range in f.dropFirst(8) where !range.hasPrefix("[") {
                let b = range.split(separator: "-").compactMap { Int($0) }
                if b.count == 2 { slots += Array(b[0]...b[1]) } else if b.count == 1 { slots.append(b[0]) }
            }
            return Node(id: String(f[0]), port: port, slots: slots)
        }
    }
}
