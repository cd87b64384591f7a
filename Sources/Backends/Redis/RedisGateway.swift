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
    private let keyspace = KeyspaceCounter()
    static let scanCacheSeconds = 60.0
    static let keyFields = ["state", "expires_at", "grace_until"]
    static let throttleFields = ["limit", "expires_at", "reason", "actor", "set_at"]
    static let budgetFields = ["limit", "used", "soft_pct", "hard", "temp_limit", "temp_expires_at"]
    static let countIndex = RedisCommand(["SCARD", KeySchema.tenantIndex])

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
        /// Key names of the hot read, built once per cold read instead of on every refresh.
        let hotKeys: HotKeys
        /// The last hot commands built for this tenant: reused until one of its windows rolls
        /// over or the month changes.
        private let commands: Mutex<HotCommands?>

        /// A re-read whose policies did not change keeps the `previous` box's key names and
        /// commands.
        init(_ value: Cold, previous: ColdBox? = nil) {
            self.value = value
            if let previous, RedisGateway.samePolicies(previous.value.policies, value.policies) {
                hotKeys = previous.hotKeys
                commands = Mutex(previous.commands.withLock { $0 })
            } else {
                hotKeys = HotKeys(value.tenant, value.policies)
                commands = Mutex(nil)
            }
        }

        struct HotCommands {
            /// `MGET` of the current windows' counters; `nil` when the tenant has no policies.
            let mget: RedisCommand?
            /// `HMGET` of the current month's budget.
            let budget: RedisCommand
            /// The instants between which every window start and the month stay the same.
            let from: Double, until: Double
        }

        func hotCommands(at now: Double, month: YearMonth) -> HotCommands {
            commands.withLock { cached in
                if let c = cached, c.from <= now, now < c.until { return c }
                var from = Double(month.start), until = Double(month.next.start)
                var mget = ["MGET"]
                mget.reserveCapacity(value.policies.count + 1)
                for (prefix, (_, policy)) in zip(hotKeys.counterPrefixes, value.policies) {
                    let start = policy.windowStart(at: now)
                    mget.append(prefix + String(start))
                    from = max(from, Double(start))
                    until = min(until, Double(start + Int64(policy.window)))
                }
                let built = HotCommands(mget: value.policies.isEmpty ? nil : RedisCommand(mget),
                                        budget: RedisCommand(["HMGET", hotKeys.budgetPrefix + month.description] + RedisGateway.budgetFields),
                                        from: from, until: until)
                cached = built
                return built
            }
        }
    }

    /// What changes rarely, kept per tenant between refreshes.
    struct Cold: Sendable {
        var meta: Reading<TenantMeta>
        var policies: [(Route, LimitPolicy)]
        var badRoutes: [RouteReading]
        var keys: [KeyMeta]
        var skipped: Int
        var expires: Double
        let tenant: TenantID

        /// One key's `HMGET state expires_at grace_until` reply; a broken one is skipped and counted.
        mutating func addKey(_ reply: RedisValue) {
            if let k = RedisParse.keyMeta(reply) { keys.append(k) } else { skipped += 1 }
        }

        init(tenant: TenantID, meta: Reading<TenantMeta>, expires: Double) {
            self.tenant = tenant
            self.meta = meta
            self.expires = expires
            policies = []
            badRoutes = []
            keys = []
            skipped = 0
        }
    }

    struct HotKeys: Sendable {
        /// `rl:{T}:{route}:` per policy; the window start is appended at read time.
        let counterPrefixes: [String]
        /// `EXISTS {T}:throttle:{route}... {T}:throttle:_all`
        let exists: RedisCommand
        /// `{T}:budget:`, to which a refresh appends the month.
        let budgetPrefix: String

        init(_ t: TenantID, _ policies: [(Route, LimitPolicy)]) {
            counterPrefixes = policies.map { KeySchema.counterPrefix(t, $0.0) }
            budgetPrefix = KeySchema.budgetPrefix(t)
            exists = RedisCommand(["EXISTS"] + policies.map { KeySchema.throttle(t, $0.0) } + [KeySchema.throttle(t, .all)])
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
        let cached = cache.withLock { c in c.cold }
        // New tenants are read in full; known ones by the hot read, which re-reads the cold data
        // of those whose turn it is.
        var new: [TenantID] = [], known: [(id: TenantID, box: ColdBox, due: Bool)] = []
        for id in ids {
            if let box = cached[id] { known.append((id, box, now >= box.value.expires)) } else { new.append(id) }
        }
        // The slow counts: one SCAN step per refresh. A failed step is reported and retried on
        // the next refresh; the last complete counts stand meanwhile.
        var problem: String?
        do throws(BackendError) { try await keyspace.step(redis, now: now) } catch { problem = error.message }
        let counts = keyspace.published
        let full = try await readFull(new, now: now, keyspace: counts?.counts)
        let (hot, checks) = try await readHot(known, now: now, keyspace: counts?.counts, prefix: checkIndex ? [Self.countIndex] : [])
        if checkIndex, checks.first?.integer != Int64(index!.members) {
            return try await fleet(rediscover: true)   // tenants came or went: read the index again
        }
        // Both lists keep the id order (in the steady state `full` is empty).
        let tenants = full.isEmpty ? hot : hot.isEmpty ? full : Self.merge(full, hot)
        if cached.count > ids.count {   // forget deleted tenants
            let live = Set(ids)
            cache.withLock { c in c.cold = c.cold.filter { live.contains($0.key) } }
        }
        return FleetSnapshot(tenants: tenants, malformedTenantIDs: index!.malformed, takenAt: now,
                             keyspaceAsOf: counts?.completedAt, keyspaceProblem: problem)
    }

    /// When a tenant's cold data is read again: once per `interval`, at a phase of its own, so
    /// each refresh re-reads an even share of the fleet (about `n / interval` tenants a second)
    /// instead of all of it at once.
    static func nextColdRead(_ t: TenantID, after now: Double, interval: Double) -> Double {
        guard interval > 0 else { return now }
        let phase = interval * unit(stableHash(0, [t.rawValue]))
        return ((now - phase) / interval).rounded(.down) * interval + phase + interval
    }

    static func merge(_ a: [TenantState], _ b: [TenantState]) -> [TenantState] {
        var out: [TenantState] = []
        out.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].id < b[j].id) { out.append(a[i]); i += 1 } else { out.append(b[j]); j += 1 }
        }
        return out
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
        guard let state = try await readFull([id], now: now, keyspace: keyspace.published?.counts).first else { throw .notFound("tenant \(id)") }
        if case .bad = state.meta, state.routes.isEmpty, state.budget == nil, state.keys.total == 0 {
            let exists = try await redis.pipeline([["EXISTS", KeySchema.meta(id)]])[0]
            if exists == .integer(0) { throw .notFound("tenant \(id): no \(KeySchema.meta(id)) in Redis") }
        }
        return state
    }

    public func keyspace(of tenant: TenantID) async throws(BackendError) -> KeyspaceCounts {
        KeyspaceCounts(sessions: try await redis.scanKeys(matching: KeySchema.sessionPattern(tenant)).count,
                       cacheEntries: try await redis.scanKeys(matching: KeySchema.cachePattern(tenant)).count)
    }

    public func keys(of tenant: TenantID) async throws(BackendError) -> [APIKey] {
        let index = try await redis.pipeline([["SMEMBERS", KeySchema.apiKeys(tenant)]])[0]
        if let e = index.errorMessage { throw .failed("\(KeySchema.apiKeys(tenant)): \(SafeText.clean(e))") }
        let ids = (index.array?.compactMap(\.string) ?? []).compactMap { try? KeyID($0) }.sorted()
        let hashes = try await redis.pipeline(ids.map { ["HGETALL", KeySchema.apiKey(tenant, $0)] })
        return zip(ids, hashes).compactMap { id, h in h.hash.flatMap { RedisParse.apiKey(id, $0) } }
    }

    // MARK: Full read: both tiers, two round trips for any number of tenants

    /// `keyspace`: the last complete session and cache counts, when there are any.
    private func readFull(_ ids: [TenantID], now: Double, keyspace counts: [TenantID: KeyspaceCounts]?) async throws(BackendError) -> [TenantState] {
        if ids.isEmpty { return [] }
        let month = YearMonth(containing: Int64(now.rounded(.down)))
        var first: [[String]] = []
        first.reserveCapacity(ids.count * 4)
        for t in ids {
            first += Self.coldCommands(t)
            first.append(["HMGET", KeySchema.budget(t, month: month)] + Self.budgetFields)
        }
        let r1 = try await redis.pipeline(first)

        var colds: [Cold] = []
        var keyIDs: [[KeyID]] = []
        var second: [[String]] = []
        for (i, t) in ids.enumerated() {
            let (cold, ids) = parseCold(t, meta: r1[i * 4], limits: r1[i * 4 + 1], members: r1[i * 4 + 2], now: now)
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
            let counterAt = cursor
            var throttles = ThrottleReadings()
            for (j, (route, _)) in cold.policies.enumerated() {
                throttles.routes.append(RedisParse.throttle(r2[counterAt + 2 * j + 1], route: route, key: KeySchema.throttle(t, route)))
            }
            cursor += 2 * cold.policies.count
            throttles.all = RedisParse.throttle(r2[cursor], route: .all, key: KeySchema.throttle(t, .all))
            cursor += 1
            for _ in keyIDs[i] {
                cold.addKey(r2[cursor])
                cursor += 1
            }
            let budget = RedisParse.budget(.other(r1[i * 4 + 3]), key: { KeySchema.budget(t, month: month) }, month: month, now: now)
            let stored = ColdBox(cold)
            out.append(Self.assemble(t, stored, throttles: throttles, budget: budget, keyspace: counts.map { $0[t] ?? KeyspaceCounts() }, now: now) { j, route, start in
                RedisParse.counter(r2[counterAt + 2 * j], key: { KeySchema.counter(t, route, windowStart: start) })
            })
            cache.withLock { $0.cold[t] = stored }
        }
        return out
    }

    static func samePolicies(_ a: [(Route, LimitPolicy)], _ b: [(Route, LimitPolicy)]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    /// What a cold read asks first: `HGETALL meta`, `HGETALL limits`, `SMEMBERS apikeys`.
    static func coldCommands(_ t: TenantID) -> [[String]] {
        [["HGETALL", KeySchema.meta(t)], ["HGETALL", KeySchema.limits(t)], ["SMEMBERS", KeySchema.apiKeys(t)]]
    }

    /// A tenant's cold data from the replies to `coldCommands`, and the ids of its keys, whose
    /// `HMGET ... keyFields` replies then go to `Cold.addKey`.
    private func parseCold(_ t: TenantID, meta: RedisValue, limits: RedisValue, members: RedisValue, now: Double) -> (Cold, [KeyID]) {
        var cold = Cold(tenant: t, meta: RedisParse.meta(t, meta), expires: Self.nextColdRead(t, after: now, interval: coldInterval))
        switch RedisParse.hashOrProblem(limits, key: KeySchema.limits(t)) {
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
        if let list = members.array {
            for m in list {
                if let s = m.string, let k = try? KeyID(s) { ids.append(k) } else { cold.skipped += 1 }
            }
        } else if members.errorMessage != nil {
            cold.skipped += 1
        }
        return (cold, ids)
    }

    // MARK: Hot read: counters, budget, throttles of tenants whose cold data is cached

    /// `prefix` commands ride in the first pipeline; their replies come back beside the states.
    /// A tenant whose cold data is `due` has it read again in the same two pipelines. The new data
    /// serves at once unless the tenant's policies changed: its counters were read by the old ones,
    /// so the new data serves from the next refresh on.
    private func readHot(_ tenants: [(id: TenantID, box: ColdBox, due: Bool)], now: Double, keyspace counts: [TenantID: KeyspaceCounts]?,
                         prefix: [RedisCommand]) async throws(BackendError) -> ([TenantState], [HotReply]) {
        if tenants.isEmpty && prefix.isEmpty { return ([], []) }
        let month = YearMonth(containing: Int64(now.rounded(.down)))
        // Per tenant: the MGET of its counters (when it has policies), the HMGET of its budget and
        // the EXISTS of its throttles, commands built once per window and kept in its ColdBox.
        var first = prefix
        var budgetAt: [Int] = []       // each tenant's HMGET; its MGET precedes it, its EXISTS follows it
        var coldAt: [Int: Int] = [:]   // due tenant -> its cold commands
        first.reserveCapacity(prefix.count + tenants.count * 3)
        budgetAt.reserveCapacity(tenants.count)
        for (i, (t, box, due)) in tenants.enumerated() {
            let commands = box.hotCommands(at: now, month: month)
            if let mget = commands.mget { first.append(mget) }
            budgetAt.append(first.count)
            first.append(commands.budget)
            first.append(box.hotKeys.exists)
            if due {
                coldAt[i] = first.count
                first += Self.coldCommands(t).map(RedisCommand.init)
            }
        }
        let r1 = try await redis.pipeline(first, decode: HotReply.init)

        // Throttles are rare: read them only for tenants that have one. Due tenants' key hashes
        // come along.
        var second: [[String]] = []
        var throttleAt = [Int](repeating: -1, count: tenants.count)
        var renewed: [(index: Int, cold: Cold, keys: [KeyID], at: Int)] = []
        for (i, (t, box, _)) in tenants.enumerated() {
            if let c = coldAt[i] {
                let (cold, keys) = parseCold(t, meta: r1[c].value, limits: r1[c + 1].value, members: r1[c + 2].value, now: now)
                renewed.append((i, cold, keys, second.count))
                for k in keys { second.append(["HMGET", KeySchema.apiKey(t, k)] + Self.keyFields) }
            }
            guard case .integer(let n) = r1[budgetAt[i] + 1], n > 0 else { continue }
            throttleAt[i] = second.count
            for (route, _) in box.value.policies { second.append(["HMGET", KeySchema.throttle(t, route)] + Self.throttleFields) }
            second.append(["HMGET", KeySchema.throttle(t, .all)] + Self.throttleFields)
        }
        let r2 = second.isEmpty ? [] : try await redis.pipeline(second)
        var renewedBox: [Int: ColdBox] = [:]
        if !renewed.isEmpty {
            for var r in renewed {
                for j in r.keys.indices { r.cold.addKey(r2[r.at + j]) }
                renewedBox[r.index] = ColdBox(r.cold, previous: tenants[r.index].box)
            }
            cache.withLock { c in for (i, box) in renewedBox { c.cold[tenants[i].id] = box } }
        }

        var out: [TenantState] = []
        out.reserveCapacity(tenants.count)
        for (i, (t, cachedBox, _)) in tenants.enumerated() {
            var box = cachedBox
            if let renewed = renewedBox[i], Self.samePolicies(renewed.value.policies, box.value.policies) { box = renewed }
            let policies = box.value.policies
            var throttles = ThrottleReadings()
            if r1[budgetAt[i] + 1].integer == nil {
                throttles.all = .bad("throttles: " + (r1[budgetAt[i] + 1].errorText.map(SafeText.clean) ?? "unexpected reply to EXISTS"))
            }
            if throttleAt[i] >= 0 {
                let at = throttleAt[i]
                for (j, (route, _)) in policies.enumerated() {
                    throttles.routes.append(RedisParse.throttle(r2[at + j], route: route, key: KeySchema.throttle(t, route)))
                }
                throttles.all = RedisParse.throttle(r2[at + policies.count], route: .all, key: KeySchema.throttle(t, .all))
            }
            let budget = RedisParse.budget(r1[budgetAt[i]], key: { KeySchema.budget(t, month: month) }, month: month, now: now)
            let counters = policies.isEmpty ? .numbers([]) : r1[budgetAt[i] - 1]
            out.append(Self.assemble(t, box, throttles: throttles, budget: budget, keyspace: counts.map { $0[t] ?? KeyspaceCounts() }, now: now) { j, route, start in
                RedisParse.counter(counters, at: j, key: { KeySchema.counter(t, route, windowStart: start) })
            })
        }
        return (out, Array(r1.prefix(prefix.count)))
    }

    // MARK: Assembly

    /// A tenant's throttle readings: `_all`, and one per policy route in `cold.policies` order.
    /// `routes` is empty when none was read because the tenant has none.
    struct ThrottleReadings {
        var all: Reading<Throttle?> = .ok(nil)
        var routes: [Reading<Throttle?>] = []
    }

    /// One tenant's state from its cold data and hot readings. `counter(j, route, windowStart)`
    /// reads the counter of the `j`th policy.
    static func assemble(_ t: TenantID, _ box: ColdBox, throttles: ThrottleReadings, budget: Reading<BudgetState>?, keyspace: KeyspaceCounts?, now: Double,
                         counter: (Int, Route, Int64) -> Reading<Int>) -> TenantState {
        let cold = box.value
        var live: [Throttle] = []
        if case .ok(let th?) = throttles.all, th.isLive(at: now) { live.append(th) }
        var routes: [RouteReading] = []
        routes.reserveCapacity(cold.badRoutes.count + cold.policies.count)
        for j in cold.policies.indices {
            let (route, policy) = cold.policies[j]
            let routeThrottle = j < throttles.routes.count ? throttles.routes[j] : .ok(nil)
            if case .ok(let th?) = routeThrottle, th.isLive(at: now) { live.append(th) }
            // The first problem wins: the counter's, the route throttle's, then `_all`'s.
            let state: Reading<WindowState>
            switch counter(j, route, policy.windowStart(at: now)) {
            case .bad(let why): state = .bad(why)
            case .ok(let count):
                switch (routeThrottle, throttles.all) {
                case (.bad(let why), _), (_, .bad(let why)): state = .bad(why)
                case (.ok(nil), .ok(nil)): state = .ok(WindowState(policy: policy, count: count, throttles: [], now: now))
                case (.ok(let rt), .ok(let at)): state = .ok(WindowState(policy: policy, count: count, throttles: [rt, at].compactMap { $0 }, now: now))
                }
            }
            routes.append(RouteReading(route: route, state: state))
        }
        if !cold.badRoutes.isEmpty {   // policies are already in route order
            routes += cold.badRoutes
            routes.sort { $0.route < $1.route }
        }
        if live.count > 1 { live.sort { $0.route < $1.route } }
        var keys = KeyCounts()
        for k in cold.keys { keys.add(stored: k.stored, expiresAt: k.expiresAt, graceUntil: k.graceUntil, now: now) }
        return TenantState(id: t, meta: cold.meta, routes: routes, throttles: live, budget: budget, keys: keys, skippedEntries: cold.skipped,
                           keyspace: keyspace)
    }
}
