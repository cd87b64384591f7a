import Foundation
import TestSupport
@testable import Backends

/// A redis-server of a test's own, for what must not share a server with other tests: killing
/// it, or key tracking (a FLUSHDB anywhere on a server announces a flush to every tracking client).
final class PrivateRedis {
    let port: Int32
    let dir: String
    var pid: pid_t?

    init() throws {
        port = try LoopbackSocket.freePort()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-redis-\(port)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    var url: RedisURL { RedisURL(endpoint: .tcp(host: "127.0.0.1", port: port)) }

    func start() throws {
        pid = try Child.spawn("/usr/bin/redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir])
    }

    func kill() {
        guard let p = pid else { return }
        Glibc.kill(p, SIGKILL)
        Child.wait(p)
        pid = nil
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(atPath: dir)
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
}
