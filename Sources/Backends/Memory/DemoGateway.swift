import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded demo gateway: ~40 simulated tenants behaving the way a real fleet does, with no
/// services. Traffic is a pure function of (seed, time): Zipf-distributed across tenants and
/// routes, with per-window bursts, so counters grow within a window and roll over at its end, and a
/// few noisy tenants run past their limits. Budgets burn in proportion to the month elapsed. Keys
/// come in every state, some expiring within days. Operator actions (throttles, budget raises)
/// are kept in memory and change what the readers return.
///
/// A fixed seed and a fixed clock give the same fleet every time (golden screens rely on it).
public final class DemoGateway: FleetReading, TenantReading, AuditReading, UsageReading, ThrottleActing, BudgetActing {
    public let seed: UInt64
    /// The instant the demo started; key timestamps are placed relative to it.
    public let epoch: Int64
    let clock: any Clock
    let tenants: [DemoTenant]
    private let overrides = Mutex(Overrides())

    struct Overrides {
        var throttles: [TenantID: [Route: Throttle]] = [:]
        var raises: [TenantID: (limit: Int, until: Int64)] = [:]
        /// Keys created, rotated or revoked through the actions (DemoKeys.swift).
        var keys: [TenantID: [KeyID: APIKey]] = [:]
    }

    /// The simulated tenant `id`, or not found.
    func simulated(_ id: TenantID) throws(BackendError) -> DemoTenant {
        guard let t = tenants.first(where: { $0.id == id }) else { throw .notFound("tenant \(id)") }
        return t
    }

    /// A tenant's keys as the actions left them: the simulation's, replaced or joined by changed ones.
    func keys(of t: DemoTenant, _ o: Overrides) -> [APIKey] {
        guard let changed = o.keys[t.id] else { return t.keys }
        return t.keys.map { changed[$0.id] ?? $0 } + changed.values.filter { k in !t.keys.contains { $0.id == k.id } }.sorted { $0.id < $1.id }
    }

    func changeKeys(_ body: @Sendable (inout Overrides) -> Void) { overrides.withLock { body(&$0) } }
    func currentOverrides() -> Overrides { overrides.withLock { $0 } }

    /// Fleet-wide request rate of the simulation, requests per second.
    static let fleetRate = 1_800.0

    public init(seed: UInt64 = 42, clock: any Clock = SystemClock(), tenantCount: Int = 40) {
        self.seed = seed
        self.clock = clock
        epoch = Int64(clock.now().rounded(.down))
        tenants = DemoTenant.fleet(seed: seed, count: tenantCount, epoch: epoch)
    }

    // MARK: FleetReading, TenantReading

    public func fleet() async throws(BackendError) -> FleetSnapshot {
        let now = clock.now()
        let o = overrides.withLock { $0 }
        return FleetSnapshot(tenants: tenants.map { state(of: $0, now: now, overrides: o) },
                             malformedTenantIDs: 0, takenAt: now, keyspaceAsOf: Self.countedAt(now))
    }

    public func tenant(_ id: TenantID) async throws(BackendError) -> TenantState {
        guard let t = tenants.first(where: { $0.id == id }) else { throw .notFound("tenant \(id)") }
        let o = overrides.withLock { $0 }
        return state(of: t, now: clock.now(), overrides: o)
    }

    public func keys(of id: TenantID) async throws(BackendError) -> [APIKey] {
        guard let t = tenants.first(where: { $0.id == id }) else { throw .notFound("tenant \(id)") }
        return keys(of: t, overrides.withLock { $0 })
    }

    public func keyspace(of id: TenantID) async throws(BackendError) -> KeyspaceCounts {
        guard let t = tenants.first(where: { $0.id == id }) else { throw .notFound("tenant \(id)") }
        return keyspace(of: t, now: clock.now())
    }

    /// The demo "completes" a count of sessions and cache entries every minute.
    static func countedAt(_ now: Double) -> Double { (now / 60).rounded(.down) * 60 }

