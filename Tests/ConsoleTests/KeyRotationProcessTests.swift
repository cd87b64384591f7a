import Backends
import Foundation
import TestSupport
import Testing

/// Key rotation through the real binary: two processes racing on one key, and a loop of rotations
/// killed in the middle. The invariants are checked on what the gateway reads.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_REDIS"] != nil, "run through `make test`"))
struct KeyRotationProcessTests {
    static let env = ProcessInfo.processInfo.environment
    static let url = "redis://\(env["TOLLGATE_TEST_REDIS"] ?? "")/10"
    static let spool = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-rot-\(getpid()).jsonl").path

    static func setUp() async throws -> (RedisClient, KeyID) {
        let redis = RedisClient(try RedisURL(parsing: url))
        var s = ContractSeed(now: Int64(SystemClock().now()))
        s.tenant(try TenantID("acme"))
        _ = try await redis.pipeline([["FLUSHDB"]] + s.commands)
        let created = try await Tmux.run(Tmux.binary, ["keys", "create", "--tenant", "acme", "--label", "race", "--json", "--redis", url, "--spool", spool])
        #expect(created.status == 0, "\(created.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any])
        return (redis, try KeyID(try #require(doc["key_id"] as? String)))
    }

    static func rotate(_ key: KeyID, output: String) throws -> pid_t {
        try Child.spawn(Tmux.binary, ["keys", "rotate", "--tenant", "acme", "--key", key.rawValue, "--grace", "1h", "--yes", "--json", "--redis", url,
                                      "--spool", spool], stdout: output)
    }

    static func expectInvariants(_ redis: RedisClient) async throws {
        let t = try TenantID("acme")
        let keys = try await RedisGateway(redis: redis).keys(of: t)
        let index = try await redis.pipeline([["SCARD", KeySchema.apiKeys(t)]])[0]
        #expect(index == .integer(Int64(keys.count)), "an id in the index has no valid hash")
        let byID = Dictionary(uniqueKeysWithValues: keys.map { ($0.id, $0) })
        for k in keys {
            if let n = k.replacedBy { #expect(byID[n]?.replaces == k.id) }
            if let o = k.replaces { #expect(byID[o]?.replacedBy == k.id) }
        }
        let now = SystemClock().now()
        #expect(keys.filter { $0.state(at: now) == .active }.count == 1, "exactly one active key after rotations")
    }

    @Test func twoProcessesRotatingTheSameKey() async throws {
        let (redis, first) = try await Self.setUp()
        var key = first
        var secrets: [String] = []
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-race-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for round in 0..<8 {
            let a = try Self.rotate(key, output: "\(dir)/a\(round)"), b = try Self.rotate(key, output: "\(dir)/b\(round)")
            let sa = await Child.exit(a), sb = await Child.exit(b)
            let statuses = [sa, sb].sorted()
            #expect(statuses == [0, 3], "round \(round): exit codes \(statuses)")
            let winner = sa == 0 ? "\(dir)/a\(round)" : "\(dir)/b\(round)"
            let doc = try #require(try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: winner))) as? [String: Any])
            key = try KeyID(try #require(doc["key_id"] as? String))
            secrets.append(try #require(doc["secret"] as? String))
        }
        try await Self.expectInvariants(redis)
        // The secrets were printed once; the spool (and so the audit log) never saw them.
        let spooled = (try? String(contentsOfFile: Self.spool, encoding: .utf8)) ?? ""
        #expect(spooled.contains("key.rotate"))
        for s in secrets { #expect(!spooled.contains(s.split(separator: ".").last!)) }
    }

    @Test func aKilledLoopOfRotationsLeavesAConsistentState() async throws {
        let (redis, key) = try await Self.setUp()
        // Rotate the newest key again and again until killed.
        let script = """
        key=\(key.rawValue)
        while true; do
          out=$(\(Tmux.binary) keys rotate --tenant acme --key "$key" --grace 1h --yes --json --redis \(Self.url) --spool \(Self.spool)) || exit 1
          key=$(printf '%s' "$out" | sed 's/.*"key_id":"\\([^"]*\\)".*/\\1/')
        done
        """
        let loop = try Child.spawn("/bin/sh", ["-c", script], group: true)
        // Let it rotate a few times, then kill the whole process group hard.
        for _ in 0..<100 {
            if case .integer(let n) = try await redis.pipeline([["SCARD", "{acme}:apikeys"]])[0], n >= 4 { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        kill(-loop, SIGKILL)   // the loop and the rotation under way, and nothing of any other test
        _ = await Child.exit(loop)
        if case .integer(let n) = try await redis.pipeline([["SCARD", "{acme}:apikeys"]])[0] { #expect(n >= 2) }
        try await Self.expectInvariants(redis)
    }
}
