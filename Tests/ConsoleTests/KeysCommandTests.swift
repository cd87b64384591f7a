import Backends
import Crypto
import Foundation
import TestSupport
import Testing

/// `tollgate keys` and the outcome of every action, through the real binary, on the real Redis and
/// ClickHouse of `make test`; lost replies through a proxy that loses them.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_CLICKHOUSE"] != nil, "run through `make test`"))
struct KeysCommandTests {
    static let env = ProcessInfo.processInfo.environment
    static let db = 29
    static let redisURL = "redis://\(env["TOLLGATE_TEST_REDIS"] ?? "")/\(db)"
    static let chDB = "tollgate_keys"
    static let spool = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-keys-\(getpid()).jsonl").path

    static func tollgate(_ args: [String], redis: String = redisURL) async throws -> Tmux.Output {
        try await Tmux.run(Tmux.binary, args + ["--redis", redis, "--clickhouse", env["TOLLGATE_TEST_CLICKHOUSE"]!, "--clickhouse-database", chDB, "--spool", spool])
    }

    static func setUp() async throws -> (RedisClient, ClickHouseAudit) {
        let redis = RedisClient(try RedisURL(parsing: redisURL))
        let now = Int64(SystemClock().now())
        var s = ContractSeed(now: now)
        let t = try TenantID("acme")
        s.tenant(t)
        s.key(t, try KeyID("k_old"), state: .active, expiresAt: now + 30 * 86_400)
        s.budget(t, limit: 10_000_000, used: 9_000_000)
        _ = try await redis.pipeline([["FLUSHDB"]] + s.commands
                                     + [["HSET", KeySchema.apiKey(t, try KeyID("k_old")), "last_used_at", String(now - 180)]])
        let audit = try ClickHouseAudit(client: ClickHouseClient(try ClickHouseURL(parsing: env["TOLLGATE_TEST_CLICKHOUSE"]!)), database: chDB)
        _ = try await audit.client.execute("DROP DATABASE IF EXISTS \(chDB)")
        try await audit.applySchema()
        return (redis, audit)
    }

    static func sha256(_ s: String) -> String { SHA256.hash(data: Array(s.utf8)).map { String(format: "%02x", $0) }.joined() }

    @Test func listingCarriesEveryFieldAndNoRawEpochs() async throws {
        let (redis, _) = try await Self.setUp()
        let rotated = try await Self.tollgate(["keys", "rotate", "--tenant", "acme", "--key", "k_old", "--grace", "2h", "--expires", "90d", "--yes"])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        #expect(!rotated.stdout.contains("grace_until=17"), "times are written as dates: \(rotated.stdout)")
        #expect(rotated.stdout.contains("grace_until=20") && rotated.stdout.contains("Z"))
        let json = try await Self.tollgate(["keys", "list", "--tenant", "acme", "--json"])
        let docs = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let old = try #require(docs.first { $0["key_id"] as? String == "k_old" })
        let new = try #require(docs.first { $0["key_id"] as? String != "k_old" })
        for field in ["created_by", "scopes", "last_used_at", "grace_until", "replaced_by", "created_at", "expires_at", "prefix", "label"] {
            #expect(old[field] != nil, "keys list --json lacks \(field)")
        }
        #expect(old["state"] as? String == "rotating" && old["replaced_by"] as? String == new["key_id"] as? String)
        #expect(new["replaces"] as? String == "k_old")
        #expect((old["grace_until"] as? String)?.hasSuffix("Z") == true && (old["last_used_at"] as? String)?.hasSuffix("Z") == true)
        // The new key's expiry came from --expires (90 days), not from the old key (30 days).
        let expires = try #require(new["expires_at"] as? String)
        #expect(expires > (old["expires_at"] as? String ?? "~"))
        let text = try await Self.tollgate(["keys", "list", "--tenant", "acme"])
        #expect(text.stdout.contains("grace ends in 1h59m") || text.stdout.contains("grace ends in 2h00m"), "\(text.stdout)")
        #expect(text.stdout.range(of: #"\b1[78]\d{8}\b"#, options: .regularExpression) == nil, "no raw epoch in the text: \(text.stdout)")
        // A key whose expires_at is not a number is broken, in the listing and for a rotation.
        _ = try await redis.pipeline([["HSET", KeySchema.apiKey(try TenantID("acme"), try KeyID(new["key_id"] as! String)), "expires_at", "soon"]])
        let broken = try await Self.tollgate(["keys", "list", "--tenant", "acme", "--json"])
        #expect(broken.stdout.contains("expires_at \\\"soon\\\" is not a number"))
        let refused = try await Self.tollgate(["keys", "rotate", "--tenant", "acme", "--key", new["key_id"] as! String, "--yes"])
        #expect(refused.status == 3 && refused.stderr.contains("not a number"))
    }

