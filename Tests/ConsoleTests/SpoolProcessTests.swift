import Backends
import Foundation
import Testing
import TestSupport

/// Ten `tollgate` processes act while ClickHouse is frozen (SIGSTOP) for 30 s: each action
/// applies in Redis and its audit event waits in the shared spool; the processes drain it in
/// turn against the frozen server, which takes the inserts it cannot answer. After the thaw, one
/// more drain, and every event is stored exactly once.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_REDIS"] != nil, "run through `make test`"))
struct SpoolProcessTests {
    static let redisURL = "redis://\(ProcessInfo.processInfo.environment["TOLLGATE_TEST_REDIS"] ?? "")/20"

    @Test func tenProcessesThroughAThirtySecondFreezeStoreEachEventOnce() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let services = root.appendingPathComponent("scripts/services.sh").path
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-freeze-\(UUID().uuidString)").path
        try #require(await Child.exit(try Child.spawn("/bin/bash", [services, "clickhouse", dir])) == 0)
        defer { _ = try? Child.wait(Child.spawn("/bin/bash", [services, "stop", dir])); try? FileManager.default.removeItem(atPath: dir) }
        let env = try String(contentsOfFile: dir + "/env", encoding: .utf8)
        let url = try #require(env.split(separator: "=").last).trimmingCharacters(in: .whitespacesAndNewlines)
        let pid = try #require(pid_t(try String(contentsOfFile: dir + "/clickhouse.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let audit = try ClickHouseAudit(client: ClickHouseClient(try ClickHouseURL(parsing: url)), database: "freeze")
        try await audit.applySchema()
        let redis = RedisClient(try RedisURL(parsing: Self.redisURL))
        var seed = ContractSeed(now: Int64(SystemClock().now()))
        for i in 0..<10 { seed.tenant(try TenantID("t\(i)")) }
        _ = try await redis.pipeline([["FLUSHDB"]] + seed.commands)
        let spool = dir + "/spool.jsonl"
        func tollgate(_ args: [String]) async throws -> Tmux.Output {
            try await Tmux.run("/usr/bin/env", ["TOLLGATE_ROLE=operator", Tmux.binary] + args
                + ["--redis", Self.redisURL, "--clickhouse", url, "--clickhouse-database", "freeze", "--clickhouse-timeout", "1", "--spool", spool])
        }

        kill(pid, SIGSTOP)
        var frozen = true
        defer { if frozen { kill(pid, SIGCONT) } }
        let frozenAt = SystemClock().now()
        let statuses = try await withThrowingTaskGroup(of: Int32.self) { group in
            for i in 0..<10 {
                group.addTask {
                    try await tollgate(["throttle", "set", "--tenant", "t\(i)", "--all", "--limit", "1", "--for", "5m", "--reason", "freeze \(i)", "--yes"]).status
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.allSatisfy { $0 == 0 }, "\(statuses)")
        // Every action applied in Redis although its audit could not go out.
        for i in 0..<10 { #expect(try await redis.pipeline([["EXISTS", "{t\(i)}:throttle:_all"]])[0] == .integer(1)) }
        // More processes drain against the frozen server until the freeze has lasted 30 s.
        while SystemClock().now() - frozenAt < 30 { _ = try await tollgate(["audit", "tail", "--tenant", "t0"]); try await Task.sleep(nanoseconds: 2_000_000_000) }
        kill(pid, SIGCONT)
        frozen = false
        try await Task.sleep(nanoseconds: 1_000_000_000)   // what the server took while frozen is applied by now
        let drained = try await tollgate(["schema", "apply"])
        #expect(drained.status == 0, "\(drained.stderr)")
        let counts = String(decoding: try await audit.client.execute(
            "SELECT event_id, count() FROM freeze.audit_log WHERE action = 'throttle.set' GROUP BY event_id FORMAT TabSeparated"), as: UTF8.self)
        let rows = counts.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        #expect(rows.count == 10 && rows.allSatisfy { $0.count == 2 && $0[1] == "1" }, "\(counts)")
        #expect(try AuditSpool(path: spool).pending().isEmpty)
    }
}
