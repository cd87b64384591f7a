import Synchronization

/// What the gateway keeps per tenant between refreshes: the cold data (meta, policies, key
/// metadata), the throttles and the state last read, and until when each of them holds.
extension RedisGateway {
    /// Shares one tenant's cold data between refreshes without copying it.
    final class ColdBox: Sendable {
        let value: Cold
        /// The tenant's throttles as last read while tracking, and the tracking epoch of that read
        /// (`Cache.trackingEpoch`). Not carried to a re-read box: a cold re-read checks them again.
        private let knownThrottles = Mutex<(readings: ThrottleReadings, epoch: Int)?>(nil)
        /// The state last assembled while tracking, its tracking epoch, and when it stops holding
        /// and when its windows next roll over (`Holding`).
        private let last = Mutex<(state: TenantState, epoch: Int, holding: Holding)?>(nil)
        /// A change to a cold key (meta, limits, key index or a key) was announced.
        private let coldChanged = Mutex(false)

        init(_ value: Cold) { self.value = value }

        /// The throttles read in `epoch`, unless a change to one of them was announced since.
        func throttles(epoch: Int) -> ThrottleReadings? {
            knownThrottles.withLock { k in k.flatMap { $0.epoch == epoch ? $0.readings : nil } }
        }

        func keep(_ readings: ThrottleReadings, epoch: Int) { knownThrottles.withLock { $0 = (readings, epoch) } }

        /// The state last read in `epoch`, while it holds at `now`. Until a window rolls over, the
        /// same reading, with its `readAt` and the instant its windows and budget were seen at
        /// (`holds` ends it before anything they derive changes, but for the resets: the overview
        /// derives the budget's reset from its own clock, and shows no window's reset). Then the
        /// reading with the windows that rolled over counted from 0: no key of the tenant was
        /// written since it was read (tracking would have announced it), so no counter of a new
        /// window exists yet; when every window that ended had counted nothing, the same reading.
        /// `nil` when it stops holding, or cannot be rolled over (a route whose reading is bad,
        /// throttles not known).
        func state(epoch: Int, at now: Double) -> TenantState? {
            last.withLock { l -> TenantState? in
                guard let k = l, k.epoch == epoch, now < k.holding.until else { return nil }
                if now < k.holding.rolls { return k.state }
                guard let rolled = rolledOver(k.state, epoch: epoch, at: now) else { l = nil; return nil }
                l = (rolled, epoch, Holding(until: k.holding.until, rolls: value.windowsEnd(at: now)))
                return rolled
            }
        }

        func keep(_ state: TenantState, epoch: Int, holding: Holding) { last.withLock { $0 = (state, epoch, holding) } }

        /// The state read now could not be kept: the one kept before is not what is shown, and
        /// serves no more.
        func drop() { last.withLock { $0 = nil } }

        /// The kept state with the session and cache counts of a completed walk.
        func recount(_ state: TenantState) { last.withLock { l in l = l.map { (state, $0.epoch, $0.holding) } } }

        /// `state` at `now`: each route's count as read while its window lasts, 0 once it rolled over.
        private func rolledOver(_ state: TenantState, epoch: Int, at now: Double) -> TenantState? {
            guard let throttles = throttles(epoch: epoch) else { return nil }
            let policies = value.policies
            let aligned = value.badRoutes.isEmpty && state.routes.count == policies.count   // routes[j] is policies[j]
            var counts: [Int] = []
            counts.reserveCapacity(policies.count)
            var moved = false
            for (j, (route, policy)) in policies.enumerated() {
                let reading = aligned ? state.routes[j] : state.routes.first { $0.route == route }
                guard let reading, reading.route == route, case .ok(let w) = reading.state else { return nil }
                counts.append(w.windowStart == policy.windowStart(at: now) ? w.count : 0)
                moved = moved || counts[j] != w.count
            }
            // Windows that ended with nothing counted: the tenant shows as it was, the same reading
            // (its ended windows' starts are not shown by the overview, nor read by a rate: a rate
            // across a window's start counts from the start of the later reading's window).
            if !moved { return state }
            return RedisGateway.assemble(value.tenant, self, throttles: throttles, budget: state.budget, keyspace: state.keyspace, now: now) { j, _, _ in
                .ok(counts[j])
            }
        }

        /// Until when nothing of the tenant changes unless a change is announced: its cold data's
        /// turn, and when its kept state rolls over or stops holding (`-infinity` without one).
        func nextVisit(tracked: Bool) -> Double {
            if coldChanged.withLock({ $0 }) { return -.infinity }
            let cold = tracked ? value.expires.tracked : value.expires.untracked
            return last.withLock { l in l.map { min(cold, $0.holding.until, $0.holding.rolls) } } ?? -.infinity
        }

