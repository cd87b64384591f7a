import Backends
import Synchronization
import Views

/// Runs a read loop for each feed the current screen needs and cancels it when the screen goes:
/// `sync` compares what is needed with what runs. Each loop reads one at a time (a slow store
/// never piles up requests), starts its reads on a fixed cadence, backs off exponentially while
/// the store fails (to `maxBackoff`), and reads at once when a refresh is asked for.
final class FeedRunner {
    private var running: [Feed: Task<Void, Never>] = [:]
    private var sessionID = 0
    let memory = FeedMemory()
    let alarm = Alarm()
    private let waiting = Pending()
    private let mailbox: Mailbox
    private let clock: any Clock
    /// The longest wait between attempts while a store fails: a store that answers again (a Redis
    /// Cluster after a failover, a restarted ClickHouse) is read again within it. A failing read
    /// costs one refused connection or one timeout, so trying every few seconds costs nothing.
    static let maxBackoff = 2.0

    init(mailbox: Mailbox, clock: any Clock) {
        self.mailbox = mailbox
        self.clock = clock
    }

    /// Feeds that started or were asked to refresh and have not answered since (the headless
    /// tests wait for them).
    var owesAnswers: Bool { !waiting.isEmpty }

    func sync(_ needs: Set<Feed>, _ session: ConsoleSession) {
        for (feed, task) in running where !needs.contains(feed) {
            task.cancel()
            running[feed] = nil
            waiting.stop(feed)
        }
        for feed in needs where running[feed] == nil {
            guard let read = reader(feed, session) else { continue }
            waiting.start(feed, generation: alarm.generation)
            let interval = feed.interval(refresh: session.info.refresh)
            running[feed] = Self.start(feed, every: interval, read: read, mailbox: mailbox, epoch: mailbox.epoch, alarm: alarm, clock: clock,
                                       waiting: waiting)
        }
    }

    /// Reads `feed` once, off this thread (a page of older rows); `done` runs after the result
    /// is posted.
    func readOnce(_ feed: Feed, _ session: ConsoleSession, done: @escaping @Sendable () -> Void) {
        guard let read = reader(feed, session) else { done(); return }
        let mailbox = self.mailbox, epoch = mailbox.epoch, clock = self.clock
        Task.detached {
            do throws(BackendError) {
                mailbox.post(.loaded(feed, try await read()), epoch: epoch)
            } catch {
                mailbox.post(.failed(feed, error.description, at: clock.now()), epoch: epoch)
            }
            done()
        }
    }

    func refresh() { Self.refresh(alarm, waiting) }

    /// Every feed reads again now (callable from any task: the actions use it).
    static func refresh(_ alarm: Alarm, _ waiting: Pending) {
        waiting.oweAll(from: alarm.generation + 1)
        alarm.wakeAll()
    }

    var refresher: @Sendable () -> Void {
        let alarm = self.alarm, waiting = self.waiting
        return { Self.refresh(alarm, waiting) }
    }

    /// Before a session is replaced: nothing of the old one may reach the new one.
    func stopAll() {
        mailbox.newEpoch()
        for task in running.values { task.cancel() }
        running = [:]
        waiting.stopAll()
        memory.forget()
    }

    private static func start(_ feed: Feed, every interval: Double, read: @escaping @Sendable () async throws(BackendError) -> Loaded,
                              mailbox: Mailbox, epoch: Int, alarm: Alarm, clock: any Clock, waiting: Pending) -> Task<Void, Never> {
        Task.detached {
            await loop(feed, every: interval, read: read, mailbox: mailbox, epoch: epoch, alarm: alarm, clock: clock) {
                waiting.answered(feed, readAt: $0)
            }
        }
    }

    private static func loop(_ feed: Feed, every interval: Double, read: @escaping @Sendable () async throws(BackendError) -> Loaded,
                             mailbox: Mailbox, epoch: Int, alarm: Alarm, clock: any Clock, answered: @Sendable (Int) -> Void) async {
        var next = clock.now()
        var failures = 0
        while !Task.isCancelled {
            let generation = alarm.generation
            do throws(BackendError) {
                let data = try await read()
                if Task.isCancelled { return }
                mailbox.post(.loaded(feed, data), epoch: epoch)
                failures = 0
            } catch {
                if Task.isCancelled { return }
                mailbox.post(.failed(feed, error.description, at: clock.now()), epoch: epoch)
                failures += 1
            }
            answered(generation)
            let now = clock.now()
            if failures > 0 {
                await alarm.sleep(min(Self.maxBackoff, interval * Double(1 << min(failures - 1, 10))), since: generation)
                next = clock.now()
            } else {
                next += interval
                if next <= now { next += ((now - next) / interval).rounded(.down) * interval + interval }   // skip missed slots
                await alarm.sleep(next - now, since: generation)
            }
        }
    }