    /// Sessions follow the tenant's traffic; cache entries its size, drifting minute by minute.
    private func keyspace(of t: DemoTenant, now: Double) -> KeyspaceCounts {
        let minute = Int64(Self.countedAt(now))
        let drift = 0.8 + 0.4 * unit(stableHash(seed, [t.id.rawValue, "keyspace"], [minute]))
        return KeyspaceCounts(sessions: Int(t.weight * Self.fleetRate * 90 * drift), cacheEntries: Int(t.weight * 250_000 * drift))
    }

    // MARK: AuditReading

    public func audit(_ query: AuditQuery) async throws(BackendError) -> [AuditEvent] {
        guard let t = tenants.first(where: { $0.id == query.tenant }) else { throw .notFound("tenant \(query.tenant)") }
        let now = Int64(clock.now().rounded(.down))
        var out: [AuditEvent] = []
        var second = min(now, (query.before ?? now + 1) - 1, query.olderThan?.ts ?? now)
        let floor = max(query.since ?? (now - 7 * 86_400), now - 7 * 86_400)
        let chance = min(0.9, 0.02 + t.weight * 6)
        while second >= floor && out.count < query.limit {
            let h = stableHash(seed, [t.id.rawValue, "audit"], [second])
            if unit(h) < chance, let e = t.auditEvent(at: second, hash: h), query.matches(e) { out.append(e) }
            second -= 1
        }
        return query.oldestFirst ? out.reversed() : out
    }

    // MARK: UsageReading

    /// Key usage follows the simulated traffic minute by minute: a tenant's requests (a key's
    /// share of them when one is asked for), a few errors, denials where a route runs past its limit.
    public func usage(tenant id: TenantID, key: KeyID?) async throws(BackendError) -> UsageReport {
        guard let t = tenants.first(where: { $0.id == id }) else { throw .notFound("tenant \(id)") }
        if let key, !t.keys.contains(where: { $0.id == key }) { throw .notFound("key \(key) of tenant \(id)") }
        let now = Int64(clock.now().rounded(.down))
        let seriesStart = now / 60 * 60 - 59 * 60
        let share = key == nil ? 1 : 1 / Double(max(1, t.keys.count))
        let denyShare = t.routes.contains { $0.policy.limit < Int($0.rate * Double($0.policy.window)) } ? 0.2 : 0
        func minute(_ start: Int64, share: Double, salt: String) -> UsageTotals {
            let wobble = 0.6 + 0.8 * unit(stableHash(seed, [t.id.rawValue, "usage", salt], [start]))
            var m = UsageTotals()
            m.requests = Int(t.routes.reduce(0) { $0 + $1.rate } * 60 * wobble * share)
            m.denials = Int(Double(m.requests) * denyShare)
            m.clientErrors = m.requests / 60
            m.serverErrors = m.requests / 200
            m.errors = m.denials + m.clientErrors + m.serverErrors
            m.tokensIn = m.requests * 300
            m.tokensOut = m.requests * 120
            m.p50 = m.requests > 0 ? 180 + 120 * wobble : nil
            m.p95 = m.requests > 0 ? 900 + 600 * wobble : nil
            return m
        }
        func sum(_ ms: [UsageTotals], times: Int = 1) -> UsageTotals {
            var a = ms.reduce(into: UsageTotals()) { a, m in
                a.requests += m.requests; a.errors += m.errors; a.denials += m.denials; a.clientErrors += m.clientErrors
                a.serverErrors += m.serverErrors; a.tokensIn += m.tokensIn; a.tokensOut += m.tokensOut
            }
            (a.requests, a.errors, a.denials, a.clientErrors, a.serverErrors, a.tokensIn, a.tokensOut) =
                (a.requests * times, a.errors * times, a.denials * times, a.clientErrors * times, a.serverErrors * times, a.tokensIn * times, a.tokensOut * times)
            let lat = ms.compactMap(\.p50)
            a.p50 = lat.isEmpty ? nil : lat.reduce(0, +) / Double(lat.count)
            let tail = ms.compactMap(\.p95)
            a.p95 = tail.max()
            return a
        }
        let perMinute = (0..<60).map { minute(seriesStart + Int64($0) * 60, share: share, salt: "") }
        // Per key and route: the keys in use share the tenant's routes in proportion to their rates.
        let keys = (key.map { k in t.keys.filter { $0.id == k } } ?? t.keys).filter { $0.state(at: clock.now()).isUsable }
        let total = t.routes.reduce(0) { $0 + $1.rate }
        var rows: [UsageRow] = []
        for k in keys {
            for r in t.routes where r.rate > 0 {
                let part = share * r.rate / max(total, 0.0001) / Double(max(1, keys.count))
                let minutes = (0..<60).map { minute(seriesStart + Int64($0) * 60, share: part, salt: k.id.rawValue + r.route.rawValue) }
                rows.append(UsageRow(key: k.id.rawValue, route: r.route.rawValue, lastHour: sum(minutes), lastDay: sum(minutes, times: 24)))
            }
        }
        rows.sort { ($0.lastDay.requests, $1.key, $1.route) > ($1.lastDay.requests, $0.key, $0.route) }
        return UsageReport(tenant: id, key: key, lastHour: sum(perMinute), lastDay: sum(perMinute, times: 24), perMinute: perMinute,
                           seriesStart: seriesStart, rows: Array(rows.prefix(200)))
    }

