import Backends
import Foundation
import Testing

/// The console on a real Redis that this test starts, kills and restarts: the last data stays on
/// screen marked stale with its age, and the console recovers by itself.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_REDIS"] != nil, "run through `make test`"))
struct RedisConsoleTests {
    static func startRedis(port: Int, dir: String) throws {
        let r = try Tmux.run("/usr/bin/redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                                       "--dir", dir, "--daemonize", "yes", "--pidfile", dir + "/redis.pid"])
        #expect(r.status == 0)
    }

    static func seed(port: Int) async throws {
        let client = RedisClient(RedisURL(endpoint: .tcp(host: "127.0.0.1", port: Int32(port))))
        var s = ContractSeed(now: Int64(SystemClock().now()))
        for name in ["acme", "globex", "initech"] {
            let t = try TenantID(name)
            s.tenant(t)
            s.route(t, try Route("chat.completions"), policy: try LimitPolicy(limit: 100, window: 3600), count: 42)
        }
        for _ in 0..<50 {
            if (try? await client.pipeline(s.commands)) != nil { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw Tmux.Failure("could not seed redis on \(port)")
    }

    @Test func staysUpMarksStaleAndRecovers() async throws {
        let port = Int(try FreePort.next())
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-console-redis-\(port)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.startRedis(port: port, dir: dir)
        try await Self.seed(port: port)

        let t = try Tmux(width: 100, height: 26)
        defer {
            t.kill()
            _ = try? Tmux.run("/usr/bin/redis-cli", ["-p", String(port), "shutdown", "nosave"])
        }
        t.start("\(Tmux.binary) --redis redis://127.0.0.1:\(port) --refresh 0.5 --redis-timeout 0.5")
        _ = try t.waitFor("three tenants") { $0.contains("acme") && $0.contains("globex") && $0.contains("initech") && $0.contains("1/3") }

        _ = try Tmux.run("/usr/bin/redis-cli", ["-p", String(port), "shutdown", "nosave"])
        let stale = try t.waitFor("the stale mark") { $0.contains("STALE") }
        #expect(stale.contains("acme") && stale.contains("initech"), "the last data must stay on screen")

        try Self.startRedis(port: port, dir: dir)
        try await Self.seed(port: port)
        let back = try t.waitFor("recovery") { !$0.contains("STALE") && $0.contains("acme") }
        #expect(back.contains("acme"))
        t.keys("q")
        #expect(try t.waitForExit() == "0")
    }
}

enum FreePort {
    static func next() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw Tmux.Failure("no free port") }
        return UInt16(bigEndian: addr.sin_port)
    }
}
