import Foundation
import Testing
@testable import Backends

/// Faults against a private redis-server (`PrivateRedis`) this test starts, kills and restarts.
@Suite(.enabled(if: TestServices.configured, "run through `make test`"))
struct RedisFaultTests {
    @Test func survivesAKillAndRestartOfRedisWhilePolling() async throws {
        let server = try PrivateRedis()
        try server.start()
        let client = RedisClient(RedisURL(endpoint: .tcp(host: "127.0.0.1", port: server.port)), connectTimeout: 0.5, commandTimeout: 1)
        let gw = RedisGateway(redis: client)
        var seed = ContractSeed(now: Int64(SystemClock().now()))
        seed.tenant("acme")
        seed.route("acme", "chat", policy: "10/60", count: 3)
        _ = try await PrivateRedis.eventually { try await client.pipeline(seed.commands) }
        #expect(try await gw.fleet().tenants.count == 1)

        server.kill()
        // Down: every poll fails with `.unavailable`, promptly; later ones inside the backoff fail fast.
        for _ in 0..<5 {
            await #expect(throws: BackendError.self) { _ = try await gw.fleet() }
        }
        do { _ = try await gw.fleet() } catch {
            guard case .unavailable(let why) = error else { Issue.record("expected unavailable, got \(error)"); return }
            #expect(why.contains("retrying") || why.contains("refused") || why.contains("timed out"))
        }

        // Back: the same client recovers by itself once the backoff allows a new connection.
        try server.start()
        _ = try await PrivateRedis.eventually { try await client.pipeline(seed.commands) }
        let fleet = try await PrivateRedis.eventually { try await gw.fleet() }
        #expect(fleet.tenants.map(\.id.rawValue) == ["acme"])
    }

    @Test func aStalledServerTimesOutInsteadOfHanging() async throws {
        let server = try PrivateRedis()
        try server.start()
        let client = RedisClient(RedisURL(endpoint: .tcp(host: "127.0.0.1", port: server.port)), connectTimeout: 0.5, commandTimeout: 0.5)
        _ = try await PrivateRedis.eventually { try await client.pipeline([["PING"]]) }
        // CLIENT PAUSE freezes every client's commands longer than the command timeout; it answers
        // at once, so the freeze is in place before the PING is sent.
        let other = RedisClient(RedisURL(endpoint: .tcp(host: "127.0.0.1", port: server.port)))
        #expect(try await other.pipeline([["CLIENT", "PAUSE", "1500"]])[0] == .status("OK"))
        await #expect(throws: BackendError.self) { _ = try await client.pipeline([["PING"]]) }
        _ = try await PrivateRedis.eventually { try await client.pipeline([["PING"]]) }
    }
}
