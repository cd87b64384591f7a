/// Turns Redis replies into domain values. Anything that breaks the contract becomes
/// `Reading.bad(reason)` (or a skipped entry), never a crash and never a made-up number.
enum RedisParse {
    static func hashOrProblem(_ reply: RedisValue, key: String) -> Reading<[String: String]> {
        if let e = reply.errorMessage { return .bad("\(key): \(SafeText.clean(e))") }
        guard let h = reply.hash else { return .bad("\(key): not a hash") }
        return .ok(h)
    }

    /// A field that must be a whole number >= 0. `what` names it, and is built only for a problem:
    /// the budget of every tenant comes through here on every refresh.
    static func number(_ field: Field, _ what: @autoclosure () -> String) -> Reading<Int> {
        switch field {
        case .absent: .bad("\(what()) is missing")
        case .number(let n): .ok(n)
        case .text(let t): .bad("\(what()) \(SafeText.quoted(t, limit: 40)) is not a whole number >= 0")
        }
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

    /// `nil` when there is no throttle (all fields absent). `key` is built only for a problem.
    static func throttle(_ reply: RedisValue, route: Route, key: @autoclosure () -> String) -> Reading<Throttle?> {
        if let e = reply.errorMessage { return .bad("\(key()): \(SafeText.clean(e))") }
        guard let f = reply.array, f.count == 5 else { return .bad("\(key()): unexpected reply") }
        if f.allSatisfy({ $0 == .null }) { return .ok(nil) }
        let limit: Int, expires: Int
        switch (number(Field(f[0]), "limit"), number(Field(f[1]), "expires_at")) {
        case (.ok(let l), .ok(let e)): (limit, expires) = (l, e)
        case (.bad(let why), _), (_, .bad(let why)): return .bad("\(key()): " + why)
        }
        return .ok(Throttle(route: route, limit: limit, reason: f[2].string ?? "", actor: f[3].string ?? "",
                            setAt: Int64(f[4].string.flatMap { parseDecimal($0) } ?? 0), expiresAt: Int64(expires)))
    }

    /// The `j`th counter of an MGET, decoded by the hot read. `key` is built only when there is
    /// something to report.
    static func counter(_ reply: HotReply, at j: Int, key: () -> String) -> Reading<Int> {
        switch reply {
        case .numbers(let values):
            guard j < values.count else { return .bad("\(key()): unexpected reply") }
            return .ok(values[j] ?? 0)   // nil: no request yet in this window
        case .other(let value):
            if let e = value.errorMessage { return .bad("\(key()): \(SafeText.clean(e))") }
            guard let values = value.array, j < values.count else { return .bad("\(key()): unexpected reply") }
            return counter(values[j], key: key)
        case .integer:
            return .bad("\(key()): unexpected reply")
        }
    }

    /// `nil` when the month has no budget hash. `reply` answers `HMGET key` with `RedisGateway.budgetFields`:
    /// limit, used, soft_pct, hard, temp_limit, temp_expires_at. `key` is built only when there is
    /// something to report.
    static func budget(_ reply: HotReply, key: () -> String, month: YearMonth, now: Double) -> Reading<BudgetState>? {
        if case .other(let value) = reply, let e = value.errorMessage { return .bad("\(key()): \(SafeText.clean(e))") }
        guard reply.fieldCount == 6 else { return .bad("\(key()): unexpected reply") }
        func number(_ i: Int, _ name: String) -> Reading<Int> { RedisParse.number(reply.field(i), "budget " + name) }
        if (0..<6).allSatisfy({ reply.field($0) == .absent }) { return nil }
        let limit: Int, used: Int
        switch (number(0, "limit"), number(1, "used")) {
        case (.ok(let l), .ok(let u)): (limit, used) = (l, u)
        case (.bad(let why), _), (_, .bad(let why)): return .bad(why)
        }
        var softPct = 80
        switch reply.field(2) {
        case .absent: break
        case .number(let p) where p <= 100: softPct = p
        case let other: return .bad("budget soft_pct \(SafeText.quoted(other.text, limit: 20)) must be 0-100")
        }
        let hard: Bool
        switch reply.field(3) {
        case .absent, .number(1): hard = true
        case .number(0): hard = false
        case let other: return .bad("budget hard \(SafeText.quoted(other.text, limit: 20)) must be 0 or 1")
        }
        var tempLimit: Int?, tempExpires: Int64?
        if reply.field(4) != .absent || reply.field(5) != .absent {
            switch (number(4, "temp_limit"), number(5, "temp_expires_at")) {
            case (.ok(let tl), .ok(let te)): (tempLimit, tempExpires) = (tl, Int64(te))
            case (.bad(let why), _), (_, .bad(let why)): return .bad(why)
            }
        }
        return .ok(BudgetState(Budget(month: month, limit: limit, used: used, softPct: softPct, hard: hard,
                                      tempLimit: tempLimit, tempExpiresAt: tempExpires), now: now))
    }

    /// A key's stored state and times from `HMGET state expires_at grace_until`; `nil` when broken.
    static func keyMeta(_ id: KeyID, _ reply: RedisValue) -> RedisGateway.KeyMeta? {
        guard let f = reply.array, f.count == 3, let s = f[0].string, let stored = APIKey.StoredState(rawValue: s) else { return nil }
        let expires = f[1].string.map { parseDecimal($0) } ?? 0
        guard let expiresAt = expires else { return nil }
        return RedisGateway.KeyMeta(id: id, stored: stored, expiresAt: Int64(expiresAt), graceUntil: f[2].string.flatMap { parseDecimal($0) }.map(Int64.init))
    }

    /// A key's whole hash (`keys list`, the keys screen). A time that is not a whole number, or a
    /// key id of its chain that breaks the pattern, makes the key broken (`problem`), never `never`.
    static func apiKey(_ id: KeyID, _ h: [String: String]) -> APIKey? {
        guard let s = h["state"], let stored = APIKey.StoredState(rawValue: s) else { return nil }
        var problems: [String] = []
        func num(_ f: String) -> Int64? {
            guard let text = h[f] else { return nil }
            guard let n = parseDecimal(text) else { problems.append("\(f) \(SafeText.quoted(text, limit: 40)) is not a number"); return nil }
            return Int64(n)
        }
        func chain(_ f: String) -> KeyID? {
            guard let text = h[f] else { return nil }
            guard let k = try? KeyID(text) else { problems.append("\(f) \(SafeText.quoted(text, limit: 40)): \(KeyID.rule)"); return nil }
            return k
        }
        let key = APIKey(id: id, label: h["label"] ?? "", prefix: h["prefix"] ?? "", state: stored,
                         createdAt: num("created_at") ?? 0, createdBy: h["created_by"] ?? "", expiresAt: num("expires_at") ?? 0,
                         lastUsedAt: num("last_used_at"), scopes: (h["scopes"] ?? "").split(separator: ",").map(String.init),
                         graceUntil: num("grace_until"), replacedBy: chain("replaced_by"), replaces: chain("replaces"),
                         revokedAt: num("revoked_at"), revokedBy: h["revoked_by"])
        guard !problems.isEmpty else { return key }
        return APIKey(id: id, label: key.label, prefix: key.prefix, state: stored, createdAt: key.createdAt, createdBy: key.createdBy,
                      expiresAt: key.expiresAt, lastUsedAt: key.lastUsedAt, scopes: key.scopes, graceUntil: key.graceUntil,
                      replacedBy: key.replacedBy, replaces: key.replaces, revokedAt: key.revokedAt, revokedBy: key.revokedBy,
                      problem: problems.joined(separator: "; "))
    }
}

/// A hot read's reply (MGET, HMGET, EXISTS, SCARD), decoded straight from hiredis's buffers into
/// numbers when it has the expected shape. Anything else keeps its general form, for the parsers
/// to report and for the cold reads that ride in the same pipeline.
enum HotReply: Sendable {
    /// An array whose elements are all nil or whole numbers >= 0 written canonically (no leading
    /// zero), so `value` gives back exactly the strings Redis sent.
    case numbers([Int?])
    case integer(Int64)
    case other(RedisValue)