    // MARK: Actions

    public func setThrottle(_ tenant: TenantID, _ throttle: Throttle) async throws(BackendError) {
        guard tenants.contains(where: { $0.id == tenant }) else { throw .notFound("tenant \(tenant)") }
        overrides.withLock { $0.throttles[tenant, default: [:]][throttle.route] = throttle }
    }

    public func clearThrottle(_ tenant: TenantID, route: Route) async throws(BackendError) {
        guard tenants.contains(where: { $0.id == tenant }) else { throw .notFound("tenant \(tenant)") }
        overrides.withLock { _ = $0.throttles[tenant]?.removeValue(forKey: route) }
    }

    public func raiseBudget(_ tenant: TenantID, to limit: Int, until expiresAt: Int64) async throws(BackendError) {
        guard tenants.contains(where: { $0.id == tenant }) else { throw .notFound("tenant \(tenant)") }
        overrides.withLock { $0.raises[tenant] = (limit, expiresAt) }
    }

    // MARK: Simulation

    private func state(of t: DemoTenant, now: Double, overrides o: Overrides) -> TenantState {
        let throttles = (o.throttles[t.id].map { Array($0.values) } ?? []).filter { $0.isLive(at: now) }
            .sorted { $0.route < $1.route }
        let routes = t.routes.map { r -> RouteReading in
            let ws = r.policy.windowStart(at: now)
            let burst = 0.55 + unit(stableHash(seed, [t.id.rawValue, r.route.rawValue], [ws])) * 0.9
            let count = Int((r.rate * burst * (now - Double(ws))).rounded(.down))
            let applicable = throttles.filter { $0.route == r.route || $0.route == .all }
            return RouteReading(route: r.route, state: .ok(WindowState(policy: r.policy, count: count, throttles: applicable, now: now)))
        }
        var budget: Reading<BudgetState>?
        if let b = t.budget {
            let month = YearMonth(containing: Int64(now.rounded(.down)))
            let elapsed = (now - Double(month.start)) / Double(month.next.start - month.start)
            let raise = o.raises[t.id]
            var used = Int(Double(b.limit) * b.pace * elapsed)
            let plan = Budget(month: month, limit: b.limit, used: used, softPct: 80, hard: b.hard,
                              tempLimit: raise?.limit ?? b.tempLimit, tempExpiresAt: raise?.until ?? b.tempExpiresAt)
            // A hard budget blocks at its limit, so usage stops there.
            if b.hard { used = min(used, BudgetState(plan, now: now).effectiveLimit) }
            budget = .ok(BudgetState(Budget(month: month, limit: plan.limit, used: used, softPct: plan.softPct, hard: plan.hard,
                                            tempLimit: plan.tempLimit, tempExpiresAt: plan.tempExpiresAt), now: now))
        }
        var counts = KeyCounts()
        for k in keys(of: t, o) { counts.add(k, now: now) }
        return TenantState(id: t.id, meta: .ok(t.meta), routes: routes, throttles: throttles, budget: budget, keys: counts,
                           keyspace: keyspace(of: t, now: now), readAt: now)
    }
}

