import Backends
import Foundation
import TestSupport
import Testing

/// Sign-in with Keycloak (its stand-in: scripts/keycloak-standin.py) through the real binary:
/// login, whoami, logout, each role's reads and actions, a tenant-scoped operator trying every
/// path to another tenant (CLI and console), a service account, and a Keycloak that is down.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_KEYCLOAK"] != nil, "run through `make test`"))
struct KeycloakCommandTests {
    static let env = ProcessInfo.processInfo.environment
    static let keycloak = env["TOLLGATE_TEST_KEYCLOAK"] ?? ""
    static let redisURL = "redis://\(env["TOLLGATE_TEST_REDIS"] ?? "")/31"
    static let clickhouse = env["TOLLGATE_TEST_CLICKHOUSE"] ?? ""
    static let db = "tollgate_keycloak"
    let state = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-kc-\(UUID().uuidString)").path
    var spool: String { state + "/spool.jsonl" }

    /// The binary with this test's state folder and the stand-in as Keycloak.
    func tollgate(_ args: [String], keycloak: String = KeycloakCommandTests.keycloak) async throws -> Tmux.Output {
        try await Tmux.run("/usr/bin/env", ["XDG_STATE_HOME=\(state)", "TOLLGATE_KEYCLOAK_URL=\(keycloak)", Tmux.binary] + args)
    }

    func stores(_ args: [String]) -> [String] {
        args + ["--redis", Self.redisURL, "--clickhouse", Self.clickhouse, "--clickhouse-database", Self.db, "--spool", spool]
    }

    static func control(_ path: String, _ body: [String: Any]) async throws -> Any? {
        let data = try JSONSerialization.data(withJSONObject: body)
        let r = try await HTTPClient(label: "stand-in").send(HTTPRequest("POST", keycloak + path, headers: ["Content-Type: application/json"], body: Array(data)))
        return try? JSONSerialization.jsonObject(with: Data(r.body))
    }

