import Backends
import Foundation
import Testing

/// The config file and contexts, through the real binary.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_REDIS"] != nil, "run through `make test`"))
struct ConfigTests {
    static let redis = ProcessInfo.processInfo.environment["TOLLGATE_TEST_REDIS"] ?? ""

    static func write(_ text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("config.toml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func contextsChooseTheStoresAndFlagsWin() async throws {
        let path = try Self.write("""
        current-context = "ro"
        [contexts.ro]
        redis = "redis://\(Self.redis)/13"
        readonly = true
        [contexts.elsewhere]
        redis = "redis://127.0.0.1:1"
        """)
        #expect(try await Tmux.run(Tmux.binary, ["tenants", "list", "--config", path]).status == 0)
        let down = try await Tmux.run(Tmux.binary, ["tenants", "list", "--config", path, "--context", "elsewhere", "--redis-timeout", "1"])
        #expect(down.status == 5)
        // A flag overrides the context.
        #expect(try await Tmux.run(Tmux.binary, ["tenants", "list", "--config", path, "--context", "elsewhere", "--redis", "redis://\(Self.redis)/13"]).status == 0)
        // The context's read-only setting refuses actions.
        let ro = try await Tmux.run(Tmux.binary, ["throttle", "clear", "--tenant", "acme", "--all", "--yes", "--config", path,
                                            "--spool", FileManager.default.temporaryDirectory.appendingPathComponent("cfg-spool-\(getpid())").path])
        #expect(ro.status == 4 && ro.stderr.contains("read-only"))
    }

    @Test func passwordsComeFromFilesAndAreNeverEchoed() async throws {
        let pw = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-pw-\(getpid())").path
        try "hunter2-from-file\n".write(toFile: pw, atomically: true, encoding: .utf8)
        let path = try Self.write("""
        [contexts.p]
        redis = "redis://ops@\(Self.redis)/13"
        redis-password-file = "\(pw)"
        """)
        // A password file others may read is refused, naming it and its mode, as ssh does.
        chmod(pw, 0o644)
        let open = try await Tmux.run(Tmux.binary, ["tenants", "list", "--config", path, "--context", "p"])
        #expect(open.status == 2 && open.stderr.contains("\"\(pw)\" has mode 0644") && open.stderr.contains("chmod 600"), "\(open.stderr)")
        chmod(pw, 0o600)
        let r = try await Tmux.run(Tmux.binary, ["tenants", "list", "--config", path, "--context", "p"])
        #expect(r.status == 4, "the server refuses the password from the file: \(r.stderr)")
        #expect(!r.stderr.contains("hunter2") && !r.stdout.contains("hunter2") && !open.stderr.contains("hunter2"))
    }

    @Test func badConfigsNameTheProblem() async throws {
        let unknown = try Self.write("[contexts.x]\nredis = \"redis://h:1\"\ncolour = \"red\"\n")
        let r = try await Tmux.run(Tmux.binary, ["tenants", "list", "--config", unknown, "--context", "x"])
        #expect(r.status == 2 && r.stderr.contains("unknown setting \"colour\""))
        let missing = try await Tmux.run(Tmux.binary, ["tenants", "list", "--config", unknown, "--context", "nope"])
        #expect(missing.status == 2 && missing.stderr.contains("no context \"nope\""))
        let number = try Self.write("current-context = 5\n[contexts.x]\nredis = \"redis://h:1\"\n")
        let n = try await Tmux.run(Tmux.binary, ["tenants", "list", "--config", number])
        #expect(n.status == 2 && n.stderr.contains("current-context must be the name of a context, as a string"), "\(n.stderr)")
        let broken = try Self.write("[contexts.x\n")
        #expect(try await Tmux.run(Tmux.binary, ["tenants", "list", "--config", broken, "--context", "x"]).status == 2)
        let badURL = try Self.write("[contexts.x]\nredis = \"http://x\"\n")
        let u = try await Tmux.run(Tmux.binary, ["tenants", "list", "--config", badURL, "--context", "x"])
        #expect(u.status == 2 && u.stderr.contains("from the config file"))
        for (text, message) in [("colour = 1\n[contexts.x]\nredis = \"redis://h:1\"\n", "unknown setting \"colour\" at the top"),
                                ("contexts = 5\n", "contexts must be tables"), ("[contexts]\nx = 5\n", "contexts.x must be a table")] {
            let file = try Self.write(text)
            let r = try await Tmux.run(Tmux.binary, ["tenants", "list", "--config", file])
            #expect(r.status == 2 && r.stderr.contains(message), "\(text): \(r.stderr)")
        }
        // Found by the property tests: TOMLKit's parser aborts the process on this header.
        let header = try Self.write("[contexts.x]\nredis = \"redis://h:1\"\n[ é]\n")
        let h = try await Tmux.run(Tmux.binary, ["tenants", "list", "--config", header, "--context", "x"])
        #expect(h.status == 2 && h.stderr.contains("line 3: a table header must start with a bare key"), "\(h.stderr)")
    }

    /// `:ctx NAME` in the console switches to another context's stores; Tab completes the names;
    /// an unknown one is refused and the console stays where it was.
    @Test func theConsoleSwitchesContexts() async throws {
        let host = Self.redis.split(separator: ":")
        let client = RedisClient(RedisURL(endpoint: .tcp(host: String(host[0]), port: Int32(host[1])!), database: 22))
        let other = RedisClient(RedisURL(endpoint: .tcp(host: String(host[0]), port: Int32(host[1])!), database: 23))
        var a = ContractSeed(now: Int64(SystemClock().now())), b = a
        a.tenant(try TenantID("alpha-only"))
        b.tenant(try TenantID("beta-only"))
        b.tenant(try TenantID("beta-two"))
        _ = try await client.pipeline([["FLUSHDB"]] + a.commands)
        _ = try await other.pipeline([["FLUSHDB"]] + b.commands)
        let path = try Self.write("""
        current-context = "eu"
        [contexts.eu]
        redis = "redis://\(Self.redis)/22"
        [contexts.us]
        redis = "redis://\(Self.redis)/23"
        readonly = true
        """)
        let t = try Tmux(width: 120, height: 30)
        defer { t.kill() }
        t.start("\(Tmux.binary) --config \(path) --refresh 0.5")
        _ = try await t.waitFor("context eu") { $0.contains("alpha-only") && $0.contains("ctx eu") }
        t.keys(":")
        t.keys("ctx u", literal: true)
        t.keys("Tab")
        t.keys("Enter")
        let us = try await t.waitFor("context us") { $0.contains("beta-only") && $0.contains("ctx us") }
        #expect(!us.contains("alpha-only") && us.contains("read-only"), "the other context's tenants and settings")
        t.keys(":")
        t.keys("ctx nowhere", literal: true)
        t.keys("Enter")
        let refused = try await t.waitFor("the refusal") { $0.contains("no context \"nowhere\"") }
        #expect(refused.contains("beta-only"))
        t.keys("q")
        #expect(try await t.waitForExit() == "0")
    }
}
