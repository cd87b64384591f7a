@testable import Backends

/// Writes gateway state exactly as docs/contract.md says the gateway does, for tests and benches.
extension ContractSeed {
    // String forms for readable fixtures; the values are valid by construction.
    mutating func tenant(_ t: String, tier: String = "enterprise", status: String = "active", index: Bool = true) {
        tenant(try! TenantID(t), tier: Tier(rawValue: tier)!, status: TenantStatus(rawValue: status)!, index: index)
    }
    mutating func route(_ t: String, _ r: String, policy: String, count: Int?) {
        if let p = try? LimitPolicy(parsing: policy) {
            route(try! TenantID(t), try! Route(r), policy: p, count: count)
        } else {
            commands.append(["HSET", KeySchema.limits(try! TenantID(t)), r, policy])   // a policy that breaks the contract
        }
    }
    mutating func throttle(_ t: String, _ r: String, limit: Int, expiresIn: Int64) {
        throttle(try! TenantID(t), try! Route(r), limit: limit, expiresIn: expiresIn)
    }
    mutating func budget(_ t: String, limit: Int, used: Int, extra: [String] = []) {
        budget(try! TenantID(t), limit: limit, used: used, extra: extra)
    }
    mutating func key(_ t: String, _ id: String, state: String, expiresAt: Int64 = 0, graceUntil: Int64? = nil) {
        key(try! TenantID(t), try! KeyID(id), state: APIKey.StoredState(rawValue: state)!, expiresAt: expiresAt, graceUntil: graceUntil)
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
        s.commands.append(["HSET", "{broken}:apikey:k_ok", "state", "weird"])

        s.tenant("wrongtype")
        s.commands.append(["SET", "{wrongtype}:limits", "600/60"])
        s.commands.append(["SET", "{wrongtype}:budget:\(s.month)", "1000"])

        s.commands.append(["SADD", "gw:tenants", "a*b", "Bad Tenant", "x:y"])
        return s
    }
}
