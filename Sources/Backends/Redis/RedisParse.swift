/// Turns Redis replies into domain values. Anything that breaks the contract becomes
/// `Reading.bad(reason)` (or a skipped entry), never a crash and never a made-up number.
enum RedisParse {
    static func hashOrProblem(_ reply: RedisValue, key: String) -> Reading<[String: String]> {
        if let e = reply.errorMessage { return .bad("\(key): \(SafeText.clean(e))") }
        guard let h = reply.hash else { return .bad("\(key): not a hash") }
        return .ok(h)
    }

    static func int(_ text: String?, _ what: String) -> Reading<Int> {
        guard let text else { return .bad("\(what) is missing") }
        guard let n = parseDecimal(text) else { return .bad("\(what) \(SafeText.quoted(text, limit: 40)) is not a whole number >= 0") }
        return .ok(n)
    }

    static func meta(_ t: TenantID, _ reply: RedisValue) -> Reading<TenantMeta> {
        let key = KeySchema.meta(t)
        let h: [String: String]
        switch hashOrProblem(reply, key: key) {
        case .bad(let problem): return .bad(problem)
        case .ok(let hash): h = hash
        }
        if h.isEmpty { return .bad("\(key) is missing") }
        let tier: Reading<Tier> = h["tier"].flatMap(Tier.init(rawValue:)).map { .ok($0) }
            ?? .bad("tier \(SafeText.quoted(h["tier"] ?? "", limit: 20)) must be enterprise or smb")
        let status: Reading<TenantStatus> = h["status"].flatMap(TenantStatus.init(rawValue:)).map { .ok($0) }
            ?? .bad("status \(SafeText.quoted(h["status"] ?? "", limit: 20)) must be active or suspended")
        return .ok(TenantMeta(name: h["name"] ?? t.rawValue, tier: tier, status: status,
                              realm: h["realm"] ?? (tier.value == .smb ? "smb" : "tenant-\(t.rawValue)"),
                              group: h["group"] ?? (tier.value == .smb ? "/tenants/\(t.rawValue)" : ""),
                              createdAt: h["created_at"].flatMap { parseDecimal($0) }.map(Int64.init)))
    }

    /// `key` is built only when there is something to report.
    static func counter(_ reply: RedisValue, key: () -> String) -> Reading<Int> {
        switch reply {
        case .null: return .ok(0)   // no request yet in this window
        case .string(let s):
            if let n = parseDecimal(s) { return .ok(n) }
            return .bad("counter \(key()) \(SafeText.quoted(s, limit: 40)) is not a whole number >= 0")
        case .integer(let i): return i >= 0 ? .ok(Int(i)) : .bad("counter \(key()) is negative")
        case .error(let e): return .bad("\(key()): \(SafeText.clean(e))")
        default: return .bad("\(key()): unexpected reply")
        }
    }

    /// `nil` when there is no throttle (all fields absent).
    static func throttle(_ reply: RedisValue, route: Route, key: String) -> Reading<Throttle?> {
        if let e = reply.errorMessage { return .bad("\(key): \(SafeText.clean(e))") }
        guard let f = reply.array, f.count == 5 else { return .bad("\(key): unexpected reply") }
        if f.allSatisfy({ $0 == .null }) { return .ok(nil) }
        guard case .ok(let limit) = int(f[0].string, "throttle limit") else { return .bad("\(key): " + int(f[0].string, "limit").problem!) }
        guard case .ok(let expires) = int(f[1].string, "throttle expires_at") else { return .bad("\(key): " + int(f[1].string, "expires_at").problem!) }
        return .ok(Throttle(route: route, limit: limit, reason: f[2].string ?? "", actor: f[3].string ?? "",
                            setAt: Int64(f[4].string.flatMap { parseDecimal($0) } ?? 0), expiresAt: Int64(expires)))
    }

    /// `nil` when the month has no budget hash. `reply` answers `HMGET key` with `RedisGateway.budgetFields`:
    /// limit, used, soft_pct, hard, temp_limit, temp_expires_at.
    /// `key` is built only when there is something to report.
    static func budget(_ reply: RedisValue, key: () -> String, month: YearMonth, now: Double) -> Reading<BudgetState>? {
        if let e = reply.errorMessage { return .bad("\(key()): \(SafeText.clean(e))") }
        guard let v = reply.array, v.count == 6 else { return .bad("\(key()): unexpected reply") }
        if v.allSatisfy({ $0 == .null }) { return nil }
        func number(_ i: Int, _ name: String) -> Reading<Int> { int(v[i].string, "budget \(name)") }
        guard case .ok(let limit) = number(0, "limit") else { return .bad(number(0, "limit").problem!) }
        guard case .ok(let used) = number(1, "used") else { return .bad(number(1, "used").problem!) }
        var softPct = 80
        if let s = v[2].string {
            guard let p = parseDecimal(s), p <= 100 else { return .bad("budget soft_pct \(SafeText.quoted(s, limit: 20)) must be 0-100") }
            softPct = p
        }
        let hard: Bool
        switch v[3].string {
        case nil, "1": hard = true
        case "0": hard = false
        case let other?: return .bad("budget hard \(SafeText.quoted(other, limit: 20)) must be 0 or 1")
        }
        var tempLimit: Int?, tempExpires: Int64?
        if v[4] != .null || v[5] != .null {
            guard case .ok(let tl) = number(4, "temp_limit") else { return .bad(number(4, "temp_limit").problem!) }
            guard case .ok(let te) = number(5, "temp_expires_at") else { return .bad(number(5, "temp_expires_at").problem!) }
            tempLimit = tl
            tempExpires = Int64(te)
        }
        return .ok(BudgetState(Budget(month: month, limit: limit, used: used, softPct: softPct, hard: hard,
                                      tempLimit: tempLimit, tempExpiresAt: tempExpires), now: now))
    }

    /// A key's stored state and times from `HMGET state expires_at grace_until`; `nil` when broken.
    static func keyMeta(_ reply: RedisValue) -> RedisGateway.KeyMeta? {
        guard let f = reply.array, f.count == 3, let s = f[0].string, let stored = APIKey.StoredState(rawValue: s) else { return nil }
        let expires = f[1].string.map { parseDecimal($0) } ?? 0
        guard let expiresAt = expires else { return nil }
        return RedisGateway.KeyMeta(stored: stored, expiresAt: Int64(expiresAt), graceUntil: f[2].string.flatMap { parseDecimal($0) }.map(Int64.init))
    }

    static func apiKey(_ id: KeyID, _ h: [String: String]) -> APIKey? {
        guard let s = h["state"], let stored = APIKey.StoredState(rawValue: s) else { return nil }
        func num(_ f: String) -> Int64? { h[f].flatMap { parseDecimal($0) }.map(Int64.init) }
        return APIKey(id: id, label: h["label"] ?? "", prefix: h["prefix"] ?? "", state: stored,
                      createdAt: num("created_at") ?? 0, createdBy: h["created_by"] ?? "", expiresAt: num("expires_at") ?? 0,
                      lastUsedAt: num("last_used_at"), scopes: (h["scopes"] ?? "").split(separator: ",").map(String.init),
                      graceUntil: num("grace_until"), replacedBy: h["replaced_by"].flatMap { try? KeyID($0) },
                      replaces: h["replaces"].flatMap { try? KeyID($0) }, revokedAt: num("revoked_at"), revokedBy: h["revoked_by"])
    }
}
