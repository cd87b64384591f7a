import Synchronization

/// The read side of the contract over Redis. Key names are computed from the key schema and the
/// clock, never found by KEYS; SCAN serves only discovery when `gw:tenants` is missing, and its
/// result is cached.
///
/// Data is read in two tiers (docs/redis.md):
/// - hot, every refresh: each tenant's current-window counters (one MGET), budget (one HMGET) and
///   which throttles exist (one EXISTS), plus the throttles themselves for the few tenants that
///   have any: two or three round trips for the whole fleet;
/// - cold, at most every `coldInterval` seconds per tenant (staggered): meta, limit policies and
///   key metadata, which operators change rarely.
/// `tenant(_:)` (the detail screen, `tenants show`) always reads both tiers fresh, in two round
/// trips, with GET per counter so that a counter of the wrong type is reported as such.
public final class RedisGateway: FleetReading, TenantReading {
    private let redis: any RedisCommands
    private let clock: any Clock
    private let coldInterval: Double
    private let cache = Mutex(Cache())
    static let scanCacheSeconds = 60.0
    static let keyFields = ["state", "expires_at", "grace_until"]
    static let throttleFields = ["limit", "expires_at", "reason", "actor", "set_at"]
    static let budgetFields = ["limit", "used", "soft_pct", "hard", "temp_limit", "temp_expires_at"]

    struct Cache {
        var scan: (ids: [String], at: Double)?
        var cold: [TenantID: ColdBox] = [:]
        var index: Index?
    }

    /// The discovered tenant ids; between cold intervals only `SCARD gw:tenants` is checked.
    struct Index {
        let ids: [TenantID]
        let malformed: Int
        let members: Int
        let at: Double
    }

    /// Shares one tenant's cold data between refreshes without copying it.
    final class ColdBox: Sendable {
        let value: Cold
        /// The last MGET of this tenant's counters and the window starts it was built for:
        /// reused until a window rolls over.
        let counterCommand = Mutex<(starts: [Int64], command: [String])?>(nil)
        init(_ value: Cold) { self.value = value }

        func mget(at now: Double) -> [String] {
            let starts = value.policies.map { $0.1.windowStart(at: now) }
            return counterCommand.withLock { cached in
                if let c = cached, c.starts == starts { return c.command }
                var command = ["MGET"]
                command.reserveCapacity(starts.count + 1)
                for (prefix, start) in zip(value.hotKeys.counterPrefixes, starts) { command.append(prefix + String(start)) }
                cached = (starts, command)
                return command
            }
        }
    }

    /// What changes rarely, kept per tenant between refreshes.
    struct Cold: Sendable {
        var meta: Reading<TenantMeta>
        var policies: [(Route, LimitPolicy)] {
            didSet { hotKeys = HotKeys(tenant, policies) }
        }
        var badRoutes: [RouteReading]
        var keys: [KeyMeta]
        var skipped: Int
        var expires: Double
        let tenant: TenantID
        /// Key names of the hot read, built once per cold read instead of on every refresh.
        private(set) var hotKeys: HotKeys

        init(tenant: TenantID, meta: Reading<TenantMeta>, expires: Double) {
            self.tenant = tenant
            self.meta = meta
            self.expires = expires
            policies = []
            badRoutes = []
            keys = []
            skipped = 0
            hotKeys = HotKeys(tenant, [])
        }
    }

    struct HotKeys: Sendable {
        /// `rl:{T}:{route}:` per policy; the window start is appended at read time.
        let counterPrefixes: [String]
        /// `EXISTS {T}:throttle:{route}... {T}:throttle:_all`
        let exists: [String]
        /// `{T}:budget:`, to which a refresh appends the month.
        let budgetPrefix: String

        init(_ t: TenantID, _ policies: [(Route, LimitPolicy)]) {
            counterPrefixes = policies.map { KeySchema.counterPrefix(t, $0.0) }
            budgetPrefix = KeySchema.budgetPrefix(t)
            exists = ["EXISTS"] + policies.map { KeySchema.throttle(t, $0.0) } + [KeySchema.throttle(t, .all)]
        }
    }

    struct KeyMeta: Sendable {
        let stored: APIKey.StoredState
        let expiresAt: Int64
        let graceUntil: Int64?
    }

    public init(redis: any RedisCommands, clock: any Clock = SystemClock(), coldInterval: Double = 30) {
        self.redis = redis
        self.clock = clock
        self.coldInterval = coldInterval
    }

    public var label: String { redis.label }

    // MARK: FleetReading

    public func fleet() async throws(BackendError) -> FleetSnapshot {
        try await fleet(rediscover: false)
    }

