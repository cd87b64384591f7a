import Foundation
import Testing
@testable import Backends

/// Faults against a private redis-server this test starts, kills and restarts.
@Suite(.enabled(if: TestServices.configured, "run through `make test`"))
struct RedisFaultTests {
    final class Server {
        let port: Int32
        let dir: String
        var process: Process?

        init() throws {
            port = try LoopbackSocket.freePort()
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-redis-\(port)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }

        func start() throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
            p.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            process = p
        }

        func kill() {
            guard let p = process else { return }
            Glibc.kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            process = nil
        }

        deinit {
            kill()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    /// Polls until `body` succeeds; gives up after `attempts` tries spaced by `pause` seconds.
    static func eventually<T>(attempts: Int = 100, pause: Double = 0.1, _ body: () async throws -> T) async throws -> T {
        var last: Error?
        for _ in 0..<attempts {
            do { return try await body() } catch { last = error }
            try await Task.sleep(nanoseconds: UInt64(pause * 1e9))
        }
        throw last!
    }

    @Test func survivesAKillAndRestartOfRedisWhilePolling() async throws {
        let server = try Server()
        try server.start()
        let client = RedisClient(RedisURL(endpoint: .tcp(host: "127.0.0.1", port: server.port)), connectTimeout: 0.5, commandTimeout: 1)
        let gw = RedisGateway(redis: client)
        var seed = ContractSeed(now: Int64(SystemClock().now()))
        seed.tenant("acme")
        seed.route("acme", "chat", policy: "10/60", count: 3)
        _ = try await Self.eventually { try await client.pipeline(seed.commands) }
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
        _ = try await Self.eventually { try await client.pipeline(seed.commands) }
        let fleet = try await Self.eventually { try await gw.fleet() }
        #expect(fleet.tenants.map(\.id.rawValue) == ["acme"])
    }

    @Test func aStalledServerTimesOutInsteadOfHanging() async throws {
        let server = try Server()
        try server.start()
        let client = RedisClient(RedisURL(endpoint: .tcp(host: "127.0.0.1", port: server.port)), connectTimeout: 0.5, commandTimeout: 0.5)
        _ = try await Self.eventually { try await client.pipeline([["PING"]]) }
        // CLIENT PAUSE freezes every client's commands longer than the command timeout; it answers
        // at once, so the freeze is in place before the PING is sent.
        let other = RedisClient(RedisURL(endpoint: .tcp(host: "127.0.0.1", port: server.port)))
        #expect(try await other.pipeline([["CLIENT", "PAUSE", "1500"]])[0] == .status("OK"))
        await #expect(throws: BackendError.self) { _ = try await client.pipeline([["PING"]]) }
        _ = try await Self.eventually { try await client.pipeline([["PING"]]) }
    }
}
