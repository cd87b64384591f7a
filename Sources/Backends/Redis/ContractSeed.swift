/// Redis commands that write gateway state exactly as docs/contract.md says the gateway does.
/// Tests seed with it, the benchmark builds its fleet with it, and `tollgate simulate` sets up its
/// fleet with it. Key names come from `KeySchema` only.
public struct ContractSeed: Sendable {
    public let now: Int64
    public var commands: [[String]] = []

    public init(now: Int64) { self.now = now }

    public var month: YearMonth { YearMonth(containing: now) }

    public mutating func tenant(_ t: TenantID, tier: Tier = .enterprise, status: TenantStatus = .active, index: Bool = true) {
        if index { commands.append(["SADD", KeySchema.tenantIndex, t.rawValue]) }
        commands.append(["HSET", KeySchema.meta(t), "name", t.rawValue.uppercased(), "tier", tier.rawValue,
                         "status", status.rawValue, "created_at", "1700000000"])
    }

    /// A route's policy, and its current window's counter when `count` is given (with the
    /// gateway's `EXPIRE 2*W`).
    public mutating func route(_ t: TenantID, _ route: Route, policy: LimitPolicy, count: Int?) {
        commands.append(["HSET", KeySchema.limits(t), route.rawValue, policy.text])
        if let count {
            let key = KeySchema.counter(t, route, windowStart: policy.windowStart(at: Double(now)))
            commands.append(["SET", key, String(count)])
            commands.append(["EXPIRE", key, String(2 * policy.window)])
        }
    }

    public mutating func throttle(_ t: TenantID, _ route: Route, limit: Int, expiresIn: Int64) {
        let key = KeySchema.throttle(t, route)
        commands.append(["HSET", key, "limit", String(limit), "reason", "seeded", "actor", "ops:seed",
                         "set_at", String(now), "expires_at", String(now + expiresIn)])
        if expiresIn > 0 { commands.append(["EXPIREAT", key, String(now + expiresIn)]) }
    }

    public mutating func budget(_ t: TenantID, limit: Int, used: Int, extra: [String] = []) {
        commands.append(["HSET", KeySchema.budget(t, month: month), "limit", String(limit), "used", String(used)] + extra)
    }

    /// A key; with `secret`, its real prefix and digest (the plaintext stays in memory).
    public mutating func key(_ t: TenantID, _ id: KeyID, state: APIKey.StoredState, expiresAt: Int64 = 0, graceUntil: Int64? = nil,
                             secret: APIKeySecret? = nil) {
        commands.append(["SADD", KeySchema.apiKeys(t), id.rawValue])
        var fields = ["HSET", KeySchema.apiKey(t, id), "label", "key \(id)", "prefix", secret?.prefix ?? String("tg.\(t).\(id).".prefix(12)),
                      "sha256", secret?.sha256 ?? String(repeating: "0", count: 64), "state", state.rawValue, "created_at", String(now - 86_400),
                      "created_by", "ops:seed", "expires_at", String(expiresAt), "scopes", "chat"]
        if let g = graceUntil { fields += ["grace_until", String(g)] }
        commands.append(fields)
    }
}
