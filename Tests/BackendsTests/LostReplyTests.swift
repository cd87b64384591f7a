import Crypto
import Foundation
import Synchronization
import TestSupport
import Testing
@testable import Backends

/// Every action ends in a known outcome: when the reply is lost, the request's marker is read
/// back; only when Redis stays unreachable is the outcome unknown, with what it would be.
@Suite(.serialized, .enabled(if: TestServices.configured, "run through `make test`"))
struct LostReplyTests {
    static let admin = Operator(name: "ops:test", role: .admin, authenticated: false)

    /// acme with one active key, in a database of its own.
    static func seed(_ db: Int) async throws -> (RedisClient, TenantID, KeyID) {
        let (h, p) = try #require(TestServices.redis)
        let direct = RedisClient(RedisURL(endpoint: .tcp(host: h, port: p), database: db))
        var s = ContractSeed(now: Int64(SystemClock().now()))
        let t = try TenantID("acme"), k = try KeyID("k_old")
        s.tenant(t)
        s.key(t, k, state: .active)
        s.route(t, try Route("chat"), policy: try LimitPolicy(limit: 100, window: 60), count: 1)
        _ = try await direct.pipeline([["FLUSHDB"]] + s.commands)
        return (direct, t, k)
    }

    /// A client through the proxy that gives up after half a second.
    static func through(_ proxy: DelayingProxy, db: Int) -> RedisClient {
        RedisClient(RedisURL(endpoint: .tcp(host: "127.0.0.1", port: proxy.port), database: db), connectTimeout: 1, commandTimeout: 0.5)
    }

    static func sha256(_ s: String) -> String { SHA256.hash(data: Array(s.utf8)).map { String(format: "%02x", $0) }.joined() }

    @Test func aRequestThatArrivesAfterTheClientGaveUpIsSettledAsNotApplied() async throws {
        let db = 24
        let (direct, t, k) = try await Self.seed(db)
        let (_, port) = try #require(TestServices.redis)
        let proxy = try DelayingProxy(to: port, mode: .delayRequest(4))   // long enough for the read-back to come first
        defer { proxy.stop() }
        let writer = RedisActions(redis: Self.through(proxy, db: db), settleSeconds: 3)
        let rid = ActionRequest.newRequestID()
        do {
            let o = try await writer.apply(.keyRotate(t, k, grace: 0), by: Self.admin, now: Int64(SystemClock().now()), requestID: rid)
            Issue.record("expected a failure, got \(o.verified)")
        } catch {
            #expect("\(error)".contains("not applied, nothing changed"), "\(error)")
        }
        try await Task.sleep(nanoseconds: 4_000_000_000)   // the held EVAL reaches Redis now, and must change nothing
        #expect(try await direct.pipeline([["HGET", KeySchema.apiKey(t, k), "state"]])[0].string == "active")
        #expect(try await direct.pipeline([["SCARD", KeySchema.apiKeys(t)]])[0] == .integer(1), "no successor was made")
        #expect(try await direct.pipeline([["GET", KeySchema.actionMarker(t, requestID: rid)]])[0].string == "cancelled")
    }

    @Test func aLostReplyOfAnAppliedRotationKeepsItsSecret() async throws {
        let db = 25
        let (direct, t, k) = try await Self.seed(db)
        let (_, port) = try #require(TestServices.redis)
        let proxy = try DelayingProxy(to: port, mode: .delayReply(1.5))
        defer { proxy.stop() }
        let outcome = try await RedisActions(redis: Self.through(proxy, db: db))
            .apply(.keyRotate(t, k, grace: 0), by: Self.admin, now: Int64(SystemClock().now()))
        #expect(outcome.verified == .readBack)
        let newKey = try #require(outcome.newKey), secret = try #require(outcome.secret)
        #expect(try await direct.pipeline([["HGET", KeySchema.apiKey(t, k), "state"]])[0].string == "revoked")
        #expect(try await direct.pipeline([["HGET", KeySchema.apiKey(t, newKey), "sha256"]])[0].string == Self.sha256(secret.plaintext),
                "the secret handed back is the one Redis holds the digest of")
    }

    @Test func aStoreThatStaysUnreachableLeavesTheOutcomeUnknownWithWhatItWouldBe() async throws {
        let db = 26
        let (direct, t, k) = try await Self.seed(db)
        let (_, port) = try #require(TestServices.redis)
        let proxy = try DelayingProxy(to: port, mode: .vanish)
        defer { proxy.stop() }
        let outcome = try await RedisActions(redis: Self.through(proxy, db: db), settleSeconds: 1.5)
            .apply(.keyRotate(t, k, grace: 0), by: Self.admin, now: Int64(SystemClock().now()))
        guard case .unknown(let why) = outcome.verified else { Issue.record("expected an unknown outcome, got \(outcome.verified)"); return }
        #expect(why.contains("no reply came"))
        // The rotation did reach Redis: the secret kept is the only one that works now.
        let newKey = try #require(outcome.newKey), secret = try #require(outcome.secret)
        #expect(try await direct.pipeline([["HGET", KeySchema.apiKey(t, newKey), "sha256"]])[0].string == Self.sha256(secret.plaintext))
    }

    @Test func markersAreWrittenWithTheEffectAndSettleOnce() async throws {
        let db = 27
        let (direct, t, _) = try await Self.seed(db)
        let writer = RedisActions(redis: direct)
        let rid = ActionRequest.newRequestID()
        _ = try await writer.apply(.throttleSet(t, .all, limit: 3, duration: 60, reason: "x"), by: Self.admin, now: Int64(SystemClock().now()),
                                   requestID: rid)
        let marker = KeySchema.actionMarker(t, requestID: rid)
        #expect(try await direct.pipeline([["GET", marker]])[0].string == "applied")
        guard case .integer(let ttl) = try await direct.pipeline([["TTL", marker]])[0] else { Issue.record("no TTL"); return }
        #expect(ttl > 86_000 && ttl <= 86_400, "the marker is kept a day")
        // The same request again changes nothing: it was settled.
        await #expect(throws: BackendError.self) {
            _ = try await writer.apply(.throttleClear(t, .all), by: Self.admin, now: Int64(SystemClock().now()), requestID: rid)
        }
        #expect(try await direct.pipeline([["EXISTS", KeySchema.throttle(t, .all)]])[0] == .integer(1))
        // A refused action writes no marker.
        let refused = ActionRequest.newRequestID()
        await #expect(throws: BackendError.self) {
            _ = try await writer.apply(.budgetRaise(t, limit: 5, duration: 60, reason: "x"), by: Self.admin, now: Int64(SystemClock().now()),
                                       requestID: refused)
        }
        #expect(try await direct.pipeline([["EXISTS", KeySchema.actionMarker(t, requestID: refused)]])[0] == .integer(0))
    }

    @Test func aRaiseNeverLowersABudgetAndABrokenExpiryIsNeverNever() async throws {
        let db = 28
        let (direct, t, k) = try await Self.seed(db)
        let now = Int64(SystemClock().now())
        var s = ContractSeed(now: now)
        s.budget(t, limit: 10_000_000, used: 1)
        _ = try await direct.pipeline(s.commands + [["HSET", KeySchema.apiKey(t, k), "expires_at", "soon"]])
        let writer = RedisActions(redis: direct)
        await #expect {
            _ = try await writer.apply(.budgetRaise(t, limit: 5_000_000, duration: 3600, reason: "x"), by: Self.admin, now: now)
        } throws: { error in
            error as? BackendError == .conflict("a raise must be above the effective limit, 10000000 tokens now")
        }
        _ = try await writer.apply(.budgetRaise(t, limit: 20_000_000, duration: 3600, reason: "x"), by: Self.admin, now: now)
        // A key whose expires_at is not a number is shown broken, and cannot be rotated.
        let key = try #require(try await RedisGateway(redis: direct).keys(of: t).first { $0.id == k })
        #expect(key.problem?.contains("expires_at \"soon\" is not a number") == true)
        await #expect {
            _ = try await writer.apply(.keyRotate(t, k, grace: 60), by: Self.admin, now: now)
        } throws: { error in
            "\(error)".contains("expires_at that is not a number")
        }
    }

}

