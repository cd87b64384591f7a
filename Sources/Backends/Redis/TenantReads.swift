/// The two ways the gateway reads tenants: in full (both tiers, for tenants it does not know yet
/// and for the detail screen) and hot (every refresh, for the tenants it knows), and how a
/// tenant's state is assembled from what they read.
extension RedisGateway {
    // MARK: Full read: both tiers, two round trips for any number of tenants (the caller slices)

    /// `keyspace`: the last complete session and cache counts, when there are any. Unless `keep`
    /// is false, each tenant's cold data and readings are kept (as read in tracking `epoch`).
    func readFull(_ ids: [TenantID], now: Double, keyspace counts: [TenantID: KeyspaceCounts]?, epoch: Int,
                  keep: Bool = true) async throws(BackendError) -> [TenantState] {
        if ids.isEmpty { return [] }
        let month = YearMonth(containing: Int64(now.rounded(.down)))
        var first: [RedisCommand] = []
        first.reserveCapacity(ids.count * 4)
        for t in ids {
            first += Self.coldCommands(t)
            first.append(RedisCommand(["HMGET", KeySchema.budget(t, month: month)] + Self.budgetFields))
        }
        let r1 = try await redis.pipeline(first)

        var colds: [Cold] = []
        var keyIDs: [[KeyID]] = []
        var second: [RedisCommand] = []
        for (i, t) in ids.enumerated() {
            let (cold, ids) = parseCold(t, meta: r1[i * 4], limits: r1[i * 4 + 1], members: r1[i * 4 + 2], now: now)
            let routes = cold.policies.map(\.0)
            second.append(Self.throttleExists(t, routes))
            for (route, policy) in cold.policies {
                second.append(RedisCommand(["GET", KeySchema.counter(t, route, windowStart: policy.windowStart(at: now))]))
            }
            second += (routes + [.all]).map { Self.throttleRead(t, $0) }
            second += ids.map { Self.keyRead(t, $0) }
            colds.append(cold)
            keyIDs.append(ids)
        }
        let r2 = try await redis.pipeline(second)

        var cursor = 0
        var out: [TenantState] = []
        var boxes: [(TenantID, ColdBox)] = []
        out.reserveCapacity(ids.count)
        boxes.reserveCapacity(ids.count)
        for (i, t) in ids.enumerated() {
            var cold = colds[i]
            let from = cursor
            let tracked = if case .integer = r2[cursor] { true } else { false }   // the throttles' EXISTS was answered
            let counterAt = cursor + 1
            let throttles = ThrottleReadings(t, cold.policies, replies: r2, at: counterAt + cold.policies.count)
            cursor = counterAt + 2 * cold.policies.count + 1
            for k in keyIDs[i] {
                cold.addKey(k, r2[cursor])
                cursor += 1
            }
            let budget = RedisParse.budget(.other(r1[i * 4 + 3]), key: { KeySchema.budget(t, month: month) }, month: month, now: now)
            let stored = ColdBox(cold)
            let state = Self.assemble(t, stored, throttles: throttles, budget: budget, keyspace: counts.map { $0[t] ?? KeyspaceCounts() }, now: now) { j, route, start in
                RedisParse.counter(r2[counterAt + j], key: { KeySchema.counter(t, route, windowStart: start) })
            }
            out.append(state)
            guard keep else { continue }
            // An answer of a server not serving (a cluster that is down, say) is no change it would announce.
            if tracked, !r1[(i * 4)..<(i * 4 + 4)].contains(where: \.isNotServing), !r2[from..<cursor].contains(where: \.isNotServing) {
                stored.keep(throttles, epoch: epoch)
                stored.keep(state, epoch: epoch, holding: Self.holds(state, cold, throttles: throttles, now: now))
            }
            boxes.append((t, stored))
        }
        if !boxes.isEmpty { cache.withLock { c in for (t, box) in boxes { c.cold[t] = box } } }
        return out
    }

    // MARK: Hot read: counters, budget, throttles of tenants whose cold data is cached

