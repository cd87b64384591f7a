import Synchronization

/// What the gateway keeps per tenant between refreshes: the cold data (meta, policies, key
/// metadata) and the hot read's key names and commands built from it, and when it is read again.
extension RedisGateway {
    /// Shares one tenant's cold data between refreshes without copying it.
    final class ColdBox: Sendable {
        let value: Cold
        /// Key names of the hot read, built once per cold read instead of on every refresh.
        let hotKeys: HotKeys
        /// The last hot commands built for this tenant: reused until one of its windows rolls
        /// over or the month changes.
        private let commands: Mutex<HotCommands?>
        /// `HMGET` of each throttle (the policies' routes, then `_all`), built the first time the
        /// tenant has a throttle.
        private let throttleReads: Mutex<[RedisCommand]?>
        /// The tenant's throttles as last read with tracking, and the tracking epoch of that read
        /// (`Cache.trackingEpoch`). Not carried to a re-read box: a cold re-read checks them again,
        /// so they are never trusted for longer than the cold interval.
        private let knownThrottles = Mutex<(readings: ThrottleReadings, epoch: Int)?>(nil)

        /// A re-read whose policies did not change passes the tenant's `previous` box, whose key
        /// names and commands it keeps.
        init(_ value: Cold, reusing previous: ColdBox? = nil) {
            self.value = value
            if let previous {
                hotKeys = previous.hotKeys
                commands = Mutex(previous.commands.withLock { $0 })
                throttleReads = Mutex(previous.throttleReads.withLock { $0 })
            } else {
                hotKeys = HotKeys(value.tenant, value.policies)
                commands = Mutex(nil)
                throttleReads = Mutex(nil)
            }
        }

        /// The throttles read in `epoch`, unless a change to one of them was announced since.
        func throttles(epoch: Int) -> ThrottleReadings? {
            knownThrottles.withLock { k in k.flatMap { $0.epoch == epoch ? $0.readings : nil } }
        }

        func keep(_ readings: ThrottleReadings, epoch: Int) { knownThrottles.withLock { $0 = (readings, epoch) } }

        /// A change to one of the tenant's throttle keys was announced.
        func forgetThrottles() { knownThrottles.withLock { $0 = nil } }

        func throttleCommands() -> [RedisCommand] {
            throttleReads.withLock { cached in
                if let c = cached { return c }
                let t = value.tenant
                let built = (value.policies.map(\.0) + [.all]).map { RedisGateway.throttleRead(t, $0) }
                cached = built
                return built
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

        /// One key's `keyRead` reply; a broken one is skipped and counted.
        mutating func addKey(_ id: KeyID, _ reply: RedisValue) {
            if let k = RedisParse.keyMeta(id, reply) { keys.append(k) } else { skipped += 1 }
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
        /// `EXISTS {T}:throttle:{route}... {T}:throttle:_all`, tracked: the server announces a
        /// throttle set, changed, cleared or expired on any of them.
        let exists: RedisCommand
        /// `{T}:budget:`, to which a refresh appends the month.
        let budgetPrefix: String

        init(_ t: TenantID, _ policies: [(Route, LimitPolicy)]) {
            counterPrefixes = policies.map { KeySchema.counterPrefix(t, $0.0) }
            budgetPrefix = KeySchema.budgetPrefix(t)
            exists = Self.throttleExists(t, policies.map(\.0))
        }

        static func throttleExists(_ t: TenantID, _ routes: [Route]) -> RedisCommand {
            RedisCommand(["EXISTS"] + routes.map { KeySchema.throttle(t, $0) } + [KeySchema.throttle(t, .all)], tracked: true)
        }
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

    /// Errors of a server that is not serving right now, not of the data.
    static func isTransient(_ error: String) -> Bool {
        ["CLUSTERDOWN", "TRYAGAIN", "LOADING", "BUSY", "MASTERDOWN", "MOVED", "ASK"].contains { error.hasPrefix($0) }
    }

    /// What a cold read asks first: `HGETALL meta`, `HGETALL limits`, `SMEMBERS apikeys`.
    static func coldCommands(_ t: TenantID) -> [[String]] {
        [["HGETALL", KeySchema.meta(t)], ["HGETALL", KeySchema.limits(t)], ["SMEMBERS", KeySchema.apiKeys(t)]]
    }

    /// A tenant's cold data from the replies to `coldCommands`, and the ids of its keys, whose
    /// `keyRead` replies then go to `Cold.addKey`.
    func parseCold(_ t: TenantID, meta: RedisValue, limits: RedisValue, members: RedisValue, now: Double) -> (Cold, [KeyID]) {
        // An answer the server gives only while it is not itself (a cluster that is down, a
        // dataset loading) says nothing about the tenant: read again at the next refresh rather
        // than keep it for a cold interval.
        let passing = [meta, limits, members].contains { $0.errorMessage.map(Self.isTransient) ?? false }
        var cold = Cold(tenant: t, meta: RedisParse.meta(t, meta), expires: passing ? now : Self.nextColdRead(t, after: now, interval: coldInterval))
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
