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

    @Test func contextsChooseTheStoresAndFlagsWin() throws {
        let path = try Self.write("""
        current-context = "ro"
        [contexts.ro]
        redis = "redis://\(Self.redis)/13"
        readonly = true
        [contexts.elsewhere]
        redis = "redis://127.0.0.1:1"
        """)
        #expect(try Tmux.run(Tmux.binary, ["tenants", "list", "--config", path]).status == 0)
        let down = try Tmux.run(Tmux.binary, ["tenants", "list", "--config", path, "--context", "elsewhere", "--redis-timeout", "1"])
        #expect(down.status == 5)
        // A flag overrides the context.
        #expect(try Tmux.run(Tmux.binary, ["tenants", "list", "--config", path, "--context", "elsewhere", "--redis", "redis://\(Self.redis)/13"]).status == 0)
        // The context's read-only setting refuses actions.
        let ro = try Tmux.run(Tmux.binary, ["throttle", "clear", "--tenant", "acme", "--all", "--yes", "--config", path,
                                            "--spool", FileManager.default.temporaryDirectory.appendingPathComponent("cfg-spool-\(getpid())").path])
        #expect(ro.status == 4 && ro.stderr.contains("read-only"))
    }

    @Test func passwordsComeFromFilesAndAreNeverEchoed() throws {
        let pw = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-pw-\(getpid())").path
        try "hunter2-from-file\n".write(toFile: pw, atomically: true, encoding: .utf8)
        let path = try Self.write("""
        [contexts.p]
        redis = "redis://ops@\(Self.redis)/13"
        redis-password-file = "\(pw)"
        """)
        let r = try Tmux.run(Tmux.binary, ["tenants", "list", "--config", path, "--context", "p"])
        #expect(r.status == 4, "the server refuses the password from the file: \(r.stderr)")
        #expect(!r.stderr.contains("hunter2") && !r.stdout.contains("hunter2"))
    }

    @Test func badConfigsNameTheProblem() throws {
        let unknown = try Self.write("[contexts.x]\nredis = \"redis://h:1\"\ncolour = \"red\"\n")
        let r = try Tmux.run(Tmux.binary, ["tenants", "list", "--config", unknown, "--context", "x"])
        #expect(r.status == 2 && r.stderr.contains("unknown setting \"colour\""))
        let missing = try Tmux.run(Tmux.binary, ["tenants", "list", "--config", unknown, "--context", "nope"])
        #expect(missing.status == 2 && missing.stderr.contains("no context \"nope\""))
        let broken = try Self.write("[contexts.x\n")
        #expect(try Tmux.run(Tmux.binary, ["tenants", "list", "--config", broken, "--context", "x"]).status == 2)
        let badURL = try Self.write("[contexts.x]\nredis = \"http://x\"\n")
        let u = try Tmux.run(Tmux.binary, ["tenants", "list", "--config", badURL, "--context", "x"])
        #expect(u.status == 2 && u.stderr.contains("from the config file"))
    }
}