    /// `prefix` commands ride in the first pipeline; their replies come back beside the states.
    /// A tenant whose cold data is `due` has it read again in the same two pipelines. The new data
    /// serves at once unless the tenant's policies changed: its counters were read by the old ones,
    /// so the new data serves from the next refresh on. Throttles known in tracking `epoch` are not
    /// read again. Each state is kept in its box, and serves the refreshes
    /// after this one until a change to one of its keys is announced or it stops holding (`holds`).
    func readHot(_ tenants: [(id: TenantID, box: ColdBox, due: Bool)], now: Double, keyspace counts: [TenantID: KeyspaceCounts]?,
                 epoch: Int, prefix: [RedisCommand]) async throws(BackendError) -> ([TenantState], [HotReply]) {
        if tenants.isEmpty && prefix.isEmpty { return ([], []) }
        let month = YearMonth(containing: Int64(now.rounded(.down)))
        // Per tenant: the MGET of its counters (when it has policies) and the HMGET of its budget;
        // the EXISTS of its throttles when they are not known.
        var first = prefix
        var slots = [HotSlot](repeating: HotSlot(), count: tenants.count)
        first.reserveCapacity(prefix.count + tenants.count * 2)
        for (i, (t, box, due)) in tenants.enumerated() {
            let commands = box.hotCommands(at: now, month: month)
            if let mget = commands.mget { first.append(mget) }
            slots[i].budgetAt = first.count
            first.append(commands.budget)
            // A due tenant's throttles are checked with its cold data: never trusted longer than that.
            if !due, let k = box.throttles(epoch: epoch) {
                slots[i].known = k
            } else {
                slots[i].existsAt = first.count
                first.append(box.throttleExists)
            }
            if due {
                slots[i].coldAt = first.count
                first += Self.coldCommands(t)
            }
        }
        let r1 = try await redis.pipeline(first, decode: HotReply.init)

        // Throttles are rare: read them only for checked tenants that have one. Due tenants' key
        // hashes come along.
        var second: [RedisCommand] = []
        var renewed: [(index: Int, cold: Cold, keys: [KeyID], at: Int)] = []
        for (i, (t, box, _)) in tenants.enumerated() {
            if let c = slots[i].coldAt {
                let (cold, keys) = parseCold(t, meta: r1[c].value, limits: r1[c + 1].value, members: r1[c + 2].value, now: now)
                renewed.append((i, cold, keys, second.count))
                second += keys.map { Self.keyRead(t, $0) }
            }
            guard let e = slots[i].existsAt, case .integer(let n) = r1[e], n > 0 else { continue }
            slots[i].throttleAt = second.count
            second += box.throttleCommands()
        }
        let r2 = second.isEmpty ? [] : try await redis.pipeline(second)
        if !renewed.isEmpty {
            var boxes: [(TenantID, ColdBox)] = []
            for var r in renewed {
                for (j, k) in r.keys.enumerated() { r.cold.addKey(k, r2[r.at + j]) }
                let same = Self.samePolicies(tenants[r.index].box.value.policies, r.cold.policies)
                let box = ColdBox(r.cold)
                boxes.append((tenants[r.index].id, box))
                if same { slots[r.index].servesNow = box }
            }
            cache.withLock { c in for (t, box) in boxes { c.cold[t] = box } }
        }

        var out: [TenantState] = []
        out.reserveCapacity(tenants.count)
        for (i, (t, cachedBox, due)) in tenants.enumerated() {
            let slot = slots[i]
            let box = slot.servesNow ?? cachedBox
            let policies = box.value.policies
            var throttles = slot.known ?? ThrottleReadings()
            if let e = slot.existsAt {
                if r1[e].integer == nil {
                    throttles.all = .bad("throttles: " + (r1[e].errorText.map(SafeText.clean) ?? "unexpected reply to EXISTS"))
                } else {
                    if let at = slot.throttleAt { throttles = ThrottleReadings(t, policies, replies: r2, at: at) }
                    // A renewed box with other policies serves from the next refresh, and checks its own.
                    if !due || slot.servesNow != nil { box.keep(throttles, epoch: epoch) }
                }
            }
            let budget = RedisParse.budget(r1[slot.budgetAt], key: { KeySchema.budget(t, month: month) }, month: month, now: now)
            let counters = policies.isEmpty ? .numbers([]) : r1[slot.budgetAt - 1]
            let state = Self.assemble(t, box, throttles: throttles, budget: budget, keyspace: counts.map { $0[t] ?? KeyspaceCounts() }, now: now) { j, route, start in
                RedisParse.counter(counters, at: j, key: { KeySchema.counter(t, route, windowStart: start) })
            }
            // An answer of a server not serving (a cluster that is down, say) is no change it would announce.
            let failed = [slot.existsAt, slot.budgetAt, policies.isEmpty ? nil : slot.budgetAt - 1].contains { $0.map { r1[$0].isNotServing } ?? false }
            if failed { box.drop() } else { box.keep(state, epoch: epoch, holding: Self.holds(state, box.value, throttles: throttles, now: now)) }
            out.append(state)
        }
        return (out, Array(r1.prefix(prefix.count)))
    }