/// One simulated tenant: fixed at start from the seed.
struct DemoTenant: Sendable {
    struct RoutePlan: Sendable { let route: Route; let policy: LimitPolicy; let rate: Double }
    struct BudgetPlan: Sendable { let limit: Int; let pace: Double; let hard: Bool; let tempLimit: Int?; let tempExpiresAt: Int64? }

    let id: TenantID
    let meta: TenantMeta
    let weight: Double
    let routes: [RoutePlan]
    let budget: BudgetPlan?
    let keys: [APIKey]

    static let names = [
        "acme", "globex", "initech", "umbrella", "hooli", "piedpiper", "stark", "wayne", "wonka", "tyrell",
        "cyberdyne", "soylent", "aperture", "blackmesa", "massive-dynamic", "vandelay", "dunder-mifflin", "gringotts",
        "oscorp", "monarch", "nakatomi", "weyland", "yoyodyne", "zorg", "bluth", "prestige", "sterling-cooper",
        "los-pollos", "krusty", "duff", "planet-express", "mom-corp", "octan", "virtucon", "wernham-hogg", "abstergo",
        "acme-eu", "globex-apac", "initech-labs", "hooli-xyz", "tessier-ashpool", "encom", "rekall", "ingen",
    ]

    static let catalogue: [(route: String, window: Int)] = [
        ("chat.completions", 60), ("embeddings", 60), ("responses", 10), ("agents.run", 60),
        ("images.generate", 60), ("tools/search", 1), ("files.upload", 3600), ("audio.transcribe", 60),
    ]

    static func fleet(seed: UInt64, count: Int, epoch: Int64) -> [DemoTenant] {
        var rng = SplitMix64(seed: seed)
        let ids = (0..<count).map { i -> String in i < names.count ? names[i] : "tenant-\(i)" }
        var order = Array(ids.indices)
        order.shuffle(using: &rng)            // Zipf rank is independent of the alphabet
        let weights = order.map { 1 / pow11(Double($0 + 1)) }
        let total = weights.reduce(0, +)
        return ids.indices.map { i in
            DemoTenant(seed: seed, name: ids[i], rank: order[i] + 1, weight: weights[i] / total, epoch: epoch)
        }
    }