    private func fleet(rediscover: Bool) async throws(BackendError) -> FleetSnapshot {
        let now = clock.now()
        var index = rediscover ? nil : cache.withLock { $0.index }.flatMap { now - $0.at < coldInterval ? $0 : nil }
        let checkIndex = index != nil
        if index == nil {
            let (ids, malformed, members) = try await discover(now: now)
            index = Index(ids: ids, malformed: malformed, members: members, at: now)
            let stored = index
            cache.withLock { $0.index = stored }
        }
        let ids = index!.ids
        let known = cache.withLock { c in c.cold }
        var stale: [TenantID] = [], fresh: [(TenantID, ColdBox)] = []
        for id in ids {
            if let box = known[id], now < box.value.expires { fresh.append((id, box)) } else { stale.append(id) }
        }
        let full = try await readFull(stale, now: now)
        let (hot, checks) = try await readHot(fresh, now: now, prefix: checkIndex ? [["SCARD", KeySchema.tenantIndex]] : [])
        if checkIndex, checks.first != .integer(Int64(index!.members)) {
            return try await fleet(rediscover: true)   // tenants came or went: read the index again
        }
        // Both lists keep the id order: merge them back into it.
        var tenants: [TenantState] = []
        tenants.reserveCapacity(ids.count)
        var i = 0, j = 0
        while i < full.count || j < hot.count {
            if j == hot.count || (i < full.count && full[i].id < hot[j].id) { tenants.append(full[i]); i += 1 } else { tenants.append(hot[j]); j += 1 }
        }
        if known.count > ids.count {   // forget deleted tenants
            let live = Set(ids)
            cache.withLock { c in c.cold = c.cold.filter { live.contains($0.key) } }
        }
        return FleetSnapshot(tenants: tenants, malformedTenantIDs: index!.malformed, takenAt: now)
    }

    /// Tenant ids from `gw:tenants`, or from a cached SCAN of `{*}:meta` when the index is empty
    /// or missing. Ids that break the contract are skipped and counted.
    func discover(now: Double) async throws(BackendError) -> (ids: [TenantID], malformed: Int, members: Int) {
        let index = try await redis.pipeline([["SMEMBERS", KeySchema.tenantIndex]])[0]
        var raw = index.array?.compactMap(\.string) ?? []
        let members = raw.count
        if raw.isEmpty {
            if let cached = cache.withLock({ $0.scan }), now - cached.at < Self.scanCacheSeconds {
                raw = cached.ids
            } else {
                raw = try await redis.scanKeys(matching: KeySchema.metaScanPattern).compactMap(KeySchema.tenantPart(ofMetaKey:))
                let found = raw
                cache.withLock { $0.scan = (found, now) }
            }
        }
        var ids: [TenantID] = []
        var malformed = 0
        for r in Set(raw) {
            if let id = try? TenantID(r) { ids.append(id) } else { malformed += 1 }
        }
        return (ids.sorted(), malformed, members)
    }

    // MARK: TenantReading

    public func tenant(_ id: TenantID) async throws(BackendError) -> TenantState {
        let now = clock.now()
        guard let state = try await readFull([id], now: now).first else { throw .notFound("tenant \(id)") }
        if case .bad = state.meta, state.routes.isEmpty, state.budget == nil, state.keys.total == 0 {
            let exists = try await redis.pipeline([["EXISTS", KeySchema.meta(id)]])[0]
            if exists == .integer(0) { throw .notFound("tenant \(id): no \(KeySchema.meta(id)) in Redis") }
        }
        return state
    }

    public func keys(of tenant: TenantID) async throws(BackendError) -> [APIKey] {
        let index = try await redis.pipeline([["SMEMBERS", KeySchema.apiKeys(tenant)]])[0]
        if let e = index.errorMessage { throw .failed("\(KeySchema.apiKeys(tenant)): \(SafeText.clean(e))") }
        let ids = (index.array?.compactMap(\.string) ?? []).compactMap { try? KeyID($0) }.sorted()
        let hashes = try await redis.pipeline(ids.map { ["HGETALL", KeySchema.apiKey(tenant, $0)] })
        return zip(ids, hashes).compactMap { id, h in h.hash.flatMap { RedisParse.apiKey(id, $0) } }
    }

    // MARK: Full read: both tiers, two round trips for any number of tenants