        /// Whether the cold data is read again at this refresh: its turn came or a change was announced.
        /// `tracked`: whether tracking announces changes (the longer interval holds).
        func coldDue(at now: Double, tracked: Bool) -> Bool {
            now >= (tracked ? value.expires.tracked : value.expires.untracked) || coldChanged.withLock { $0 }
        }

        /// A change to one of the tenant's keys was announced: what it read is read again.
        func forget(_ kind: KeySchema.Announced) {
            if kind == .throttle { knownThrottles.withLock { $0 = nil } }
            if kind == .cold { coldChanged.withLock { $0 = true } }
            last.withLock { $0 = nil }
        }

        /// `MGET` of the current windows' counters (`nil` when the tenant has no policies) and
        /// `HMGET` of the month's budget.
        func hotCommands(at now: Double, month: YearMonth) -> (mget: RedisCommand?, budget: RedisCommand) {
            let mget = ["MGET"] + value.policies.map { KeySchema.counter(value.tenant, $0.0, windowStart: $0.1.windowStart(at: now)) }
            return (value.policies.isEmpty ? nil : RedisCommand(mget),
                    RedisCommand(["HMGET", KeySchema.budget(value.tenant, month: month)] + RedisGateway.budgetFields))
        }

        /// `HMGET` of each throttle: the policies' routes, then `_all`.
        func throttleCommands() -> [RedisCommand] {
            (value.policies.map(\.0) + [.all]).map { RedisGateway.throttleRead(value.tenant, $0) }
        }

        /// `EXISTS {T}:throttle:{route}... {T}:throttle:_all`: whether the tenant has any throttle
        /// to read (the server announces one set, changed, cleared or expired).
        var throttleExists: RedisCommand { RedisGateway.throttleExists(value.tenant, value.policies.map(\.0)) }
    }

    /// The tenants the last refresh returned, in id order, and until when each of them stays as
    /// it is unless one of its keys is announced as changed (`ColdBox.nextVisit`). A steady refresh
    /// looks only at the tenants due or announced, and puts their states in place in a copy of
    /// these, instead of walking the fleet: an idle console's refresh follows what changed.
    struct Shown {
        let states: [TenantState]
        let ids: [TenantID]
        let visit: [Double]
        /// What the states were read under: the index's generation, the tracking epoch and whether
        /// tracking announced changes. A refresh under another looks at every tenant.
        let index: Int
        let epoch: Int
        let tracked: Bool

        func serves(index: Int, epoch: Int, tracked: Bool) -> Bool {
            index == self.index && epoch == self.epoch && tracked == self.tracked
        }