    init(seed: UInt64, name: String, rank: Int, weight: Double, epoch: Int64) {
        id = try! TenantID(name)
        self.weight = weight
        var rng = SplitMix64(seed: stableHash(seed, [name]))
        let tier: Tier = rank <= 8 || rng.next() % 4 == 0 ? .enterprise : .smb
        let suspended = rng.next() % 13 == 0
        let display = name.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
        meta = TenantMeta(name: display, tier: .ok(tier), status: .ok(suspended ? .suspended : .active),
                          realm: tier == .enterprise ? "tenant-\(name)" : "smb",
                          group: tier == .smb ? "/tenants/\(name)" : "",
                          createdAt: epoch - Int64(30 + rng.next() % 700) * 86_400)

        // Routes: a Zipf share of the tenant's traffic each; the limit sits near or past the usual rate.
        let routeCount = 3 + Int(rng.next() % UInt64(Self.catalogue.count - 2))
        let noisy = rank <= 3 || rng.next() % 6 == 0
        let tenantRate = suspended ? 0 : DemoGateway.fleetRate * weight
        var plans: [RoutePlan] = []
        let rweights = (1...routeCount).map { 1 / pow11(Double($0)) }
        let rtotal = rweights.reduce(0, +)
        for (j, entry) in Self.catalogue.shuffled(using: &rng).prefix(routeCount).enumerated() {
            let rate = tenantRate * rweights[j] / rtotal
            let headroom = noisy && j == 0 ? 0.25 + unit(rng.next()) * 0.2 : 1.2 + unit(rng.next()) * 2.5
            let limit = max(10, roundNice(rate * Double(entry.window) * headroom))
            plans.append(RoutePlan(route: try! Route(entry.route), policy: try! LimitPolicy(limit: limit, window: entry.window), rate: rate))
        }
        routes = plans.sorted { $0.route < $1.route }

        // Budgets: most tenants have one; a few burn fast enough to run out before the month ends.
        if rng.next() % 10 != 0 {
            let limit = tier == .enterprise ? 50_000_000 : 2_000_000
            let pace = noisy ? 0.9 + unit(rng.next()) * 0.5 : 0.15 + unit(rng.next()) * 0.75
            let raised = rng.next() % 11 == 0
            budget = BudgetPlan(limit: limit, pace: pace, hard: rng.next() % 3 != 0,
                                tempLimit: raised ? limit * 3 / 2 : nil, tempExpiresAt: raised ? epoch + 6 * 3600 : nil)
        } else {
            budget = nil
        }

        // Keys in every state; some expire within days of the start.
        let keyCount = 2 + Int(rng.next() % 7)
        var keys: [APIKey] = []
        for k in 0..<keyCount {
            let kid = try! KeyID("k_" + base32(rng.next(), length: 8))
            let created = epoch - Int64(1 + rng.next() % 400) * 86_400
            let roll = rng.next() % 20
            let secretHead = "tg.\(name).\(kid.rawValue)."
            let prefix = String(secretHead.prefix(12))
            let scopes = ["chat", "embeddings", "agents"].filter { _ in rng.next() % 2 == 0 }
            let lastUsed = epoch - Int64(rng.next() % 86_400)
            switch roll {
            case 0...1 where k > 0:
                keys.append(APIKey(id: kid, label: "ci runner \(k)", prefix: prefix, state: .revoked, createdAt: created,
                                   createdBy: "ops:alice", scopes: scopes, revokedAt: created + 86_400, revokedBy: "ops:bob"))
            case 2...3 where k > 0:
                keys.append(APIKey(id: kid, label: "batch \(k)", prefix: prefix, state: .rotating, createdAt: created,
                                   createdBy: "ops:alice", lastUsedAt: lastUsed, scopes: scopes,
                                   graceUntil: epoch + Int64(roll == 2 ? 3 * 3600 : -3600)))
            case 4:
                keys.append(APIKey(id: kid, label: "trial \(k)", prefix: prefix, state: .active, createdAt: created,
                                   createdBy: "ops:carol", expiresAt: epoch - 86_400, scopes: scopes))
            case 5...6:
                keys.append(APIKey(id: kid, label: "partner \(k)", prefix: prefix, state: .active, createdAt: created,
                                   createdBy: "ops:carol", expiresAt: epoch + Int64(1 + rng.next() % 6) * 86_400,
                                   lastUsedAt: lastUsed, scopes: scopes))
            default:
                keys.append(APIKey(id: kid, label: k == 0 ? "production" : "service \(k)", prefix: prefix, state: .active,
                                   createdAt: created, createdBy: "ops:alice", lastUsedAt: lastUsed, scopes: scopes))
            }
        }
        self.keys = keys
    }

    static let actions: [(action: String, actorType: String, outcome: String)] = [
        ("request.denied", "apikey", "denied"), ("request.denied", "apikey", "denied"), ("auth.failed", "user", "denied"),
        ("budget.exceeded", "system", "denied"), ("key.create", "operator", "success"), ("key.rotate", "operator", "success"),
        ("throttle.set", "operator", "success"), ("sessions.logout", "operator", "success"), ("auth.failed", "apikey", "error"),
    ]