/// On the cluster (in its serialized suite, which owns the shared cluster): a rotation held by a
/// paused master is settled once the master answers; a reply lost after the script ran is read back.
extension RedisClusterTests {
    @Test func lostRepliesAreSettledOnTheCluster() async throws {
        try await Self.flushAll()
        let cluster = RedisAuto(try Self.seedURL(), connectTimeout: 1, commandTimeout: 0.5)
        var s = ContractSeed(now: Int64(SystemClock().now()))
        let t = try TenantID("acme"), k = try KeyID("k_old")
        s.tenant(t)
        s.key(t, k, state: .active)
        _ = try await cluster.pipeline(s.commands)
        let slot = HashSlot.of(KeySchema.apiKey(t, k))
        let owner = try #require(try await Self.nodes().first { $0.slots.contains(slot) })
        let node = RedisClient(RedisURL(endpoint: .tcp(host: "127.0.0.1", port: owner.port)))
        _ = try await node.pipeline([["CLIENT", "PAUSE", "4000", "WRITE"]])   // long past the client's timeout, even on a loaded machine
        await #expect {
            _ = try await RedisActions(redis: cluster, settleSeconds: 10).apply(.keyRotate(t, k, grace: 0), by: LostReplyTests.admin,
                                                                               now: Int64(SystemClock().now()))
        } throws: { error in
            "\(error)".contains("not applied, nothing changed")
        }
        let fresh = RedisAuto(try Self.seedURL())
        #expect(try await fresh.pipeline([["HGET", KeySchema.apiKey(t, k), "state"]])[0].string == "active")
        // And a reply lost after the script ran, through a client that drops the first reply.
        let lossy = DroppingFirstReply(fresh)
        let outcome = try await RedisActions(redis: lossy).apply(.keyRotate(t, k, grace: 60), by: LostReplyTests.admin, now: Int64(SystemClock().now()))
        #expect(outcome.verified == .readBack)
        let newKey = try #require(outcome.newKey), secret = try #require(outcome.secret)
        #expect(try await fresh.pipeline([["HGET", KeySchema.apiKey(t, newKey), "sha256"]])[0].string == LostReplyTests.sha256(secret.plaintext))
    }
}

/// Sends every command, but loses the reply of the first EVAL as a dropped connection would.
final class DroppingFirstReply: RedisCommands {
    let inner: any RedisCommands
    private let dropped = Mutex(false)
    init(_ inner: any RedisCommands) { self.inner = inner }
    var label: String { inner.label }

    func pipeline<T: Sendable>(_ commands: [RedisCommand], decode: @escaping @Sendable (RedisReply) -> T) async throws(BackendError) -> [T] {
        let replies = try await inner.pipeline(commands, decode: decode)
        let isEval = commands.first.map { String(decoding: $0.resp.prefix(40), as: UTF8.self).contains("EVAL") } ?? false
        if isEval, dropped.withLock({ d in defer { d = true }; return !d }) { throw .replyLost("test: the reply was dropped") }
        return replies
    }

    func scan(from cursor: ScanCursor, matching pattern: String, count: Int) async throws(BackendError) -> ScanPage {
        try await inner.scan(from: cursor, matching: pattern, count: count)
    }
}
