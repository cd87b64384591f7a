import Synchronization

/// The read side of the contract over Redis. Key names are computed from the key schema and the
/// clock, never found by KEYS: a fleet refresh is three pipelined round trips (the tenant index;
/// meta/limits/budget/key index of every tenant; counters/throttles/key hashes of every tenant),
/// and a tenant refresh is two. SCAN is used only for discovery when `gw:tenants` is missing,
/// and its result is cached.
public final class RedisGateway: FleetReading, TenantReading {
    private let redis: any RedisCommands
    private let clock: any Clock
    private let scanCache = Mutex<(ids: [String], at: Double)?>(nil)
    static let scanCacheSeconds = 60.0
    static let keyFields = ["state", "expires_at", "grace_until"]
    static let throttleFields = ["limit", "expires_at", "reason", "actor", "set_at"]

    public init(redis: any RedisCommands, clock: any Clock = SystemClock()) {
        self.redis = redis
        self.clock = clock
    }

    public var label: String { redis.label }

    // MARK: FleetReading

    public func fleet() async throws(BackendError) -> FleetSnapshot {
        let now = clock.now()
        let (ids, malformed) = try await discover(now: now)
        let tenants = try await read(ids, now: now)
        return FleetSnapshot(tenants: tenants, malformedTenantIDs: malformed, takenAt: now)
    }

    /// Tenant ids from `gw:tenants`, or from a cached SCAN of `{*}:meta` when the index is empty
    /// or missing. Ids that break the contract are skipped and counted.
    func discover(now: Double) async throws(BackendError) -> ([TenantID], Int) {
        let index = try await redis.pipeline([["SMEMBERS", KeySchema.tenantIndex]])[0]
        var raw = index.array?.compactMap(\.string) ?? []
        if raw.isEmpty {
            if let cached = scanCache.withLock({ $0 }), now - cached.at < Self.scanCacheSeconds {
                raw = cached.ids
            } else {
                raw = try await redis.scanKeys(matching: KeySchema.metaScanPattern).compactMap(KeySchema.tenantPart(ofMetaKey:))
                let found = raw
                scanCache.withLock { $0 = (found, now) }
            }
        }
        var ids: [TenantID] = []
        var malformed = 0
        for r in Set(raw) {
            if let id = try? TenantID(r) { ids.append(id) } else { malformed += 1 }
        }
        return (ids.sorted(), malformed)
    }

    // MARK: TenantReading

    public func tenant(_ id: TenantID) async throws(BackendError) -> TenantState {
        let now = clock.now()
        guard let state = try await read([id], now: now).first else { throw .notFound("tenant \(id)") }
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

    // MARK: Reading many tenants

    private func read(_ ids: [TenantID], now: Double) async throws(BackendError) -> [TenantState] {
        let month = YearMonth(containing: Int64(now.rounded(.down)))
        var first: [[String]] = []
        first.reserveCapacity(ids.count * 4)
        for t in ids {
            first.append(["HGETALL", KeySchema.meta(t)])
            first.append(["HGETALL", KeySchema.limits(t)])
            first.append(["HGETALL", KeySchema.budget(t, month: month)])
            first.append(["SMEMBERS", KeySchema.apiKeys(t)])
        }
        let r1 = try await redis.pipeline(first)

        struct Partial {
            var state: TenantState
            var policies: [(Route, LimitPolicy)] = []
            var keyIDs: [KeyID] = []
        }
        var partials: [Partial] = []
        partials.reserveCapacity(ids.count)
        var second: [[String]] = []
        for (i, t) in ids.enumerated() {
            var skipped = 0
            let meta = RedisParse.meta(t, r1[i * 4])
            var routes: [RouteReading] = []
            var policies: [(Route, LimitPolicy)] = []
            switch RedisParse.hashOrProblem(r1[i * 4 + 1], key: KeySchema.limits(t)) {
            case .bad(let problem):
                routes.append(RouteReading(route: .all, state: .bad(problem)))
            case .ok(let limits):
                for (field, value) in limits.sorted(by: { $0.key < $1.key }) {
                    guard let route = try? Route(field) else { skipped += 1; continue }
                    do throws(ValidationError) {
                        policies.append((route, try LimitPolicy(parsing: value)))
                    } catch {
                        routes.append(RouteReading(route: route, state: .bad(error.description)))
                    }
                }
            }
            let budget = RedisParse.budget(r1[i * 4 + 2], key: KeySchema.budget(t, month: month), month: month, now: now)
            var keyIDs: [KeyID] = []
            if let members = r1[i * 4 + 3].array {
                for m in members {
                    if let s = m.string, let k = try? KeyID(s) { keyIDs.append(k) } else { skipped += 1 }
                }
            } else if r1[i * 4 + 3].errorMessage != nil {
                skipped += 1
            }
            for (route, policy) in policies {
                second.append(["GET", KeySchema.counter(t, route, windowStart: policy.windowStart(at: now))])
                second.append(["HMGET", KeySchema.throttle(t, route)] + Self.throttleFields)
            }
            second.append(["HMGET", KeySchema.throttle(t, .all)] + Self.throttleFields)
            for k in keyIDs { second.append(["HMGET", KeySchema.apiKey(t, k)] + Self.keyFields) }
            partials.append(Partial(state: TenantState(id: t, meta: meta, routes: routes, throttles: [], budget: budget,
                                                       keys: KeyCounts(), skippedEntries: skipped),
                                    policies: policies, keyIDs: keyIDs))
        }
        let r2 = try await redis.pipeline(second)

        var cursor = 0
        var out: [TenantState] = []
        out.reserveCapacity(partials.count)
        for var p in partials {
            let t = p.state.id
            let perRoute = p.policies.map { _ -> (RedisValue, RedisValue) in
                defer { cursor += 2 }
                return (r2[cursor], r2[cursor + 1])
            }
            let allThrottle = RedisParse.throttle(r2[cursor], route: .all, key: KeySchema.throttle(t, .all))
            cursor += 1
            var live: [Throttle] = []
            if case .ok(let th?) = allThrottle, th.isLive(at: now) { live.append(th) }
            for ((route, policy), (counter, throttleReply)) in zip(p.policies, perRoute) {
                let routeThrottle = RedisParse.throttle(throttleReply, route: route, key: KeySchema.throttle(t, route))
                if case .ok(let th?) = routeThrottle, th.isLive(at: now) { live.append(th) }
                let reading: Reading<WindowState>
                switch (RedisParse.counter(counter, key: KeySchema.counter(t, route, windowStart: policy.windowStart(at: now))), routeThrottle, allThrottle) {
                case (.bad(let why), _, _), (_, .bad(let why), _), (_, _, .bad(let why)):
                    reading = .bad(why)
                case (.ok(let count), .ok(let rt), .ok(let at)):
                    reading = .ok(WindowState(policy: policy, count: count, throttles: [rt, at].compactMap { $0 }, now: now))
                }
                p.state.routes.append(RouteReading(route: route, state: reading))
            }
            p.state.routes.sort { $0.route < $1.route }
            p.state.throttles = live.sorted { $0.route < $1.route }
            for _ in p.keyIDs {
                if let key = RedisParse.keyState(r2[cursor], now: now) {
                    p.state.keys[key.state] += 1
                    if key.expiringSoon { p.state.keys.expiringSoon += 1 }
                } else {
                    p.state.skippedEntries += 1
                }
                cursor += 1
            }
            out.append(p.state)
        }
        return out
    }
}
