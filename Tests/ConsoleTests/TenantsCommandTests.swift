import Backends
import Foundation
import Testing

/// `tollgate tenants list/show` against the real Redis that `make test` starts: output, JSON
/// shape and exit codes.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_REDIS"] != nil, "run through `make test`"))
struct TenantsCommandTests {
    static let db = 9

    static func redisURL() -> String { "redis://\(ProcessInfo.processInfo.environment["TOLLGATE_TEST_REDIS"]!)/\(db)" }

    static func seed() async throws {
        let client = RedisClient(try RedisURL(parsing: redisURL()))
        let now = Int64(SystemClock().now())
        var s = ContractSeed(now: now)
        let acme = try TenantID("acme")
        s.tenant(acme)
        s.route(acme, try Route("chat.completions"), policy: try LimitPolicy(limit: 100, window: 3600), count: 130)
        s.throttle(acme, .all, limit: 50, expiresIn: 600)
        s.budget(acme, limit: 1000, used: 250)
        s.key(acme, try KeyID("k1"), state: .active)
        s.commands.append(["HSET", "{acme}:meta", "name", "Acme \u{1B}[31mEvil\u{7}"])
        s.commands += [["SET", "{acme}:session:1", "x"], ["SET", "{acme}:session:2", "x"], ["SET", "{acme}:cache:q", "x"]]
        _ = try await client.pipeline([["FLUSHDB"]] + s.commands)
    }

    @Test func listAndShowPrintWhatTheConsoleShows() async throws {
        try await Self.seed()
        let list = try await Tmux.run(Tmux.binary, ["tenants", "list", "--redis", Self.redisURL()])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("acme") && list.stdout.contains("TENANT"))

        let json = try await Tmux.run(Tmux.binary, ["tenants", "list", "--json", "--redis", Self.redisURL()])
        #expect(json.status == 0)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let tenants = try #require(doc["tenants"] as? [[String: Any]])
        #expect(tenants.count == 1)
        let routes = try #require(tenants[0]["routes"] as? [[String: Any]])
        #expect(routes[0]["effective_limit"] as? Int == 50)
        #expect(routes[0]["denied"] as? Int == 80)
        #expect((tenants[0]["budget"] as? [String: Any])?["percent_used"] as? Double == 25)
        // One refresh of a small keyspace is a whole SCAN walk: the counts are there.
        #expect(tenants[0]["sessions"] as? Int == 2 && tenants[0]["cache_entries"] as? Int == 1)
        #expect(doc["keyspace_counted_at"] is Double)

        let show = try await Tmux.run(Tmux.binary, ["tenants", "show", "acme", "--redis", Self.redisURL()])
        #expect(show.status == 0)
        #expect(show.stdout.contains("chat.completions") && show.stdout.contains("50 for"))
        #expect(show.stdout.contains("sessions 2, cache entries 1"))
        // Hostile bytes in data never reach the terminal raw.
        #expect(!show.stdout.contains("\u{1B}") && !show.stdout.contains("\u{7}"))
        #expect(show.stdout.contains("\\x1B[31mEvil\\x07"))
    }

    @Test func exitCodes() async throws {
        let bad = try await Tmux.run(Tmux.binary, ["tenants", "show", "ac*me", "--redis", Self.redisURL()])
        #expect(bad.status == 2 && bad.stderr.contains("invalid tenant_id \"ac*me\""))
        let missing = try await Tmux.run(Tmux.binary, ["tenants", "show", "nobody", "--redis", Self.redisURL()])
        #expect(missing.status == 1 && missing.stderr.contains("not found"))
        let down = try await Tmux.run(Tmux.binary, ["tenants", "list", "--redis", "redis://127.0.0.1:1", "--redis-timeout", "1"])
        #expect(down.status == 5 && down.stderr.contains("unavailable"))
        let hostPort = ProcessInfo.processInfo.environment["TOLLGATE_TEST_REDIS"]!
        // A password on the command line would show in ps: refused before anything is sent.
        let visible = try await Tmux.run(Tmux.binary, ["tenants", "list", "--redis", "redis://nobody:hunter2@\(hostPort)"])
        #expect(visible.status == 2 && visible.stderr.contains("a password in --redis shows in the process list") && !visible.stderr.contains("hunter2"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-redis-pw-\(getpid())").path
        _ = FileManager.default.createFile(atPath: file, contents: Data("hunter2\n".utf8), attributes: [.posixPermissions: 0o600])
        defer { try? FileManager.default.removeItem(atPath: file) }
        let denied = try await Tmux.run(Tmux.binary, ["tenants", "list", "--redis", "redis://nobody@\(hostPort)", "--redis-password-file", file])
        #expect(denied.status == 4, "the server refuses the password from the file: \(denied.stderr)")
        #expect(!denied.stderr.contains("hunter2"))
        let fromEnv = try await Tmux.run("/usr/bin/env", ["TOLLGATE_REDIS_URL=redis://nobody:hunter2@\(hostPort)", Tmux.binary, "tenants", "list"])
        #expect(fromEnv.status == 4 && !fromEnv.stderr.contains("hunter2"), "the environment may carry it")
        let url = try await Tmux.run(Tmux.binary, ["tenants", "list", "--redis", "http://x"])
        #expect(url.status == 2 && url.stderr.contains("Redis URL"))
    }
}
