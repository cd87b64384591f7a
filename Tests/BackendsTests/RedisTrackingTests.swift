import Foundation
import Synchronization
import Testing
@testable import Backends

/// Throttles read with key tracking: a steady refresh does not read them, a change the server
/// announces is read on the next refresh, and lost or refused tracking falls back to reading
/// every tenant's. Each test has a Redis of its own (`PrivateRedis`): a FLUSHDB by any other test
/// would announce a flush to every tracking client. The cluster's are in `RedisClusterTests`.
@Suite(.enabled(if: TestServices.configured, "run through `make test`"))
struct RedisTrackingTests {
    /// Passes everything through, and keeps the commands of each pipeline.
    final class Recording: RedisCommands {
        let inner: any RedisCommands
        private let sent = Mutex<[[String]]>([])
        init(_ inner: any RedisCommands) { self.inner = inner }
        var label: String { inner.label }

        /// The next pipeline that reads counters fails, as a lost connection would, unsent.
        let failNextRead = Mutex(false)

        func pipeline<T: Sendable>(_ commands: [RedisCommand], decode: @escaping @Sendable (RedisReply) -> T) async throws(BackendError) -> [T] {
            if commands.contains(where: { $0.arguments[0] == "MGET" }), failNextRead.withLock({ f in defer { f = false }; return f }) {
                throw .unavailable("connection lost (Recording.failNextRead)")
            }
            sent.withLock { $0 += commands.map(\.arguments) }
            return try await inner.pipeline(commands, decode: decode)
        }
        func scan(from cursor: ScanCursor, matching pattern: String, count: Int) async throws(BackendError) -> ScanPage {
            try await inner.scan(from: cursor, matching: pattern, count: count)
        }
        func changedKeys(_ scope: TrackingScope) async throws(BackendError) -> KeyChanges { try await inner.changedKeys(scope) }

        /// The commands sent since the last call that read throttles: EXISTS or HMGET of a throttle key.
        func throttleReads() -> [[String]] {
            sent.withLock { s in
                defer { s = [] }
                return s.filter { ($0[0] == "EXISTS" || $0[0] == "HMGET") && $0[1].contains("}:throttle:") }
            }
        }

        /// How many cold reads (`HGETALL {T}:meta`) were sent since the last call.
        func metaReads() -> Int {
            sent.withLock { s in
                defer { s = [] }
                return s.filter { $0[0] == "HGETALL" && $0[1].hasSuffix("}:meta") }.count
            }
        }