    private func readFull(_ ids: [TenantID], now: Double) async throws(BackendError) -> [TenantState] {
        if ids.isEmpty { return [] }
        let month = YearMonth(containing: Int64(now.rounded(.down)))
        var first: [[String]] = []
        first.reserveCapacity(ids.count * 4)
        for t in ids {
            first.append(["HGETALL", KeySchema.meta(t)])
            first.append(["HGETALL", KeySchema.limits(t)])
            first.append(["SMEMBERS", KeySchema.apiKeys(t)])
            first.append(["HMGET", KeySchema.budget(t, month: month)] + Self.budgetFields)
        }
        let r1 = try await redis.pipeline(first)

        var colds: [Cold] = []
        var keyIDs: [[KeyID]] = []
        var second: [[String]] = []
        for (i, t) in ids.enumerated() {
            var cold = Cold(tenant: t, meta: RedisParse.meta(t, r1[i * 4]),
                            expires: now + coldInterval * (0.75 + 0.25 * unit(stableHash(0, [t.rawValue]))))
            switch RedisParse.hashOrProblem(r1[i * 4 + 1], key: KeySchema.limits(t)) {
            case .bad(let problem):
                cold.badRoutes.append(RouteReading(route: .all, state: .bad(problem)))
            case .ok(let limits):
                var policies: [(Route, LimitPolicy)] = []
                for (field, value) in limits.sorted(by: { $0.key < $1.key }) {
                    guard let route = try? Route(field) else { cold.skipped += 1; continue }
                    do throws(ValidationError) {
                        policies.append((route, try LimitPolicy(parsing: value)))
                    } catch {
                        cold.badRoutes.append(RouteReading(route: route, state: .bad(error.description)))
                    }
                }
                cold.policies = policies
            }
            var ids: [KeyID] = []
            if let members = r1[i * 4 + 2].array {
                for m in members {
                    if let s = m.string, let k = try? KeyID(s) { ids.append(k) } else { cold.skipped += 1 }
                }
            } else if r1[i * 4 + 2].errorMessage != nil {
                cold.skipped += 1
            }
            for (route, policy) in cold.policies {
                second.append(["GET", KeySchema.counter(t, route, windowStart: policy.windowStart(at: now))])
                second.append(["HMGET", KeySchema.throttle(t, route)] + Self.throttleFields)
            }
            second.append(["HMGET", KeySchema.throttle(t, .all)] + Self.throttleFields)
            for k in ids { second.append(["HMGET", KeySchema.apiKey(t, k)] + Self.keyFields) }
            colds.append(cold)
            keyIDs.append(ids)
        }
        let r2 = try await redis.pipeline(second)

        var cursor = 0
        var out: [TenantState] = []
        out.reserveCapacity(ids.count)
        for (i, t) in ids.enumerated() {
            var cold = colds[i]
            var counters: [Reading<Int>] = []
            var throttles: [Route: Reading<Throttle?>] = [:]
            for (route, policy) in cold.policies {
                counters.append(RedisParse.counter(r2[cursor], key: { KeySchema.counter(t, route, windowStart: policy.windowStart(at: now)) }))
                throttles[route] = RedisParse.throttle(r2[cursor + 1], route: route, key: KeySchema.throttle(t, route))
                cursor += 2
            }
            throttles[.all] = RedisParse.throttle(r2[cursor], route: .all, key: KeySchema.throttle(t, .all))
            cursor += 1
            for _ in keyIDs[i] {
                if let k = RedisParse.keyMeta(r2[cursor]) { cold.keys.append(k) } else { cold.skipped += 1 }
                cursor += 1
            }
            let budget = RedisParse.budget(r1[i * 4 + 3], key: KeySchema.budget(t, month: month), month: month, now: now)
            out.append(Self.assemble(t, cold, counters: counters, throttles: throttles, budget: budget, now: now))
            let stored = ColdBox(cold)
            cache.withLock { $0.cold[t] = stored }
        }
        return out
    }

    // MARK: Hot read: counters, budget, throttles of tenants whose cold data is cached