    /// Where one tenant's replies are in a hot read, and what the read knows of it.
    struct HotSlot {
        /// Its budget's HMGET in the first pipeline; its MGET, when it has policies, precedes it.
        var budgetAt = 0
        /// Its throttles as known from tracking: not read again.
        var known: ThrottleReadings?
        /// Its throttles' EXISTS, when they are checked.
        var existsAt: Int?
        /// Its cold commands, when its cold data is due.
        var coldAt: Int?
        /// Its throttle reads in the second pipeline, when the EXISTS found any.
        var throttleAt: Int?
        /// Its re-read cold data, when read by the same policies as its counters.
        var servesNow: ColdBox?
    }

    // MARK: Assembly

    /// A tenant's throttle readings: `_all`, and one per policy route in `cold.policies` order.
    /// `routes` is empty when none was read because the tenant has none.
    struct ThrottleReadings: Sendable {
        var all: Reading<Throttle?> = .ok(nil)
        var routes: [Reading<Throttle?>] = []

        /// No throttle, and no problem reading one.
        var isEmpty: Bool { if routes.isEmpty, case .ok(nil) = all { true } else { false } }

        init() {}

        /// From the `throttleRead` replies of the policies' routes, then of `_all`, from `at` on.
        init(_ t: TenantID, _ policies: [(Route, LimitPolicy)], replies: [RedisValue], at: Int) {
            routes = policies.indices.map { j in
                let route = policies[j].0
                return RedisParse.throttle(replies[at + j], route: route, key: KeySchema.throttle(t, route))
            }
            all = RedisParse.throttle(replies[at + policies.count], route: .all, key: KeySchema.throttle(t, .all))
        }
    }

    /// One tenant's state from its cold data and hot readings. `counter(j, route, windowStart)`
    /// reads the counter of the `j`th policy.
    static func assemble(_ t: TenantID, _ box: ColdBox, throttles: ThrottleReadings, budget: Reading<BudgetState>?, keyspace: KeyspaceCounts?, now: Double,
                         counter: (Int, Route, Int64) -> Reading<Int>) -> TenantState {
        let cold = box.value
        var live: [Throttle] = []
        if case .ok(let th?) = throttles.all, th.isLive(at: now) { live.append(th) }
        let unthrottled = throttles.isEmpty   // most tenants: no throttle to weigh on any route
        var routes: [RouteReading] = []
        routes.reserveCapacity(cold.badRoutes.count + cold.policies.count)
        for j in cold.policies.indices {
            let (route, policy) = cold.policies[j]
            let routeThrottle: Reading<Throttle?> = j < throttles.routes.count ? throttles.routes[j] : .ok(nil)
            if case .ok(let th?) = routeThrottle, th.isLive(at: now) { live.append(th) }
            // The first problem wins: the counter's, the route throttle's, then `_all`'s.
            let state: Reading<WindowState>
            switch counter(j, route, policy.windowStart(at: now)) {
            case .bad(let why): state = .bad(why)
            case .ok(let count) where unthrottled: state = .ok(WindowState(policy: policy, count: count, throttles: [], now: now))
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
                           keyspace: keyspace, readAt: now)
    }
}
