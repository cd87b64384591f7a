import Backends
import Crypto
import Foundation
import TestSupport
import Testing

/// The console on a real Redis that this test starts, kills and restarts: the last data stays on
/// screen marked stale with its age, and the console recovers by itself.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_REDIS"] != nil, "run through `make test`"))
struct RedisConsoleTests {
    static func startRedis(port: Int, dir: String) async throws {
        let r = try await Tmux.run("/usr/bin/redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
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

    /// A seeded redis-server of the test's own and the console on it (refresh and timeout
    /// `refresh`), showing its three tenants; both stopped afterwards.
    static func withConsoleOnOwnRedis(refresh: Double, _ body: (Tmux, _ port: Int, _ dir: String) async throws -> Void) async throws {
        let port = Int(try LoopbackSocket.freePort())
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-console-redis-\(port)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await startRedis(port: port, dir: dir)
        try await seed(port: port)
        let t = try Tmux(width: 100, height: 26)
        defer {
            t.kill()
            _ = try? Child.wait(Child.spawn("/usr/bin/redis-cli", ["-p", String(port), "shutdown", "nosave"]))
        }
        t.start("\(Tmux.binary) --redis redis://127.0.0.1:\(port) --refresh \(refresh) --redis-timeout \(refresh)")
        _ = try await t.waitFor("three tenants") { $0.contains("acme") && $0.contains("globex") && $0.contains("initech") && $0.contains("1/3") }
        try await body(t, port, dir)
    }

    @Test func staysUpMarksStaleAndRecovers() async throws {
        try await Self.withConsoleOnOwnRedis(refresh: 0.5) { t, port, dir in
            _ = try await Tmux.run("/usr/bin/redis-cli", ["-p", String(port), "shutdown", "nosave"])
            let stale = try await t.waitFor("the stale mark") { $0.contains("STALE") }
            #expect(stale.contains("acme") && stale.contains("initech"), "the last data must stay on screen")

            try await Self.startRedis(port: port, dir: dir)
            try await Self.seed(port: port)
            let back = try await t.waitFor("recovery") { !$0.contains("STALE") && $0.contains("acme") }
            #expect(back.contains("acme"))
            t.keys("q")
            #expect(try await t.waitForExit() == "0")
        }
    }

    /// Redis killed and restarted five times under each screen that reads it: every time the screen marks its
    /// data stale, keeps answering keys, and comes back by itself with the data of its screen.
    @Test func survivesFiveRestartsUnderEveryScreen() async throws {
        try await Self.withConsoleOnOwnRedis(refresh: 0.3) { t, port, dir in
            var restarts = 0
            // The audit and usage screens read ClickHouse only (Redis stays idle under them): their fault is a frozen
            // ClickHouse (AuditConsoleTests).
            for (command, mark) in [("overview", "initech"), ("tenant acme", "chat.completions"), ("keys acme", "KEY"), ("noisy", "globex"),
                                    ("expiring", "expir")] {
                t.keys(":")
                t.keys(command, literal: true)
                t.keys("Enter")
                _ = try await t.waitFor(":\(command)") { $0.contains(mark) && !$0.contains("STALE") }
                for _ in 0..<5 {
                    _ = try await Tmux.run("/usr/bin/redis-cli", ["-p", String(port), "shutdown", "nosave"])
                    _ = try await t.waitFor("stale under :\(command)") { $0.contains("STALE") && $0.contains(mark) }
                    t.keys("?")   // keys still answer while the store is down
                    _ = try await t.waitFor("help under :\(command)") { $0.lowercased().contains("quit") }
                    t.keys("Escape")
                    try await Self.startRedis(port: port, dir: dir)
                    try await Self.seed(port: port)
                    _ = try await t.waitFor("recovery under :\(command)") { !$0.contains("STALE") && $0.contains(mark) }
                    restarts += 1
                }
            }
            #expect(restarts == 25)
            t.keys("q")
            #expect(try await t.waitForExit() == "0")
            try await t.expectSaneTerminal()
        }
    }
}

/// The console on the test Redis with thousands of tenants: a tenant reached by `/` and by
/// `:tenant`, its detail with its routes and its throttle, and nothing of the tenant whose id its
/// own is a prefix of.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_REDIS"] != nil, "run through `make test`"))
struct RedisConsoleScreensTests {
    static let url = "redis://\(ProcessInfo.processInfo.environment["TOLLGATE_TEST_REDIS"] ?? "")/21"

    static func seed() async throws {
        let redis = RedisAuto(try RedisURL(parsing: url))
        _ = try await redis.pipeline([["FLUSHDB"]])
        var s = ContractSeed(now: Int64(SystemClock().now()))
        for i in 0..<3_000 {
            let t = try TenantID("tenant-\(i)")
            s.tenant(t, tier: i % 3 == 0 ? .enterprise : .smb)
            s.route(t, try Route("chat.completions"), policy: try LimitPolicy(limit: 600, window: 60), count: i % 500)
        }
        let acme = try TenantID("acme"), acmeEU = try TenantID("acme-eu")
        s.tenant(acme)
        s.route(acme, try Route("chat.completions"), policy: try LimitPolicy(limit: 600, window: 60), count: 590)
        s.route(acme, try Route("embeddings"), policy: try LimitPolicy(limit: 100, window: 10), count: 40)
        s.throttle(acme, try Route("embeddings"), limit: 7, expiresIn: 1800)
        s.key(acme, try KeyID("k_rotate_me"), state: .active, expiresAt: s.now + 30 * 86_400)
        s.key(acme, try KeyID("k_revoke_me"), state: .active)
        s.tenant(acmeEU, tier: .smb)
        s.route(acmeEU, try Route("eu.only.route"), policy: try LimitPolicy(limit: 50, window: 60), count: 49)
        s.throttle(acmeEU, .all, limit: 3, expiresIn: 900)
        for chunk in stride(from: 0, to: s.commands.count, by: 5_000) {
            _ = try await redis.pipeline(Array(s.commands[chunk..<min(s.commands.count, chunk + 5_000)]))
        }
    }

    /// A tenant's detail with its data, drawn to its last line (a capture can land mid-frame):
    /// its title, a route, the audit pane's title and the footer.
    static func wholeDetail(_ screen: String, _ tenant: String) -> Bool {
        screen.contains("tenant \(tenant) ‹") && screen.contains("ROUTE") && screen.contains("chat.completions") && screen.contains("LATEST AUDIT EVENTS")
            && screen.contains("t throttle")
    }

    /// acme's detail: its routes and throttle, nothing of acme-eu.
    static func expectAcme(_ screen: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(screen.contains("tenant acme ‹"), "\(screen)", sourceLocation: sourceLocation)
        #expect(screen.contains("chat.completions") && screen.contains("embeddings"), "\(screen)", sourceLocation: sourceLocation)
        #expect(screen.contains("⏷7 29m") || screen.contains("⏷7 30m"), "the throttle with its time left", sourceLocation: sourceLocation)
        #expect(!screen.contains("eu.only.route") && !screen.contains("acme-eu"), "nothing of another tenant:\n\(screen)", sourceLocation: sourceLocation)
    }

    /// `tenants list --json` of 3,002 tenants, written in slices of 500: one document, every tenant once, in order.
    @Test func theFleetAsJSONInSlices() async throws {
        try await Self.seed()
        let out = try await Tmux.run(Tmux.binary, ["tenants", "list", "--json", "--redis", Self.url])
        #expect(out.status == 0, "\(out.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let ids = try #require(doc["tenants"] as? [[String: Any]]).compactMap { $0["tenant_id"] as? String }
        #expect(ids.count == 3002 && ids == ids.sorted() && Set(ids).count == 3002)
        #expect(doc["malformed_tenant_ids"] as? Int == 0 && doc["taken_at"] is Double)
    }

    @Test func aTenantByFilterAndByCommand() async throws {
        try await Self.seed()
        let t = try Tmux(width: 120, height: 30)
        defer { t.kill() }
        t.start("\(Tmux.binary) --redis \(Self.url) --refresh 0.5")
        _ = try await t.waitFor("the fleet") { $0.contains("3002 tenants") && $0.contains("/3002") }
        t.keys("/")
        t.keys("acme", literal: true)
        // Waits for the rows too: a capture can land between the header's and the rows' writes.
        let filtered = try await t.waitFor("the filter") { $0.contains("filter \"acme\": 2 of 3002 tenants") && $0.contains("acme-eu") }
        #expect(!filtered.contains("tenant-1 "))
        t.keys("Enter")   // keep the filter
        t.keys("Enter")   // open the first row: acme, busier than acme-eu
        Self.expectAcme(try await t.waitFor("acme's detail by the filter") { Self.wholeDetail($0, "acme") })
        t.keys("Escape")
        _ = try await t.waitFor("back on the overview") { $0.contains("filter \"acme\"") && !$0.contains("tenant acme ‹") }
        t.keys(":")
        t.keys("tenant acme", literal: true)
        t.keys("Enter")
        Self.expectAcme(try await t.waitFor("acme's detail by command") { Self.wholeDetail($0, "acme") })
        t.keys(":")
        t.keys("tenant acme-eu", literal: true)
        t.keys("Enter")
        let eu = try await t.waitFor("acme-eu's detail") { $0.contains("tenant acme-eu ‹") && $0.contains("eu.only.route") }
        #expect(!eu.contains("embeddings") && eu.contains("⏷3"))
        t.keys(":")
        t.keys("tenant nosuch", literal: true)
        t.keys("Enter")
        _ = try await t.waitFor("the refusal") { $0.contains("no tenant \"nosuch\" among the 3002 tenants") }
        t.keys("Escape")
        t.keys("q")
        #expect(try await t.waitForExit() == "0")
    }

    /// A rotation through the dialog does what the contract says, and the secret the dialog
    /// showed is the one whose digest Redis holds; a revocation without the tenant id typed is refused.
    @Test func keysThroughTheDialogs() async throws {
        try await Self.seed()
        let redis = RedisAuto(try RedisURL(parsing: Self.url))
        let t = try Tmux(width: 120, height: 30)
        defer { t.kill() }
        t.start("\(Tmux.binary) --redis \(Self.url) --refresh 0.5")
        _ = try await t.waitFor("the fleet") { $0.contains("3002 tenants") }
        t.keys(":")
        t.keys("keys acme", literal: true)
        t.keys("Enter")
        _ = try await t.waitFor("acme's keys") { $0.contains("k_rotate_me") && $0.contains("k_revoke_me") }
        t.keys("/")
        t.keys("rotate_me", literal: true)
        t.keys("Enter")
        t.keys("r")
        _ = try await t.waitFor("the rotate dialog") { $0.contains("rotate k_rotate_me of acme") && $0.contains("keeps working until tomorrow") }
        let before = SystemClock().now()
        t.keys("Enter")
        let shown = try await t.waitFor("the secret") { $0.contains("its secret, shown once") && $0.contains("tg.acme.") }
        let secret = try #require(shown.split(whereSeparator: { $0 == " " || $0 == "\n" }).first { $0.hasPrefix("tg.acme.") }.map(String.init))
        let old = try #require(try await redis.pipeline([["HGETALL", "{acme}:apikey:k_rotate_me"]])[0].hash)
        #expect(old["state"] == "rotating")
        let grace = try #require(old["grace_until"].flatMap(Double.init))
        #expect(abs(grace - (before + 86_400)) < 10, "24 hours of grace")
        let newID = try #require(old["replaced_by"])
        let new = try #require(try await redis.pipeline([["HGETALL", "{acme}:apikey:\(newID)"]])[0].hash)
        #expect(new["sha256"] == SHA256.hash(data: Array(secret.utf8)).map { String(format: "%02x", $0) }.joined())
        #expect(new["replaces"] == "k_rotate_me" && new["expires_at"] == old["expires_at"], "the new key inherits the expiry")
        t.keys("Escape")
        let after = try await t.waitFor("the secret gone") { !$0.contains("shown once") }
        #expect(!after.contains(secret))

        t.keys("Escape")   // clears the filter
        t.keys("/")
        t.keys("revoke_me", literal: true)
        t.keys("Enter")
        t.keys("x")
        _ = try await t.waitFor("the revoke dialog") { $0.contains("revoke k_revoke_me of acme") }
        t.keys("no longer needed", literal: true)
        t.keys("Enter")
        _ = try await t.waitFor("the refusal") { $0.contains("type the tenant id acme to confirm") }
        #expect(try await redis.pipeline([["HGET", "{acme}:apikey:k_revoke_me", "state"]])[0].string == "active", "nothing was revoked")
        t.keys("Escape")
        t.keys("q")
        #expect(try await t.waitForExit() == "0")
    }
}