    /// How a feed is read with this session's capabilities; nil when the session has no store
    /// for it (the screen says so).
    private func reader(_ feed: Feed, _ session: ConsoleSession) -> (@Sendable () async throws(BackendError) -> Loaded)? {
        let (memory, clock) = (self.memory, self.clock)
        switch feed {
        case .fleet:
            let fleet = session.fleet
            return { () throws(BackendError) in .fleet(memory.digest(try await fleet.fleet())) }
        case .tenant(let id):
            let tenants = session.tenants
            return { () throws(BackendError) in
                let at = clock.now()
                let state = try await tenants.tenant(id)
                return .tenant(memory.detail(state, at: at))
            }
        case .keys(let id):
            let tenants = session.tenants
            return { () throws(BackendError) in .keys(try await tenants.keys(of: id), at: clock.now()) }
        case .recentAudit(let id):
            guard let audit = session.audit else { return nil }
            return { () throws(BackendError) in .audit(try await audit.audit(AuditQuery(tenant: id, limit: 50)), at: clock.now()) }
        case .usage(let id, let key):
            guard let usage = session.usage else { return nil }
            return { () throws(BackendError) in .usage(try await usage.usage(tenant: id, key: key), at: clock.now()) }
        case .auditFollow(let query):
            guard let audit = session.audit else { return nil }
            let follow = Following(query, deliver: session.deliver)
            return { () throws(BackendError) in try await follow.next(audit, now: clock.now()) }
        case .auditPage(let query):
            guard let audit = session.audit else { return nil }
            return { () throws(BackendError) in .audit(try await audit.audit(query), at: clock.now()) }
        case .identity(let id):
            guard let identities = session.identities else { return nil }
            return { () throws(BackendError) in .identity(try await identities.identity(of: id), at: clock.now()) }
        case .expiringKeys:
            let watch = session.keyWatch
            return { () throws(BackendError) in .expiring(try await watch.expiringKeys(within: KeyCounts.expiryWarning), at: clock.now()) }
        }
    }
}

/// The state of one audit follow: its first read is the newest page, then each read is what
/// arrived since (one range read of the tenant's newest rows).
final class Following: Sendable {
    private let state = Mutex<AuditFollower?>(nil)
    private let query: AuditQuery
    /// The spool's delivery: what this console did shows in its first read too.
    private let deliver: (@Sendable () async -> Void)?

    init(_ query: AuditQuery, deliver: (@Sendable () async -> Void)?) {
        self.query = query
        self.deliver = deliver
    }

    func next(_ audit: any AuditReading, now: Double) async throws(BackendError) -> Loaded {
        if var follower = state.withLock({ $0 }) {
            let fresh = try await follower.poll(audit, now: now)
            state.withLock { $0 = follower }
            return .auditTail(fresh, initial: false, at: now)
        }
        await deliver?()
        let first = try await audit.audit(query)
        var follower = AuditFollower(query)
        follower.start(after: first, now: now)
        state.withLock { $0 = follower }
        return .auditTail(first, initial: true, at: now)
    }
}

/// The feeds that owe an answer: since they started, or since a refresh was asked for. A read
/// that began before the refresh does not pay the debt (it may predate the change).
final class Pending: Sendable {
    private struct State {
        var running: Set<Feed> = []
        /// Feed -> the alarm generation its next answer must come from, at least.
        var owed: [Feed: Int] = [:]
    }
    private let state = Mutex(State())
    var isEmpty: Bool { state.withLock { $0.owed.isEmpty } }

    func start(_ f: Feed, generation: Int) {
        state.withLock { s in
            s.running.insert(f)
            s.owed[f] = generation
        }
    }

    func stop(_ f: Feed) {
        state.withLock { s in
            s.running.remove(f)
            s.owed[f] = nil
        }
    }

    func stopAll() { state.withLock { $0 = State() } }

    /// Every running feed owes an answer read at `generation` or later.
    func oweAll(from generation: Int) {
        state.withLock { s in for f in s.running { s.owed[f] = max(s.owed[f] ?? 0, generation) } }
    }

    func answered(_ f: Feed, readAt generation: Int) {
        state.withLock { s in if let g = s.owed[f], generation >= g { s.owed[f] = nil } }
    }
}

/// What the feeds remember between reads, across screens: the last fleet digest (rates are
/// deltas against it) and the console's request-rate samples of every tenant.
final class FeedMemory: Sendable {
    private struct State {
        var digest: FleetDigest?
        var history = RateHistory()
        /// The last single-tenant reading, for the detail's rate.
        var tenant: (state: TenantState, at: Double)?
    }
    private let state = Mutex(State())

    /// Digests a fleet snapshot against the previous one and samples every tenant's rate.
    func digest(_ snapshot: FleetSnapshot) -> FleetDigest {
        let previous = state.withLock { $0.digest }
        let digest = FleetDigest(snapshot, previous: previous)
        state.withLock { s in
            s.digest = digest
            for i in digest.tenants.indices {   // by index: no copy of a state
                if let rate = digest.rates[i].requestsPerSecond { s.history.record(digest.tenants[i].id, requestsPerSecond: rate, at: digest.takenAt) }
            }
        }
        return digest
    }

    /// One tenant read fresh: its rate against its last reading (this feed's, or the fleet's).
    func detail(_ tenant: TenantState, at: Double) -> TenantDetail {
        state.withLock { s in
            var previous = s.tenant.flatMap { $0.state.id == tenant.id ? $0 : nil }
            if previous == nil, let d = s.digest, let i = d.index(of: tenant.id) { previous = (d.tenants[i], d.takenAt) }
            if let p = previous, p.at < at {
                s.history.record(tenant.id, requestsPerSecond: TenantRates.delta(from: p.state, at: p.at, to: tenant, at: at).requests, at: at)
            }
            s.tenant = (tenant, at)
            return TenantDetail(state: tenant, takenAt: at, series: s.history.series(tenant.id, now: at))
        }
    }

    func forget() { state.withLock { $0 = State() } }
}
