import Backends
import Foundation
import Testing
import TestSupport

/// `tollgate simulate` as a person runs it: progress, the end of a run on ctrl-c, bad flags,
/// stores that are not there, and a Redis that holds somebody else's fleet.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_REDIS"] != nil, "run through `make test`"))
struct SimulateCommandTests {
    static let db = 33
    static var redisURL: String { "redis://\(ProcessInfo.processInfo.environment["TOLLGATE_TEST_REDIS"]!)/\(db)" }
    static var clickhouse: String { ProcessInfo.processInfo.environment["TOLLGATE_TEST_CLICKHOUSE"]! }
    static let args = ["simulate", "--redis", redisURL, "--clickhouse", clickhouse, "--clickhouse-database", "tollgate_simcli", "--tenants", "20"]

    static func flush() async throws { _ = try await RedisClient(try RedisURL(parsing: redisURL)).pipeline([["FLUSHDB"]]) }

    @Test func aRunPrintsItsProgressAndItsSummary() async throws {
        try await Self.flush()
        let run = try await Tmux.run(Tmux.binary, Self.args + ["--rate", "500", "--duration", "3s", "--report-every", "1", "--scenario", "auth-storm"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("set up 20 tenants") && run.stdout.contains("scenario auth-storm: sim-"))
        let progress = run.stdout.split(separator: "\n").filter { $0.contains("req/s") && !$0.hasPrefix("done") }
        #expect(progress.count >= 2, "\(run.stdout)")
        #expect(run.stdout.contains("done:") && run.stdout.contains("rows: usage"))
        // It wrote a fleet that the rest of tollgate reads.
        let list = try await Tmux.run(Tmux.binary, ["tenants", "list", "--json", "--redis", Self.redisURL])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])
        #expect((doc["tenants"] as? [[String: Any]])?.count == 20)
    }

    @Test func ctrlCEndsTheRunWithWhatItWrote() async throws {
        try await Self.flush()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-sim-\(getpid()).out").path
        defer { unlink(out) }
        let pid = try Child.spawn(Tmux.binary, Self.args + ["--rate", "500", "--report-every", "0.5"], stdout: out)
        var text = ""
        for _ in 0..<100 where !text.contains("req/s") {
            try await Task.sleep(nanoseconds: 100_000_000)
            text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        }
        kill(pid, SIGINT)
        let status = await Child.exit(pid)
        text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        #expect(status == 0 && text.contains("done:"), "\(text)")
    }

    @Test(arguments: [
        (["--tenants", "0"], "invalid --tenants 0"),
        (["--rate=-5"], "invalid --rate -5: must be between 1 and 1000000"),
        (["--duration", "5x"], "invalid --duration \"5x\""),
        (["--duration", "0"], "invalid --duration \"0\""),
        (["--scenario", "noisy"], "invalid scenario \"noisy\": must be one of noisy-neighbour"),
        (["--report-every", "0"], "invalid --report-every 0: must be between 0.2 and 3600"),
    ])
    func badFlagsExit2NamingTheValue(_ extra: [String], _ message: String) async throws {
        let run = try await Tmux.run(Tmux.binary, Self.args + extra)
        #expect(run.status == 2 && run.stderr.contains(message), "\(run.stderr)")
    }

    @Test func storesThatAreNotThereExit5() async throws {
        let port = try LoopbackSocket.freePort()
        let noRedis = try await Tmux.run(Tmux.binary, ["simulate", "--redis", "redis://127.0.0.1:\(port)", "--duration", "1s"])
        #expect(noRedis.status == 5 && noRedis.stderr.contains("127.0.0.1:\(port)"), "\(noRedis.stderr)")
        let noClickHouse = try await Tmux.run(Tmux.binary, ["simulate", "--redis", Self.redisURL, "--clickhouse", "http://127.0.0.1:\(port)", "--duration", "1s"])
        #expect(noClickHouse.status == 5, "\(noClickHouse.stderr)")
    }

    @Test func aRedisWithAnotherFleetIsRefusedAndLeftAlone() async throws {
        try await Self.flush()
        let client = RedisClient(try RedisURL(parsing: Self.redisURL))
        _ = try await client.pipeline([["SADD", "gw:tenants", "acme"], ["HSET", "{acme}:meta", "name", "Acme"]])
        let run = try await Tmux.run(Tmux.binary, Self.args + ["--setup-only"])
        #expect(run.status == 2 && run.stderr.contains("holds tenants simulate did not create (\"acme\")"), "\(run.stderr)")
        let members = try await client.pipeline([["SMEMBERS", "gw:tenants"]])[0].array?.compactMap(\.string)
        #expect(members == ["acme"])
    }

    /// `make sandbox`: the console opens on the simulated fleet; ctrl-c in it stops the simulator
    /// and both servers and removes the sandbox's folder. (The script's build step is skipped:
    /// TOLLGATE_BIN names the binary under test.)
    @Test func theSandboxOpensTheConsoleAndCtrlCStopsEverything() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let t = try Tmux(width: 200, height: 50)
        defer { t.kill() }
        let dirFile = t.dir.appendingPathComponent("sandbox-dir").path
        t.start("\(root.path)/scripts/sandbox.sh", environment: "TOLLGATE_BIN=\(Tmux.binary) SANDBOX_DIR_FILE=\(dirFile) TENANTS=300 RATE=500")
        _ = try await t.waitFor("the console on the sandbox") { $0.contains("300 tenants ·") && Tmux.tenantRows($0) > 20 }
        let dir = try await t.waitForFile("sandbox-dir").trimmingCharacters(in: .whitespacesAndNewlines)
        let pids = try ["simulate", "redis", "clickhouse"].map { name in
            try #require(pid_t(try String(contentsOfFile: "\(dir)/\(name).pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        #expect(pids.allSatisfy { kill($0, 0) == 0 })
        t.keys("C-c")
        let status = try await t.waitForExit()
        #expect(status == "0" || status == "130", "\(t.capture())")   // 130: the interrupt reached the script too
        try await t.expectSaneTerminal()
        #expect(pids.allSatisfy { kill($0, 0) != 0 }, "a process of the sandbox outlived it")
        #expect(!FileManager.default.fileExists(atPath: dir))
    }
}
