import Crypto
import Foundation
import Testing
@testable import Backends

/// Key create/rotate/revoke against the real Redis (standalone and cluster) that `make test` starts.
@Suite(.serialized, .enabled(if: TestServices.configured, "run through `make test`"))
struct KeyActionTests {
    static let admin = Operator(name: "ops:test", role: .admin, authenticated: false)

    static func setUp(_ redis: any RedisCommands, flush: [[String]]) async throws -> TenantID {
        let t = try TenantID("acme")
        var s = ContractSeed(now: Int64(SystemClock().now()))
        s.tenant(t)
        _ = try await redis.pipeline(flush + s.commands)
        return t
    }

    /// Every key in the index has a valid state; replaces/replaced_by point at each other; at least
    /// one usable key remains.
    static func expectInvariants(_ redis: any RedisCommands, _ t: TenantID, now: Double) async throws {
        let keys = try await RedisGateway(redis: redis).keys(of: t)
        let index = try await redis.pipeline([["SMEMBERS", KeySchema.apiKeys(t)]])[0].array?.count ?? -1
        #expect(keys.count == index, "every id in the index has a readable hash")
        let byID = Dictionary(uniqueKeysWithValues: keys.map { ($0.id, $0) })
        for k in keys {
            if let n = k.replacedBy { #expect(byID[n]?.replaces == k.id, "\(k.id) -> \(n) not mirrored") }
            if let o = k.replaces { #expect(byID[o]?.replacedBy == k.id, "\(k.id) <- \(o) not mirrored") }
        }
        #expect(keys.contains { $0.state(at: now).isUsable })
    }

    @Test func createRotateRevokeFollowTheContract() async throws {
        let (h, p) = try #require(TestServices.redis)
        try await Self.exerciseKeys(RedisClient(RedisURL(endpoint: .tcp(host: h, port: p), database: 14)), flush: [["FLUSHDB"]])
    }

    /// Also run on the cluster by RedisClusterTests, which owns the shared cluster.
    static func exerciseKeys(_ redis: any RedisCommands, flush: [[String]]) async throws {
        let t = try await setUp(redis, flush: flush)
        let writer = RedisActions(redis: redis)
        let now = Int64(SystemClock().now())

        let created = try await writer.apply(.keyCreate(t, label: "ci", scopes: ["chat"], expiresIn: 86_400), by: Self.admin, now: now)
        let id = try #require(created.newKey), secret = try #require(created.secret)
        #expect(secret.plaintext.hasPrefix("tg.acme.\(id)."))
        #expect(secret.plaintext.split(separator: ".").last?.count == 43)   // 32 bytes, unpadded base64url
        let hash = try #require(try await redis.pipeline([["HGETALL", KeySchema.apiKey(t, id)]])[0].hash)
        #expect(hash["prefix"] == String(secret.plaintext.prefix(12)))
        #expect(hash["sha256"] == SHA256.hash(data: Array(secret.plaintext.utf8)).map { String(format: "%02x", $0) }.joined())
        #expect(hash["state"] == "active" && hash["expires_at"] == String(now + 86_400) && hash["scopes"] == "chat")

        let rotated = try await writer.apply(.keyRotate(t, id, grace: 3600), by: Self.admin, now: now)
        let newID = try #require(rotated.newKey)
        let old = try #require(try await redis.pipeline([["HGETALL", KeySchema.apiKey(t, id)]])[0].hash)
        #expect(old["state"] == "rotating" && old["grace_until"] == String(now + 3600) && old["replaced_by"] == newID.rawValue)
        await #expect(throws: BackendError.self) { _ = try await writer.apply(.keyRotate(t, id, grace: 60), by: Self.admin, now: now) }

        let again = try await writer.apply(.keyRotate(t, newID, grace: 0), by: Self.admin, now: now)
        let revokedNow = try #require(try await redis.pipeline([["HGET", KeySchema.apiKey(t, newID), "state"]])[0].string)
        #expect(revokedNow == "revoked" && again.newKey != nil)
        try await Self.expectInvariants(redis, t, now: Double(now))

        // No secret anywhere in Redis: only hashes and prefixes.
        for secretText in [secret.plaintext, rotated.secret!.plaintext, again.secret!.plaintext] {
            let keys = try await redis.scanKeys(matching: "*")
            for k in keys {
                let dump = try await redis.pipeline([["TYPE", k]])[0].string == "hash"
                    ? (try await redis.pipeline([["HGETALL", k]])[0].array?.compactMap(\.string) ?? [])
                    : (try await redis.pipeline([["SMEMBERS", k]])[0].array?.compactMap(\.string) ?? [])
                #expect(!dump.contains { $0.contains(secretText.split(separator: ".").last!) }, "secret found in \(k)")
            }
        }
    }

    @Test func concurrentRotationsOfOneKeyHaveExactlyOneWinner() async throws {
        let (h, p) = try #require(TestServices.redis)
        let redis = RedisClient(RedisURL(endpoint: .tcp(host: h, port: p), database: 15))
        let t = try await Self.setUp(redis, flush: [["FLUSHDB"]])
        let now = Int64(SystemClock().now())
        var current = try #require(try await RedisActions(redis: redis).apply(.keyCreate(t, label: "x", scopes: [], expiresIn: 0), by: Self.admin, now: now).newKey)
        for _ in 0..<25 {
            // Two operators, two connections, the same key at the same time.
            let a = RedisActions(redis: RedisClient(RedisURL(endpoint: .tcp(host: h, port: p), database: 15)))
            let b = RedisActions(redis: RedisClient(RedisURL(endpoint: .tcp(host: h, port: p), database: 15)))
            let key = current
            async let ra = Result(catching: { () async throws(BackendError) in try await a.apply(.keyRotate(t, key, grace: 60), by: Self.admin, now: now) })
            async let rb = Result(catching: { () async throws(BackendError) in try await b.apply(.keyRotate(t, key, grace: 60), by: Self.admin, now: now) })
            let results = await [ra, rb]
            let winners = results.compactMap { try? $0.get() }
            #expect(winners.count == 1)
            for r in results { if case .failure(let e) = r { #expect(e.description.hasPrefix("conflict")) } }
            current = try #require(winners.first?.newKey)
        }
        try await Self.expectInvariants(redis, t, now: Double(now))
        #expect(try await redis.pipeline([["SCARD", KeySchema.apiKeys(t)]])[0] == .integer(26))
    }
}

extension Result where Failure == BackendError {
    init(catching body: () async throws(BackendError) -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
