@testable import Backends

/// Writes gateway state exactly as docs/contract.md says the gateway does, for tests and benches.
struct ContractSeed {
    let now: Int64
    var commands: [[String]] = []

    init(now: Int64) { self.now = now }

    var month: String { YearMonth(containing: now).description }

    mutating func tenant(_ t: String, tier: String = "enterprise", status: String = "active", index: Bool = true) {
        if index { commands.append(["SADD", "gw:tenants", t]) }
        commands.append(["HSET", "{\(t)}:meta", "name", t.uppercased(), "tier", tier, "status", status, "created_at", "1700000000"])
    }

    mutating func route(_ t: String, _ route: String, policy: String, count: Int?) {
        commands.append(["HSET", "{\(t)}:limits", route, policy])
        if let count, let p = try? LimitPolicy(parsing: policy) {
            let ws = p.windowStart(at: Double(now))
            commands.append(["SET", "rl:{\(t)}:\(route):\(ws)", String(count)])
            commands.append(["EXPIRE", "rl:{\(t)}:\(route):\(ws)", String(2 * p.window)])
        }
    }

    mutating func throttle(_ t: String, _ route: String, limit: Int, expiresIn: Int64) {
        commands.append(["HSET", "{\(t)}:throttle:\(route)", "limit", String(limit), "reason", "test", "actor", "ops:test",
                         "set_at", String(now), "expires_at", String(now + expiresIn)])
    }

    mutating func budget(_ t: String, limit: Int, used: Int, extra: [String] = []) {
        commands.append(["HSET", "{\(t)}:budget:\(month)", "limit", String(limit), "used", String(used)] + extra)
    }

    mutating func key(_ t: String, _ id: String, state: String, expiresAt: Int64 = 0, graceUntil: Int64? = nil) {
        commands.append(["SADD", "{\(t)}:apikeys", id])
        var fields = ["HSET", "{\(t)}:apikey:\(id)", "label", "key \(id)", "prefix", String("tg.\(t).\(id).".prefix(12)),
                      "sha256", String(repeating: "0", count: 64), "state", state, "created_at", String(now - 86_400),
                      "created_by", "ops:test", "expires_at", String(expiresAt), "scopes", "chat"]
        if let g = graceUntil { fields += ["grace_until", String(g)] }
        commands.append(fields)
    }

    /// A small fleet that exercises every rule; the expected values are in RedisGatewayTests.
    static func standard(now: Int64) -> ContractSeed {
        var s = ContractSeed(now: now)
        s.tenant("acme")
        s.route("acme", "chat.completions", policy: "600/60", count: 700)
        s.route("acme", "embeddings", policy: "100/10", count: 40)
        s.route("acme", "files.upload", policy: "50/3600", count: nil)
        s.throttle("acme", "chat.completions", limit: 500, expiresIn: 600)
        s.throttle("acme", "_all", limit: 30, expiresIn: -5)             // expired: ignored
        s.budget("acme", limit: 1_000_000, used: 850_000, extra: ["soft_pct", "80", "hard", "1"])
        s.key("acme", "k_active", state: "active")
        s.key("acme", "k_soon", state: "active", expiresAt: now + 3 * 86_400)
        s.key("acme", "k_rot", state: "rotating", graceUntil: now + 3600)
        s.key("acme", "k_ret", state: "rotating", graceUntil: now - 1)
        s.key("acme", "k_rev", state: "revoked")
        s.key("acme", "k_exp", state: "active", expiresAt: now - 1)

        s.tenant("globex", tier: "smb", status: "suspended")
        s.route("globex", "chat.completions", policy: "100/60", count: 10)
        s.throttle("globex", "_all", limit: 5, expiresIn: 300)
        s.budget("globex", limit: 1000, used: 100, extra: ["temp_limit", "5000", "temp_expires_at", String(now + 60)])

        // Values that break the contract.
        s.tenant("broken")
        s.route("broken", "embeddings", policy: "abc/0", count: nil)
        s.route("broken", "chat.completions", policy: "10/60", count: nil)
        let ws = (now / 60) * 60
        s.commands.append(["SET", "rl:{broken}:chat.completions:\(ws)", "lots"])
        s.commands.append(["HSET", "{broken}:budget:\(s.month)", "limit", "1000", "used", "x"])
        s.commands.append(["SADD", "{broken}:apikeys", "k_ok", "bad key!"])
        s.key("broken", "k_ok", state: "weird")

        s.tenant("wrongtype")
        s.commands.append(["SET", "{wrongtype}:limits", "600/60"])
        s.commands.append(["SET", "{wrongtype}:budget:\(s.month)", "1000"])

        s.commands.append(["SADD", "gw:tenants", "a*b", "Bad Tenant", "x:y"])
        return s
    }
}