    /// `prefix` commands ride in the first pipeline; their replies come back beside the states.
    private func readHot(_ tenants: [(TenantID, ColdBox)], now: Double, prefix: [[String]] = []) async throws(BackendError) -> ([TenantState], [RedisValue]) {
        if tenants.isEmpty { return ([], prefix.isEmpty ? [] : try await redis.pipeline(prefix)) }
        let month = YearMonth(containing: Int64(now.rounded(.down)))
        let monthText = month.description
        var first: [[String]] = prefix
        var counterAt: [Int?] = []           // index of each tenant's MGET; nil when it has no policies
        var budgetAt: [Int] = [], existsAt: [Int] = []
        first.reserveCapacity(prefix.count + tenants.count * 3)
        for (_, box) in tenants {
            let cold = box.value
            if cold.policies.isEmpty {
                counterAt.append(nil)
            } else {
                counterAt.append(first.count)
                first.append(box.mget(at: now))
            }
            budgetAt.append(first.count)
            first.append(["HMGET", cold.hotKeys.budgetPrefix + monthText] + Self.budgetFields)
            existsAt.append(first.count)
            first.append(cold.hotKeys.exists)
        }
        let r1 = try await redis.pipeline(first)

        // Throttles are rare: read them only for tenants that have one.
        var second: [[String]] = []
        var throttled: [Int] = []
        for (i, (t, box)) in tenants.enumerated() {
            let cold = box.value
            guard case .integer(let n) = r1[existsAt[i]], n > 0 else { continue }
            throttled.append(i)
            for (route, _) in cold.policies { second.append(["HMGET", KeySchema.throttle(t, route)] + Self.throttleFields) }
            second.append(["HMGET", KeySchema.throttle(t, .all)] + Self.throttleFields)
        }
        let r2 = try await redis.pipeline(second)
        var throttleReplies: [Int: ArraySlice<RedisValue>] = [:]
        var cursor = 0
        for i in throttled {
            let n = tenants[i].1.value.policies.count + 1
            throttleReplies[i] = r2[cursor..<(cursor + n)]
            cursor += n
        }

        var out: [TenantState] = []
        out.reserveCapacity(tenants.count)
        for (i, (t, box)) in tenants.enumerated() {
            let cold = box.value
            let mget = counterAt[i].map { r1[$0] } ?? .array([])
            let values = mget.array ?? []
            var counters: [Reading<Int>] = []
            counters.reserveCapacity(cold.policies.count)
            for (j, (route, policy)) in cold.policies.enumerated() {
                let key = { KeySchema.counter(t, route, windowStart: policy.windowStart(at: now)) }   // for messages only
                if let e = mget.errorMessage {
                    counters.append(.bad("\(key()): \(SafeText.clean(e))"))
                } else {
                    counters.append(RedisParse.counter(j < values.count ? values[j] : .null, key: key))
                }
            }
            var throttles: [Route: Reading<Throttle?>] = [:]
            if let e = r1[existsAt[i]].errorMessage {
                throttles[.all] = .bad("throttles: \(SafeText.clean(e))")
            } else if let replies = throttleReplies[i] {
                for (j, (route, _)) in cold.policies.enumerated() {
                    throttles[route] = RedisParse.throttle(replies[replies.startIndex + j], route: route, key: KeySchema.throttle(t, route))
                }
                throttles[.all] = RedisParse.throttle(replies[replies.endIndex - 1], route: .all, key: KeySchema.throttle(t, .all))
            }
            let budget = RedisParse.budget(r1[budgetAt[i]], key: KeySchema.budget(t, month: month), month: month, now: now)
            out.append(Self.assemble(t, cold, counters: counters, throttles: throttles, budget: budget, now: now))
        }
        return (out, Array(r1.prefix(prefix.count)))
    }

    // MARK: Assembly

    /// One tenant's state from its cold data and hot readings. `counters` follow `cold.policies`;
    /// a throttle missing from `throttles` means there is none.
    static func assemble(_ t: TenantID, _ cold: Cold, counters: [Reading<Int>], throttles: [Route: Reading<Throttle?>],
                         budget: Reading<BudgetState>?, now: Double) -> TenantState {
        let allThrottle = throttles[.all] ?? .ok(nil)
        var live: [Throttle] = []
        if case .ok(let th?) = allThrottle, th.isLive(at: now) { live.append(th) }
        var routes = cold.badRoutes
        routes.reserveCapacity(cold.badRoutes.count + cold.policies.count)
        for ((route, policy), counter) in zip(cold.policies, counters) {
            let routeThrottle = throttles[route] ?? .ok(nil)
            if case .ok(let th?) = routeThrottle, th.isLive(at: now) { live.append(th) }
            let reading: Reading<WindowState>
            switch (counter, routeThrottle, allThrottle) {
            case (.bad(let why), _, _), (_, .bad(let why), _), (_, _, .bad(let why)):
                reading = .bad(why)
            case (.ok(let count), .ok(let rt), .ok(let at)):
                let applicable: [Throttle] = rt == nil && at == nil ? [] : [rt, at].compactMap { $0 }
                reading = .ok(WindowState(policy: policy, count: count, throttles: applicable, now: now))
            }
            routes.append(RouteReading(route: route, state: reading))
        }
        var keys = KeyCounts()
        for k in cold.keys { keys.add(stored: k.stored, expiresAt: k.expiresAt, graceUntil: k.graceUntil, now: now) }
        if !cold.badRoutes.isEmpty { routes.sort { $0.route < $1.route } }   // policies are already in route order
        return TenantState(id: t, meta: cold.meta, routes: routes,
                           throttles: live.sorted { $0.route < $1.route }, budget: budget, keys: keys, skippedEntries: cold.skipped)
    }
}
