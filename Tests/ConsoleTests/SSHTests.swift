import Backends
import Foundation
import Testing
import TestSupport

/// The console over a real SSH connection: an sshd of the test's own on loopback (Debian's
/// openssh-server, a generated host key and an authorized key), `ssh -tt` into it from a tmux
/// window, the console running there against the test Redis while `tollgate simulate` moves it.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_REDIS"] != nil
    && FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd"), "run through `make test`, which installs openssh-server"))
struct SSHTests {
    static let db = 32
    static var redisURL: String { "redis://\(ProcessInfo.processInfo.environment["TOLLGATE_TEST_REDIS"]!)/\(db)" }

    /// An sshd on a free loopback port that accepts one generated key; stopped by `stop`.
    final class SSHServer {
        let dir: String
        let port: Int32
        private var pid: pid_t = 0

        init() async throws {
            port = try LoopbackSocket.freePort()
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-sshd-\(port)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)   // privilege separation
            for (name, type) in [("host", "ed25519"), ("client", "ed25519")] {
                let r = try await Tmux.run("/usr/bin/ssh-keygen", ["-q", "-t", type, "-N", "", "-f", "\(dir)/\(name)"])
                #expect(r.status == 0, "\(r.stderr)")
            }
            try FileManager.default.copyItem(atPath: "\(dir)/client.pub", toPath: "\(dir)/authorized_keys")
            let config = """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(dir)/host
            PidFile \(dir)/sshd.pid
            AuthorizedKeysFile \(dir)/authorized_keys
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PubkeyAuthentication yes
            PermitRootLogin prohibit-password
            StrictModes no
            UsePAM no
            """
            try config.write(toFile: "\(dir)/sshd_config", atomically: true, encoding: .utf8)
            _ = FileManager.default.createFile(atPath: "\(dir)/config.toml", contents: Data(), attributes: [.posixPermissions: 0o600])
            pid = try Child.spawn("/usr/sbin/sshd", ["-D", "-e", "-f", "\(dir)/sshd_config"], stderr: "\(dir)/sshd.log")
            for _ in 0..<100 {
                if (try? await Tmux.run("/usr/bin/ssh", Self.clientOptions(dir: dir, port: port) + ["true"]))?.status == 0 { return }
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            throw Tmux.Failure("sshd did not come up: \((try? String(contentsOfFile: "\(dir)/sshd.log", encoding: .utf8)) ?? "")")
        }