        /// The tenants whose keys were read since the last call, by the `{T}` or `rl:{T}:` in the key.
        func tenantsRead() -> Set<String> {
            sent.withLock { s in
                defer { s = [] }
                return Set(s.compactMap { c in c.count > 1 ? c[1].firstMatch(of: /\{([^}]+)\}/).map { String($0.1) } : nil })
            }
        }
    }

    /// A clock the test moves.
    final class Hands: Clock {
        let instant: Mutex<Double>
        init(_ t: Double) { instant = Mutex(t) }
        func now() -> Double { instant.withLock { $0 } }
    }

    /// A Redis of the test's own holding the standard seed as of `instant` (now by default), and a client of it.
    static func seeded(at instant: Int64 = Int64(SystemClock().now())) async throws -> (server: PrivateRedis, admin: RedisClient, seed: ContractSeed) {
        let server = try PrivateRedis()
        try server.start()
        let admin = RedisClient(server.url)
        let seed = ContractSeed.standard(now: instant)
        _ = try await PrivateRedis.eventually { try await admin.pipeline(seed.commands) }
        return (server, admin, seed)
    }

    static func start(_ url: (PrivateRedis) -> RedisURL = \.url) async throws -> (PrivateRedis, RedisClient, Recording, RedisGateway, Int64) {
        let now = Int64(SystemClock().now())
        let (server, admin, _) = try await seeded(at: now)
        let recording = Recording(RedisClient(url(server)))
        return (server, admin, recording, RedisGateway(redis: recording, clock: FixedClock(Double(now)), coldInterval: 3600), now)
    }

    static func tenant(_ f: FleetSnapshot, _ id: String) throws -> TenantState { try #require(f.tenants.first { $0.id.rawValue == id }) }

    @Test func throttlesAreReadAgainOnlyWhenTheServerAnnouncesAChange() async throws {
        let (server, admin, redis, gw, now) = try await Self.start()
        _ = try await gw.fleet()   // the first screen starts tracking, then reads them all
        #expect(redis.throttleReads().filter { $0[0] == "EXISTS" }.count == 4)
        let steady = try await gw.fleet()
        #expect(redis.throttleReads().isEmpty, "a steady refresh reads no throttle")
        try RedisGatewayTests.expectStandardFleet(steady, now: now)

        // Another client throttles acme's embeddings: only acme's throttles are read again.
        var change = ContractSeed(now: now)
        change.throttle("acme", "embeddings", limit: 10, expiresIn: 60)
        _ = try await admin.pipeline(change.commands)
        let throttled = try await gw.fleet()
        let reads = redis.throttleReads()
        #expect(!reads.isEmpty && reads.allSatisfy { $0[1].hasPrefix("{acme}:") }, "\(reads)")
        let acme = try Self.tenant(throttled, "acme")
        #expect(acme.throttles.map(\.route.rawValue) == ["chat.completions", "embeddings"])
        #expect(acme.routes.first { $0.route.rawValue == "embeddings" }?.state.value?.effectiveLimit == 10)

        // A cleared throttle is announced too.
        _ = try await admin.pipeline([["DEL", "{acme}:throttle:chat.completions"]])
        #expect(try Self.tenant(try await gw.fleet(), "acme").throttles.map(\.route.rawValue) == ["embeddings"])
        #expect(redis.throttleReads().allSatisfy { $0[1].hasPrefix("{acme}:") })
        _ = try await gw.fleet()
        #expect(redis.throttleReads().isEmpty)

        // The watching connection is lost: what was announced meanwhile is gone, so every tenant's
        // throttles are read again.
        _ = try await admin.pipeline([["CLIENT", "KILL", "TYPE", "pubsub"]])
        _ = try await admin.pipeline([["HSET", "{globex}:throttle:chat.completions", "limit", "1", "expires_at", String(now + 60)]])
        let recovered = try await gw.fleet()
        #expect(redis.throttleReads().filter { $0[0] == "EXISTS" }.count == 4)
        #expect(try Self.tenant(recovered, "globex").throttles.map(\.route.rawValue) == ["_all", "chat.completions"])
        _ = try await gw.fleet()
        #expect(redis.throttleReads().isEmpty, "tracking resumed")
        withExtendedLifetime(server) {}
    }

    /// The refresh that hears of a change fails before it reads it: the change shows at the next
    /// one all the same, though no announcement comes again.
    @Test func aChangeHeardByARefreshThatFailsShowsAtTheNextOne() async throws {
        let (server, admin, redis, gw, now) = try await Self.start()
        defer { withExtendedLifetime(server) {} }
        _ = try await gw.fleet()
        _ = try await gw.fleet()
        #expect(gw.cache.withLock { $0.looked } == 0)
        let ws = (now / 60) * 60
        _ = try await admin.pipeline([["INCRBY", "rl:{globex}:chat.completions:\(ws)", "5"]])
        redis.failNextRead.withLock { $0 = true }
        await #expect(throws: BackendError.self) { try await gw.fleet() }
        let next = try await gw.fleet()
        #expect(try Self.tenant(next, "globex").routes.first?.state.value?.count == 15)
        #expect(try Self.tenant(next, "acme").routes.first { $0.route.rawValue == "chat.completions" }?.state.value?.count == 700)
    }

    @Test func aServerThatRefusesTrackingIsReadInFullEveryRefresh() async throws {
        // An ACL user without CLIENT: tracking is refused, so nothing can be trusted between refreshes.
        let (server, admin, redis, gw, now) = try await Self.start { server in
            var url = server.url
            url.user = "watcher"
            url.password = "pw"
            return url
        }
        #expect(try await admin.pipeline([["ACL", "SETUSER", "watcher", "on", ">pw", "~*", "&*", "+@all", "-client"]]) == [.status("OK")])
        for _ in 0..<3 { _ = try await gw.fleet() }
        _ = redis.throttleReads()
        _ = try await admin.pipeline([["HSET", "{globex}:throttle:chat.completions", "limit", "1", "expires_at", String(now + 60)]])
        let fleet = try await gw.fleet()
        #expect(redis.throttleReads().filter { $0[0] == "EXISTS" }.count == 4)
        #expect(try Self.tenant(fleet, "globex").throttles.map(\.route.rawValue) == ["_all", "chat.completions"])
        withExtendedLifetime(server) {}
    }

    /// Forwards reads and never hears what changed, as a client without tracking.
    final class Deaf: RedisCommands {
        let inner: Recording
        init(_ inner: Recording) { self.inner = inner }
        var label: String { inner.label }
        func pipeline<T: Sendable>(_ commands: [RedisCommand], decode: @escaping @Sendable (RedisReply) -> T) async throws(BackendError) -> [T] {
            try await inner.pipeline(commands, decode: decode)
        }
        func scan(from cursor: ScanCursor, matching pattern: String, count: Int) async throws(BackendError) -> ScanPage {
            try await inner.scan(from: cursor, matching: pattern, count: count)
        }
    }

    /// While tracking announces changes to the cold keys, their re-read is a guard and comes four
    /// times less often; without tracking it comes every cold interval.
    @Test func coldDataIsReadAgainLessOftenWhileTrackingWorks() async throws {
        let now = Int64(SystemClock().now())
        let (server, _, _) = try await Self.seeded(at: now)
        func metaReads(tracked: Bool) async throws -> (reads: Int, tenants: Int) {
            let recording = Recording(RedisClient(server.url))
            let hands = Hands(Double(now))
            let gw = RedisGateway(redis: tracked ? recording : Deaf(recording), clock: hands, coldInterval: 100)
            var tenants = 0
            for _ in 0..<3 { tenants = try await gw.fleet().tenants.count }   // the first read, tracking starts, tracking heard
            _ = recording.metaReads()
            for _ in 0..<16 {   // 800 s in steps of 50 s
                hands.instant.withLock { $0 += 50 }
                _ = try await gw.fleet()
            }
            return (recording.metaReads(), tenants)
        }
        let tracked = try await metaReads(tracked: true), deaf = try await metaReads(tracked: false)
        // Per tenant in 800 s: 8 re-reads at 100 s, 2 or 3 at 400 s.
        #expect(deaf.tenants >= 3 && deaf.tenants == tracked.tenants)
        #expect(deaf.reads >= deaf.tenants * 7, "without tracking: every 100 s (\(deaf.reads) meta reads)")
        #expect(tracked.reads <= tracked.tenants * 3, "with tracking: every 400 s (\(tracked.reads) meta reads)")
        withExtendedLifetime(server) {}
    }

    /// Tracking by prefix keeps nothing per key in the server: a quiet tenant's counter keys, one
    /// set per window and never written, would stay in its tracking table for good in the default
    /// mode (about 130,000 a minute at 10,000 quiet tenants, docs/redis.md). The first request in
    /// a window is announced all the same.
    @Test func watchingQuietTenantsAcrossWindowsLeavesNothingInTheServersTrackingTable() async throws {
        let now = Int64(SystemClock().now())
        let (server, admin, _) = try await Self.seeded(at: now)
        let hands = Hands(Double((now / 60) * 60))
        let gw = RedisGateway(redis: RedisClient(server.url), clock: hands, coldInterval: 86_400)
        for _ in 0..<3 { _ = try await gw.fleet() }   // the first read, tracking starts, tracking heard
        for _ in 0..<30 {   // 30 windows of 10 s, 5 of 60 s: each read by its own counter keys
            hands.instant.withLock { $0 += 10 }
            _ = try await gw.fleet()
        }
        func stat(_ name: String) async throws -> Int? {
            let info = try #require(try await admin.pipeline([["INFO", "stats"]])[0].string)
            return info.split(whereSeparator: \.isNewline).first { $0.hasPrefix(name + ":") }.flatMap { Int($0.dropFirst(name.count + 1)) }
        }
        #expect(try await stat("tracking_total_keys") == 0)
        #expect(try await stat("tracking_total_prefixes") == KeySchema.trackedPrefixes.count)

        let ws = Int64(hands.now()) / 60 * 60
        _ = try await admin.pipeline([["INCR", "rl:{globex}:chat.completions:\(ws)"]])
        let counted = try await gw.fleet()
        #expect(try Self.tenant(counted, "globex").routes.first { $0.route.rawValue == "chat.completions" }?.state.value?.count == 1)
        withExtendedLifetime(server) {}
    }

    @Test func aQuietTenantIsReadAgainOnlyWhenAChangeIsAnnouncedAndRollsItsWindowsOverUnread() async throws {
        let now = Int64(SystemClock().now())
        let start = (now / 60) * 60 + 20   // near now (the seed's TTLs are real), and no 60 s window ends before start + 40
        let (server, admin, seed) = try await Self.seeded(at: start)
        let redis = Recording(RedisClient(server.url))
        let hands = Hands(Double(start))
        let gw = RedisGateway(redis: redis, clock: hands, coldInterval: 86_400)
        _ = try await gw.fleet()   // the first screen: tracking starts, then everything is read
        #expect(gw.cache.withLock { $0.looked } == 4)
        _ = redis.tenantsRead()
        let quiet = try await gw.fleet()
        #expect(redis.tenantsRead().isEmpty, "nothing changed: no tenant is read")
        #expect(gw.cache.withLock { $0.looked } == 0, "nothing is due: no tenant is even looked at")
        try RedisGatewayTests.expectStandardFleet(quiet, now: start)

        // The gateway counts a request of globex's: only globex is read again, and it shows.
        hands.instant.withLock { $0 += 1 }
        let ws = (start / 60) * 60
        _ = try await admin.pipeline([["INCR", "rl:{globex}:chat.completions:\(ws)"]])
        let counted = try await gw.fleet()
        #expect(redis.tenantsRead() == ["globex"])
        #expect(gw.cache.withLock { $0.looked } == 1)
        #expect(try Self.tenant(counted, "globex").routes.first?.state.value?.count == 11)
        #expect(counted.tenants.map(\.id) == quiet.tenants.map(\.id))
        for (a, b) in zip(counted.tenants, quiet.tenants) where a.id.rawValue != "globex" {
            #expect(a == b && a.isSameReading(as: b), "\(a.id): served as it was")
        }
        // acme's state is served again as the reading it was: the overview derives the budget's
        // reset from its own clock, and the digest sees by `readAt` that nothing moved.
        #expect(try Self.tenant(counted, "acme").readAt == Double(start))
        #expect(try Self.tenant(counted, "acme").budget?.value?.now == Double(start))
        #expect(try Self.tenant(counted, "globex").readAt == Double(start + 1))

        // A budget written is announced too.
        _ = try await admin.pipeline([["HINCRBY", "{acme}:budget:\(seed.month)", "used", "5"]])
        #expect(try Self.tenant(try await gw.fleet(), "acme").budget?.value?.budget.used == 850_005)
        #expect(redis.tenantsRead() == ["acme"])

        // acme's embeddings window (10 s) rolls over: no key of acme's was written since it was
        // read, so its new window's counter does not exist yet and acme rolls over unread, its
        // other windows as they were. The first request in the new window is announced.
        let unrolled = try await gw.fleet()
        let before = try Self.tenant(unrolled, "acme")
        hands.instant.withLock { $0 = Double((start / 10) * 10 + 10) }
        let rolled = try await gw.fleet()
        #expect(redis.tenantsRead().isEmpty)
        // The others' windows that ended had counted nothing: they show as they were, the same reading.
        for (a, b) in zip(rolled.tenants, unrolled.tenants) where a.id.rawValue != "acme" {
            #expect(a.isSameReading(as: b), "\(a.id)")
        }
        let acme = try Self.tenant(rolled, "acme")
        #expect(acme.readAt == Double((start / 10) * 10 + 10), "a state rolled over is a new reading")
        #expect(acme.routes.first { $0.route.rawValue == "embeddings" }?.state.value?.count == 0)
        #expect(before.routes.first { $0.route.rawValue == "embeddings" }?.state.value?.count ?? 0 > 0)
        for r in acme.routes where r.route.rawValue != "embeddings" {
            #expect(r.state.value?.count == before.routes.first { $0.route == r.route }?.state.value?.count, "\(r.route): its window did not roll over")
        }
        _ = try await gw.fleet()
        #expect(redis.tenantsRead().isEmpty)
        let next = (start / 10) * 10 + 10
        _ = try await admin.pipeline([["INCR", "rl:{acme}:embeddings:\(next)"]])
        #expect(try Self.tenant(try await gw.fleet(), "acme").routes.first { $0.route.rawValue == "embeddings" }?.state.value?.count == 1)

        // Read within `clockSkew` of a rollover (a budget written 1 s before the next window):
        // a gateway clock running ahead may have counted in the new window already, unannounced
        // to that read, so acme is read again when the window rolls over.
        hands.instant.withLock { $0 = Double(next + 9) }
        _ = try await admin.pipeline([["HINCRBY", "{acme}:budget:\(seed.month)", "used", "1"]])
        _ = try await gw.fleet()
        #expect(redis.tenantsRead() == ["acme"])
        hands.instant.withLock { $0 = Double(next + 10) }
        _ = try await gw.fleet()
        #expect(redis.tenantsRead() == ["acme"], "read 1 s before its window rolled over: read again")

        // A flush cannot be told key by key: every tenant is read again.
        _ = try await admin.pipeline([["FLUSHDB"]])
        _ = redis.tenantsRead()
        _ = try await gw.fleet()
        #expect(redis.tenantsRead().isSuperset(of: ["acme", "globex"]))
        withExtendedLifetime(server) {}
    }
}