    @Test func aRaiseAtOrBelowTheEffectiveLimitIsRefused() async throws {
        let (redis, _) = try await Self.setUp()
        let lower = try await Self.tollgate(["budget", "raise", "--tenant", "acme", "--limit", "5M", "--for", "1h", "--reason", "x", "--yes"])
        #expect(lower.status == 3 && lower.stderr.contains("a raise must be above the effective limit, 10000000 tokens now"))
        let huge = try await Self.tollgate(["budget", "raise", "--tenant", "acme", "--limit", "1000000000000000000", "--for", "1h", "--reason", "x", "--yes"])
        #expect(huge.status == 2 && huge.stderr.contains("invalid --limit"))
        #expect(try await redis.pipeline([["HEXISTS", "{acme}:budget:\(YearMonth(containing: Int64(SystemClock().now())))", "temp_limit"]])[0] == .integer(0))
    }

    @Test func aRotationWhoseReplyIsLostEndsInAKnownOutcome() async throws {
        let (redis, audit) = try await Self.setUp()
        let port = try #require(Int32(Self.env["TOLLGATE_TEST_REDIS"]?.split(separator: ":").last.map(String.init) ?? ""))
        // The reply is lost after Redis applied the rotation: reading back finds it applied.
        let lossy = try DelayingProxy(to: port, mode: .delayReply(6))   // past the CLI's 5 s command timeout
        defer { lossy.stop() }
        let applied = try await Self.tollgate(["keys", "rotate", "--tenant", "acme", "--key", "k_old", "--grace", "0", "--yes", "--json",
                                         "--redis-timeout", "1"], redis: "redis://127.0.0.1:\(lossy.port)/\(Self.db)")
        #expect(applied.status == 0, "\(applied.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(applied.stdout.utf8)) as? [String: Any])
        let secret = try #require(doc["secret"] as? String), newKey = try #require(doc["key_id"] as? String)
        #expect(doc["outcome"] as? String == "applied")
        #expect(try await redis.pipeline([["HGET", "{acme}:apikey:\(newKey)", "sha256"]])[0].string == Self.sha256(secret))
        #expect(try await redis.pipeline([["HGET", "{acme}:apikey:k_old", "state"]])[0].string == "revoked")

        // The store stays unreachable: exit 6, the secret still printed, audited as unknown.
        let gone = try DelayingProxy(to: port, mode: .vanish)
        defer { gone.stop() }
        let unknown = try await Self.tollgate(["keys", "create", "--tenant", "acme", "--label", "lost", "--redis-timeout", "1"],
                                        redis: "redis://127.0.0.1:\(gone.port)/\(Self.db)")
        #expect(unknown.status == 6, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("outcome unknown") && unknown.stdout.contains("IF the change applied"))
        let printed = try #require(unknown.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.hasPrefix("tg.acme.") })
        let keys = try await RedisGateway(redis: redis).keys(of: try TenantID("acme"))
        let created = try #require(keys.first { $0.label == "lost" }, "the create did reach Redis")
        #expect(try await redis.pipeline([["HGET", "{acme}:apikey:\(created.id)", "sha256"]])[0].string == Self.sha256(printed))

        _ = try await Self.tollgate(["schema", "apply"])   // delivers the spool
        let events = try await audit.audit(AuditQuery(tenant: try TenantID("acme"), limit: 10))
        let rotation = try #require(events.first { $0.action == "key.rotate" })
        #expect(rotation.outcome == "success" && rotation.detail.contains("read back: applied") && !rotation.requestID.isEmpty, "\(rotation)")
        let lost = try #require(events.first { $0.action == "key.create" })
        #expect(lost.outcome == "error" && lost.detail.contains("\"outcome\":\"unknown\""))
        #expect(!events.contains { $0.detail.contains(secret) || $0.detail.contains(printed) }, "no secret in the audit log")
    }
}