    /// `tollgate login` as `user`, approved in the stand-in as the browser would.
    func login(_ id: String, _ username: String, roles: [String], tenant: String? = nil) async throws -> Tmux.Output {
        var user: [String: Any] = ["realm": "ops", "id": id, "username": username, "roles": roles]
        if let tenant { user["tenant_id"] = tenant }
        _ = try await Self.control("/_test/user", user)
        let out = state + "/login.out"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let pid = try Child.spawn("/usr/bin/env", ["XDG_STATE_HOME=\(state)", "TOLLGATE_KEYCLOAK_URL=\(Self.keycloak)", Tmux.binary, "login"],
                                  stdout: out, stderr: out + ".err")
        var code: String?
        for _ in 0..<100 where code == nil {
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            code = text.range(of: "enter the code  ").map { String(text[$0.upperBound...].prefix(9)) }
            if code == nil { try await Task.sleep(nanoseconds: 50_000_000) }
        }
        _ = try await Self.control("/_test/approve", ["user_code": try #require(code), "user_id": id])
        let status = await Child.exit(pid)
        return Tmux.Output(status: status, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                           stderr: (try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? "")
    }

    static func seed() async throws -> ClickHouseAudit {
        let redis = RedisClient(try RedisURL(parsing: redisURL))
        var s = ContractSeed(now: Int64(SystemClock().now()))
        for name in ["acme", "globex", "acme-eu"] {
            let t = try TenantID(name)
            s.tenant(t)
            s.route(t, try Route("chat.completions"), policy: try LimitPolicy(limit: 600, window: 60), count: 10)
            s.key(t, try KeyID("k_\(name.replacingOccurrences(of: "-", with: ""))"), state: .active)
        }
        _ = try await redis.pipeline([["FLUSHDB"]] + s.commands)
        let audit = try ClickHouseAudit(client: ClickHouseClient(try ClickHouseURL(parsing: clickhouse)), database: db)
        _ = try await audit.client.execute("DROP DATABASE IF EXISTS \(db)")
        try await audit.applySchema()
        return audit
    }

    @Test func signInReadActAndSignOut() async throws {
        let audit = try await Self.seed()
        let login = try await login("u-alice", "alice", roles: ["tollgate-support"])
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.stdout.contains("/realms/ops/device") && login.stdout.contains("█"), "the URL, the code and a QR code")
        #expect(login.stdout.contains("signed in as alice (support; every tenant;"))
        let files = try FileManager.default.contentsOfDirectory(atPath: state + "/tollgate/tokens")
        var st = stat()
        #expect(files.count == 1 && stat(state + "/tollgate/tokens/" + files[0], &st) == 0 && st.st_mode & 0o777 == 0o600)

        let who = try await tollgate(["whoami", "--json"])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(who.stdout.utf8)) as? [String: Any])
        #expect(doc["user"] as? String == "alice" && doc["role"] as? String == "support" && doc["authenticated"] as? Bool == true)
        #expect(doc["roles"] as? [String] == ["tollgate-support"] && doc["tenant_scope"] == nil)

        let tail = try await tollgate(stores(["audit", "tail", "--tenant", "acme"]))
        #expect(tail.status == 0, "support reads audit events: \(tail.stderr)")
        let throttle = try await tollgate(stores(["throttle", "set", "--tenant", "acme", "--all", "--limit", "5", "--for", "5m", "--reason", "x", "--yes"]))
        #expect(throttle.status == 4 && throttle.stderr.contains("throttle.set needs the operator role; alice has support"), "\(throttle.stderr)")
        _ = try await tollgate(stores(["audit", "tail", "--tenant", "acme"]))   // delivers the spooled refusal
        let denied = try await audit.audit(AuditQuery(tenant: try TenantID("acme"), outcome: "denied"))
        #expect(denied.map(\.actor) == ["alice"] && denied.first?.detail.contains("\"operator_authenticated\":true") == true)
        for text in [login.stdout, who.stdout, tail.stdout, tail.stderr, throttle.stderr] { #expect(!text.contains("eyJ"), "no token is printed") }

        let out = try await tollgate(["logout"])
        #expect(out.status == 0 && out.stdout.contains("signed out of"))
        let after = try await tollgate(["whoami"])
        #expect(after.status == 4 && after.stderr.contains("not signed in to") && after.stderr.contains("tollgate login"), "\(after.stderr)")
        let read = try await tollgate(stores(["tenants", "list"]))
        #expect(read.status == 4, "no fallback to the local identity once Keycloak is configured")
    }

    @Test func aTenantScopedOperatorReachesNoOtherTenant() async throws {
        let audit = try await Self.seed()
        #expect(try await login("u-bob", "bob", roles: ["tollgate-admin"], tenant: "acme").status == 0)
        let list = try await tollgate(stores(["tenants", "list", "--json"]))
        #expect(list.status == 0 && list.stdout.contains("\"acme\"") && !list.stdout.contains("globex") && !list.stdout.contains("acme-eu"), "\(list.stdout)")
        let paths: [[String]] = [
            ["tenants", "show", "globex"], ["keys", "list", "--tenant", "globex"], ["audit", "tail", "--tenant", "globex"],
            ["audit", "show", "x", "--tenant", "globex"], ["usage", "--tenant", "globex"],
            ["throttle", "set", "--tenant", "globex", "--all", "--limit", "1", "--for", "5m", "--reason", "x", "--yes"],
            ["keys", "revoke", "--tenant", "acme-eu", "--key", "k_acmeeu", "--reason", "x", "--yes"],
        ]
        for path in paths {
            let r = try await tollgate(stores(path))
            #expect(r.status == 4 && r.stderr.contains("bob is confined to tenant acme"), "\(path): \(r.status) \(r.stderr)")
            #expect(!r.stdout.contains("globex") || path.contains("show"), "\(path)")
        }
        #expect(try await tollgate(stores(["tenants", "show", "acme"])).status == 0)
        _ = try await tollgate(stores(["audit", "tail", "--tenant", "acme"]))   // delivers what was spooled
        let globex = try await audit.audit(AuditQuery(tenant: try TenantID("globex"), outcome: "denied"))
        #expect(Set(globex.map(\.action)) == ["tenants.read", "audit.read", "usage.read", "throttle.set"] && globex.allSatisfy { $0.actor == "bob" }, "\(globex.map(\.action))")

        // The console: the overview holds acme alone; command mode refuses another tenant.
        let t = try Tmux(width: 120, height: 30)
        defer { t.kill() }
        t.start("\(Tmux.binary) " + stores([]).joined(separator: " "), environment: "XDG_STATE_HOME=\(state) TOLLGATE_KEYCLOAK_URL=\(Self.keycloak)")
        let overview = try await t.waitFor("acme alone") { $0.contains("bob (admin)") && $0.contains("1/1") }
        #expect(overview.contains("acme") && !overview.contains("globex") && !overview.contains("acme-eu"))
        t.keys(":tenant globex", literal: true)
        t.keys("Enter")
        _ = try await t.waitFor("the refusal") { $0.contains("bob is confined to tenant acme") }
        t.keys("Escape")
        t.keys("q")
        #expect(try await t.waitForExit() == "0")
    }

    @Test func aServiceAccountABadSecretFileAndKeycloakDown() async throws {
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let secret = state + "/bot.secret"
        try "bot-secret\n".write(toFile: secret, atomically: true, encoding: .utf8)
        chmod(secret, 0o644)
        let open = try await tollgate(["whoami", "--keycloak-client", "tollgate-bot", "--keycloak-client-secret-file", secret])
        #expect(open.status == 2 && open.stderr.contains("has mode 0644") && !open.stderr.contains("bot-secret"), "\(open.stderr)")
        chmod(secret, 0o600)
        let bot = try await tollgate(["whoami", "--keycloak-client", "tollgate-bot", "--keycloak-client-secret-file", secret])
        #expect(bot.status == 0 && bot.stdout.contains("service-account-tollgate-bot (operator; every tenant;"), "\(bot.stderr)")
        #expect(!FileManager.default.fileExists(atPath: state + "/tollgate/tokens"), "a service account's tokens stay in memory")

        let down = "http://127.0.0.1:1"
        for args in [["whoami", "--keycloak-client", "tollgate-bot", "--keycloak-client-secret-file", secret],
                     stores(["tenants", "list", "--keycloak-client", "tollgate-bot", "--keycloak-client-secret-file", secret])] {
            let r = try await tollgate(args, keycloak: down)
            #expect(r.status == 5 && r.stderr.contains("keycloak"), "\(args): \(r.stderr)")
        }
        let bad = try await tollgate(["whoami"], keycloak: "ftp://sso")
        #expect(bad.status == 2 && bad.stderr.contains("invalid Keycloak URL \"ftp://sso\""), "\(bad.stderr)")
    }

    /// `sessions list/logout`: an enterprise tenant's realm (logout-all), an SMB tenant's group in
    /// the shared realm (its members one by one: other tenants' members stay signed in).
    @Test func sessionsOfAnEnterpriseRealmAndAnSMBGroup() async throws {
        // Tenants of this run alone: the stand-in's realms outlive the test.
        let run = String(UUID().uuidString.lowercased().prefix(6))
        let (ent, zorg, wonka) = ("e-\(run)", "z-\(run)", "w-\(run)")
        let redis = RedisClient(try RedisURL(parsing: Self.redisURL))
        var s = ContractSeed(now: Int64(SystemClock().now()))
        s.tenant(try TenantID(ent), tier: .enterprise)
        s.tenant(try TenantID(zorg), tier: .smb)
        s.tenant(try TenantID(wonka), tier: .smb)
        _ = try await redis.pipeline([["FLUSHDB"]] + s.commands)
        let audit = try ClickHouseAudit(client: ClickHouseClient(try ClickHouseURL(parsing: Self.clickhouse)), database: Self.db)
        try await audit.applySchema()
        for (realm, id, name, groups, sessions) in [("tenant-\(ent)", "a1", "ann", [String](), 2), ("tenant-\(ent)", "a2", "abe", [], 1),
                                                    ("smb", "z1-\(run)", "zed", ["/tenants/\(zorg)"], 2), ("smb", "z2-\(run)", "zoe", ["/tenants/\(zorg)"], 1),
                                                    ("smb", "w1-\(run)", "walt", ["/tenants/\(wonka)"], 3)] {
            _ = try await Self.control("/_test/user", ["realm": realm, "id": id, "username": name, "groups": groups, "sessions": sessions])
        }
        #expect(try await login("u-olga", "olga", roles: ["tollgate-operator"]).status == 0)
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let secret = state + "/admin.secret"
        _ = FileManager.default.createFile(atPath: secret, contents: Data("admin-secret\n".utf8), attributes: [.posixPermissions: 0o600])
        func sessions(_ args: [String]) async throws -> Tmux.Output {
            try await tollgate(stores(["sessions"] + args + ["--keycloak-admin-client", "tollgate-admin", "--keycloak-admin-secret-file", secret]))
        }

        let realm = try await sessions(["list", "--tenant", ent, "--json"])
        #expect(realm.status == 0, "\(realm.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(realm.stdout.utf8)) as? [String: Any])
        #expect(doc["realm"] as? String == "tenant-\(ent)" && doc["users"] as? Int == 2 && doc["active_sessions"] as? Int == 3 && doc["enabled"] as? Bool == true)
        let group = try await sessions(["list", "--tenant", zorg])
        #expect(group.stdout.contains("group /tenants/\(zorg) in realm smb · 2 members · 3 active sessions"), "\(group.stdout) \(group.stderr)")

        let out = try await sessions(["logout", "--tenant", zorg, "--yes"])
        #expect(out.status == 0 && out.stdout.contains("signed out 2 users of \(zorg) (group /tenants/\(zorg) in realm smb)"), "\(out.stderr)")
        let left = try #require(try await Self.control("/_test/sessions", ["realm": "smb"]) as? [String: Int]).filter { $0.key.hasSuffix(run) }
        #expect(left == ["w1-\(run)": 3], "wonka's member stays signed in")
        let all = try await sessions(["logout", "--tenant", ent, "--yes"])
        #expect(all.status == 0 && all.stdout.contains("signed out 2 users of \(ent) (realm tenant-\(ent))"))
        let calls = try #require(try await Self.control("/_test/calls", [:]) as? [[String]])
        #expect(calls.contains(["POST", "/admin/realms/tenant-\(ent)/logout-all"]))
        #expect(!calls.contains { $0[1] == "/admin/realms/smb/logout-all" }, "never the shared realm's logout-all")

        // Support lists but does not sign out; a viewer does neither. Both refusals are audited.
        #expect(try await login("u-sam", "sam", roles: ["tollgate-support"]).status == 0)
        #expect(try await sessions(["list", "--tenant", zorg]).status == 0)
        let refused = try await sessions(["logout", "--tenant", zorg, "--yes"])
        #expect(refused.status == 4 && refused.stderr.contains("sessions.logout needs the operator role; sam has support"), "\(refused.stderr)")
        #expect(try await login("u-vic", "vic", roles: ["tollgate-viewer"]).status == 0)
        let viewer = try await sessions(["list", "--tenant", zorg])
        #expect(viewer.status == 4 && viewer.stderr.contains("Keycloak sessions need the support role; vic has viewer"), "\(viewer.stderr)")
        let rows = try await audit.audit(AuditQuery(tenant: try TenantID(zorg), action: "sessions.logout"))
        #expect(Set(rows.map { "\($0.actor) \($0.outcome)" }) == ["olga success", "sam denied"])
        #expect(try await audit.audit(AuditQuery(tenant: try TenantID(zorg), action: "sessions.read")).map(\.actor) == ["vic"])
    }

    /// The console started without a valid token signs in first, as `tollgate login` does, then opens.
    @Test func theConsoleSignsInFirstWithoutAToken() async throws {
        _ = try await Self.seed()
        _ = try await Self.control("/_test/user", ["realm": "ops", "id": "u-nina", "username": "nina", "roles": ["tollgate-operator"]])
        let t = try Tmux(width: 120, height: 40)
        defer { t.kill() }
        t.start("\(Tmux.binary) " + stores([]).joined(separator: " "), environment: "XDG_STATE_HOME=\(state) TOLLGATE_KEYCLOAK_URL=\(Self.keycloak)")
        let prompt = try await t.waitFor("the device code") { $0.contains("not signed in to") && $0.contains("enter the code") }
        let code = try #require(prompt.range(of: "enter the code  ").map { String(prompt[$0.upperBound...].prefix(9)) })
        _ = try await Self.control("/_test/approve", ["user_code": code, "user_id": "u-nina"])
        _ = try await t.waitFor("the console as nina") { $0.contains("nina (operator)") && $0.contains("acme") }
        t.keys("q")
        #expect(try await t.waitForExit() == "0")
        #expect(try await tollgate(["whoami"]).stdout.contains("nina (operator;"), "the token was kept")
    }
}