    init(_ reply: RedisReply) {
        switch reply.kind {
        case .integer: self = .integer(reply.integer)
        case .array:
            var numbers: [Int?] = []
            numbers.reserveCapacity(reply.count)
            for i in 0..<reply.count {
                guard let e = reply[i] else { self = .other(reply.value); return }
                if e.kind == .null {
                    numbers.append(nil)
                } else if let n = e.decimal, e.bytes.count == 1 || e.bytes.first != UInt8(ascii: "0") {
                    numbers.append(n)
                } else {
                    self = .other(reply.value)
                    return
                }
            }
            self = .numbers(numbers)
        default: self = .other(reply.value)
        }
    }

    var integer: Int64? { if case .integer(let n) = self { n } else { nil } }

    /// The reply as a value tree, exactly as the general decoding would have given it.
    var value: RedisValue {
        switch self {
        case .numbers(let n): .array(n.map { $0.map { .string(String($0)) } ?? .null })
        case .integer(let i): .integer(i)
        case .other(let v): v
        }
    }

    /// The message of an error reply.
    var errorText: String? { if case .other(let v) = self { v.errorMessage } else { nil } }
    var isNotServing: Bool { if case .other(let v) = self { v.isNotServing } else { false } }

    /// The number of fields of an array reply; -1 for any other reply.
    var fieldCount: Int {
        switch self {
        case .numbers(let n): n.count
        case .other(let v): v.array?.count ?? -1
        case .integer: -1
        }
    }

    /// The `i`th field of an array reply (`i < fieldCount`).
    func field(_ i: Int) -> Field {
        switch self {
        case .numbers(let n): n[i].map(Field.number) ?? .absent
        case .other(let v): Field(v.array![i])
        case .integer: .absent
        }
    }
}

/// One field of an MGET or HMGET reply, as the parsers read it.
enum Field: Equatable {
    case absent
    case number(Int)
    /// Present, but not a whole number >= 0.
    case text(String)

    init(_ value: RedisValue) {
        switch value {
        case .null: self = .absent
        case .string(let s): self = parseDecimal(s).map(Field.number) ?? .text(s)
        case .integer(let i) where i >= 0: self = .number(Int(i))
        default: self = .text(value.string ?? "\(value)")
        }
    }

    var text: String {
        switch self {
        case .absent: ""
        case .number(let n): String(n)
        case .text(let t): t
        }
    }
}