        /// The positions of the tenants due at `now` or announced, in order.
        func due(at now: Double, announced: [TenantID]?) -> [Int] {
            var due: [Int] = []
            for p in visit.indices where visit[p] <= now { due.append(p) }
            guard let announced, !announced.isEmpty else { return due }
            for t in announced {
                var lo = 0, hi = ids.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if ids[mid] < t { lo = mid + 1 } else { hi = mid }
                }
                if lo < ids.count, ids[lo] == t { due.append(lo) }
            }
            return Array(Set(due)).sorted()
        }
    }

    /// What changes rarely, kept per tenant between refreshes.
    struct Cold: Sendable {
        var meta: Reading<TenantMeta>
        var policies: [(Route, LimitPolicy)]
        var badRoutes: [RouteReading]
        var keys: [KeyMeta]
        var skipped: Int
        /// When it is read again while tracking announces changes to it, and when otherwise.
        var expires: (tracked: Double, untracked: Double)
        let tenant: TenantID

        /// The instant the first of the current windows ends (never, without policies).
        func windowsEnd(at now: Double) -> Double {
            policies.reduce(Double.infinity) { end, p in min(end, Double(p.1.windowStart(at: now) + Int64(p.1.window))) }
        }

        /// One key's `keyRead` reply; a broken one is skipped and counted.
        mutating func addKey(_ id: KeyID, _ reply: RedisValue) {
            if let k = RedisParse.keyMeta(id, reply) { keys.append(k) } else { skipped += 1 }
        }

        init(tenant: TenantID, meta: Reading<TenantMeta>, expires: (tracked: Double, untracked: Double)) {
            self.tenant = tenant
            self.meta = meta
            self.expires = expires
            policies = []
            badRoutes = []
            keys = []
            skipped = 0
        }
    }

    static func throttleExists(_ t: TenantID, _ routes: [Route]) -> RedisCommand {
        RedisCommand(["EXISTS"] + routes.map { KeySchema.throttle(t, $0) } + [KeySchema.throttle(t, .all)])
    }

    struct KeyMeta: Sendable {
        let id: KeyID
        let stored: APIKey.StoredState
        let expiresAt: Int64
        let graceUntil: Int64?
    }

    /// When a tenant's cold data is read again: once per `interval`, at a phase of its own, so
    /// each refresh re-reads an even share of the fleet (about `n / interval` tenants a second)
    /// instead of all of it at once.
    static func nextColdRead(_ t: TenantID, after now: Double, interval: Double) -> Double {
        guard interval > 0 else { return now }
        let phase = interval * unit(stableHash(0, [t.rawValue]))
        return ((now - phase) / interval).rounded(.down) * interval + phase + interval
    }

    /// How long a kept state serves while nothing announces a change to it.
    struct Holding: Sendable {
        /// It is read again from here on.
        var until: Double
        /// Its windows roll over from here on (`ColdBox.state`).
        var rolls: Double
    }

    /// How far the gateway's clock may run ahead of the console's. A window that starts sooner
    /// than this after a read may have been counted in before the read: that counter's first
    /// write could have been announced before, and the state is read again when the window rolls
    /// over instead of rolled over.
    static let clockSkew = 2.0

    /// How long `state`, read at `now`, holds if no change is announced: until the budget's month
    /// ends, a throttle or a key expires or a budget's raise ends; its windows roll over by
    /// themselves. The guard against an announcement lost in a way the tracking connection could
    /// not notice is the cold re-read, which reads the hot keys too (`Cold.expires`).
    static func holds(_ state: TenantState, _ cold: Cold, throttles: ThrottleReadings, now: Double) -> Holding {
        let rolls = cold.windowsEnd(at: now)
        var until = Double(YearMonth(containing: Int64(now.rounded(.down))).next.start)
        if rolls < now + clockSkew { until = min(until, rolls) }
        func upTo(_ t: Int64?) { if let t, Double(t) > now { until = min(until, Double(t)) } }
        for k in cold.keys {
            upTo(k.expiresAt)
            upTo(k.graceUntil)
            if k.expiresAt > 0 { upTo(k.expiresAt - Int64(KeyCounts.expiryWarning)) }   // it becomes "expiring soon"
        }
        if case .ok(let th?) = throttles.all { upTo(th.expiresAt) }
        for r in throttles.routes { if case .ok(let th?) = r { upTo(th.expiresAt) } }
        upTo(state.budget?.value?.budget.tempExpiresAt)
        return Holding(until: until, rolls: rolls)
    }

    static func samePolicies(_ a: [(Route, LimitPolicy)], _ b: [(Route, LimitPolicy)]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    /// `HMGET {T}:throttle:{route}` of `throttleFields`, read by `ThrottleReadings`.
    static func throttleRead(_ t: TenantID, _ route: Route) -> RedisCommand {
        RedisCommand(["HMGET", KeySchema.throttle(t, route)] + throttleFields)
    }

    /// `HMGET {T}:apikey:{K}` of `keyFields`, read by `Cold.addKey`.
    static func keyRead(_ t: TenantID, _ k: KeyID) -> RedisCommand {
        RedisCommand(["HMGET", KeySchema.apiKey(t, k)] + keyFields)
    }

    /// What a cold read asks first: `HGETALL meta`, `HGETALL limits`, `SMEMBERS apikeys`; the key
    /// reads follow (`keyRead`). A change to any of them is announced.
    static func coldCommands(_ t: TenantID) -> [RedisCommand] {
        [["HGETALL", KeySchema.meta(t)], ["HGETALL", KeySchema.limits(t)], ["SMEMBERS", KeySchema.apiKeys(t)]].map { RedisCommand($0) }
    }

    /// A tenant's cold data from the replies to `coldCommands`, and the ids of its keys, whose
    /// `keyRead` replies then go to `Cold.addKey`.
    func parseCold(_ t: TenantID, meta: RedisValue, limits: RedisValue, members: RedisValue, now: Double) -> (Cold, [KeyID]) {
        // An answer the server gives only while it is not itself (a cluster that is down, a
        // dataset loading) says nothing about the tenant: read again at the next refresh rather
        // than keep it for a cold interval.
        let passing = meta.isNotServing || limits.isNotServing || members.isNotServing
        let expires = passing ? (now, now) : (Self.nextColdRead(t, after: now, interval: coldInterval * Self.trackedColdFactor),
                                              Self.nextColdRead(t, after: now, interval: coldInterval))
        var cold = Cold(tenant: t, meta: RedisParse.meta(t, meta), expires: expires)
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
}