    func auditEvent(at second: Int64, hash h: UInt64) -> AuditEvent? {
        let pick = Self.actions[Int(h % UInt64(Self.actions.count))]
        let key = keys[Int((h >> 8) % UInt64(keys.count))]
        let route = routes.isEmpty ? "chat.completions" : routes[Int((h >> 16) % UInt64(routes.count))].route.rawValue
        let actor = pick.actorType == "operator" ? ["ops:alice", "ops:bob", "ops:carol"][Int((h >> 24) % 3)]
            : pick.actorType == "apikey" ? key.id.rawValue : pick.actorType == "system" ? "gateway" : "user-\((h >> 28) % 900 + 100)"
        let resource = pick.action.hasPrefix("key.") || pick.actorType == "apikey" ? "apikey/\(key.id)" : "route/\(route)"
        return AuditEvent(tenant: id, ts: second, tsMs: UInt16((h >> 32) % 1000),
                          eventID: uuidLike(h), actor: actor, actorType: pick.actorType, action: pick.action,
                          resource: resource, outcome: pick.outcome,
                          ip: "10.\((h >> 40) % 256).\((h >> 48) % 256).\((h >> 56) % 250 + 1)",
                          requestID: "req_" + base32(h ^ 0x5555, length: 12),
                          detail: "{\"route\":\"\(route)\"}")
    }
}

private func pow11(_ x: Double) -> Double { pow(x, 1.1) }

/// Rounds to 2 significant digits, as people write limits.
private func roundNice(_ x: Double) -> Int {
    guard x >= 10 else { return Int(x.rounded(.up)) }
    var scale = 1.0
    while x / scale >= 100 { scale *= 10 }
    return Int((x / scale).rounded() * scale)
}

private func base32(_ v: UInt64, length: Int) -> String {
    let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    var x = v
    var s = ""
    for _ in 0..<length {
        s.append(alphabet[Int(x & 31)])
        x >>= 5
    }
    return s
}

private func uuidLike(_ h: UInt64) -> String {
    let a = SplitMix64.mix(h), b = SplitMix64.mix(a)
    func hex(_ v: UInt64, _ n: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, n - s.count)) + s.suffix(n)
    }
    return "\(hex(a >> 32, 8))-\(hex((a >> 16) & 0xFFFF, 4))-4\(hex(a & 0xFFF, 3))-a\(hex(b >> 52, 3))-\(hex(b & 0xFFFF_FFFF_FFFF, 12))"
}

/// Actions on the simulation: throttles, budget raises and key changes change what the readers
/// return (the request id is not needed: the simulation never loses a reply).
extension DemoGateway: GatewayWriting {
    public func apply(_ request: ActionRequest, by op: Operator, now: Int64, requestID: String) async throws(BackendError) -> ActionOutcome {
        switch request {
        case .throttleSet(let t, let route, let limit, let duration, let reason):
            try await setThrottle(t, Throttle(route: route, limit: limit, reason: reason, actor: op.name, setAt: now, expiresAt: now + duration))
            return ActionOutcome(before: [:], after: ["limit": String(limit), "expires_at": String(now + duration)])
        case .throttleClear(let t, let route):
            guard try await tenant(t).throttles.contains(where: { $0.route == route }) else { throw .notFound("no throttle on \(t) \(route)") }
            try await clearThrottle(t, route: route)
            return ActionOutcome(before: [:], after: [:])
        case .budgetRaise(let t, let limit, let duration, _):
            guard let b = try await tenant(t).budget?.value else { throw .notFound("tenant \(t) has no budget this month") }
            guard limit > b.effectiveLimit else { throw .conflict("a raise must be above the effective limit, \(b.effectiveLimit) tokens now") }
            try await raiseBudget(t, to: limit, until: now + duration)
            return ActionOutcome(before: [:], after: ["temp_limit": String(limit), "temp_expires_at": String(now + duration)])
        case .keyCreate, .keyRotate, .keyRevoke:
            return try keyAction(request, by: op, now: now)
        }
    }
}