        static func clientOptions(dir: String, port: Int32) -> [String] {
            ["-p", String(port), "-i", "\(dir)/client", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
             "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "127.0.0.1"]
        }

        /// `ssh -tt` running `command` on the server, as a shell line for the tmux window.
        func sshLine(_ command: String) -> String {
            (["/usr/bin/ssh", "-tt"] + Self.clientOptions(dir: dir, port: port)).joined(separator: " ") + " \"\(command)\""
        }

        func stop() {
            if pid > 0 {
                kill(pid, SIGTERM)
                Child.wait(pid)
            }
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    /// The console's command on the server: its own config and spool, a marker to find it by.
    static func console(marker: String, server: SSHServer, extra: String = "") -> String {
        "env TOLLGATE_CONFIG=\(server.dir)/config.toml \(Tmux.binary) --redis \(redisURL) --spool \(server.dir)/spool-\(marker) --refresh 1 \(extra)"
    }

    static func consoleRunning(_ marker: String) async throws -> Bool {
        try await Tmux.run("/usr/bin/pgrep", ["-f", "spool-\(marker)"]).status == 0
    }

    static func waitGone(_ marker: String) async throws -> Bool {
        for _ in 0..<100 {
            if try await !consoleRunning(marker) { return true }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        return false
    }

    /// Starts `simulate` into the test database; returns its pid.
    static func simulate() async throws -> pid_t {
        _ = try await RedisClient(try RedisURL(parsing: redisURL)).pipeline([["FLUSHDB"]])
        let pid = try Child.spawn(Tmux.binary, ["simulate", "--redis", redisURL, "--tenants", "1000", "--rate", "1000", "--seed", "4"])
        let redis = RedisClient(try RedisURL(parsing: redisURL))
        for _ in 0..<100 {
            if case .integer(let n)? = try? await redis.pipeline([["SCARD", "gw:tenants"]]).first, n == 1000 { return pid }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw Tmux.Failure("simulate did not set up its fleet")
    }

    @Test func killingTheSSHClientEndsTheConsoleMidRefreshAndMidDialog() async throws {
        let server = try await SSHServer()
        defer { server.stop() }
        let sim = try await Self.simulate()
        defer { kill(sim, SIGTERM); Child.wait(sim) }

        // Mid-refresh: the client dies while the overview refreshes every second.
        let refresh = "r\(UUID().uuidString.prefix(8))"
        let t = try Tmux(width: 120, height: 30)
        defer { t.kill() }
        t.start(server.sshLine(Self.console(marker: refresh, server: server)))
        _ = try await t.waitFor("the overview over ssh") { $0.contains("1000 tenants") && $0.contains("sim-") }
        #expect(try await Self.consoleRunning(refresh))
        let ssh = try #require(pid_t(try await t.waitForFile("pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(ssh, SIGKILL)
        #expect(try await Self.waitGone(refresh), "the console outlived its SSH connection")

        // Mid-dialog: a throttle typed but not confirmed when the connection dies is not applied.
        let dialog = "d\(UUID().uuidString.prefix(8))"
        let u = try Tmux(width: 120, height: 30)
        defer { u.kill() }
        u.start(server.sshLine(Self.console(marker: dialog, server: server)))
        _ = try await u.waitFor("the overview over ssh") { $0.contains("1000 tenants") && $0.contains("sim-") }
        u.keys(":")
        u.keys("tenant sim-0001", literal: true)
        u.keys("Enter")
        // The throttle is offered once the tenant has been read (its routes are on screen).
        _ = try await u.waitFor("the tenant, read") { $0.contains("tenant sim-0001 ‹") && $0.contains("chat.completions") }
        u.keys("t")
        _ = try await u.waitFor("the throttle dialog") { $0.lowercased().contains("throttle") && $0.lowercased().contains("reason") }
        u.keys("Tab")
        u.keys("1", literal: true)
        u.keys("Tab")
        u.keys("Tab")
        u.keys("killed mid-dialog", literal: true)
        _ = try await u.waitFor("the dialog filled in") { $0.contains("killed mid-dialog") }
        let sshU = try #require(pid_t(try await u.waitForFile("pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(sshU, SIGKILL)
        #expect(try await Self.waitGone(dialog), "the console outlived its SSH connection")
        let throttles = try await RedisClient(try RedisURL(parsing: Self.redisURL)).scanKeys(matching: "{sim-0001}:throttle:*")
        #expect(throttles.isEmpty, "a dialog left unconfirmed was applied: \(throttles)")
    }

    /// The bytes the console writes through the connection per refresh, at 80x24 and 200x50 with
    /// 1,000 tenants moving (measured on the client side of the pipe; docs/benchmarks.md).
    @Test func bytesPerRefreshOverSSH() async throws {
        let server = try await SSHServer()
        defer { server.stop() }
        let sim = try await Self.simulate()
        defer { kill(sim, SIGTERM); Child.wait(sim) }
        for (w, h) in [(80, 24), (200, 50)] {
            let marker = "b\(UUID().uuidString.prefix(8))"
            let t = try Tmux(width: w, height: h)
            defer { t.kill() }
            let log = t.dir.appendingPathComponent("bytes").path
            t.start(server.sshLine(Self.console(marker: marker, server: server)) + " | tee \(log)")
            _ = try await t.waitFor("the overview") { $0.contains("1000 tenants") && $0.contains("sim-") }
            try await Task.sleep(nanoseconds: 3_000_000_000)   // past the first full frames
            let start = (try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int) ?? 0
            try await Task.sleep(nanoseconds: 10_000_000_000)
            let end = (try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int) ?? 0
            let perRefresh = Double(end - start) / 10
            print("ssh \(w)x\(h): \(Int(perRefresh)) bytes per refresh (1 s) with 1,000 simulated tenants")
            #expect(perRefresh > 0, "the screen did not change over SSH")
            t.keys("q")
            #expect(try await Self.waitGone(marker))
        }
    }
}
