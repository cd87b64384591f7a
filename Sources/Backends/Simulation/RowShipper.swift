import Synchronization

/// Takes the simulator's rows to ClickHouse in batches, one insert of each table in flight at a
/// time, so a slow or stalled ClickHouse never holds up the traffic. What waits is capped (as a
/// gateway's log buffer is): beyond `cap` rows the oldest are dropped and counted.
public final class RowShipper: Sendable {
    public struct Counts: Sendable, Equatable {
        public var usageWritten = 0, auditWritten = 0
        public var waiting = 0
        public var dropped = 0
        public var lastError: String?
        public init() {}
    }

    private struct State {
        var usage: [KeyUsageRecord] = []
        var audit: [AuditEvent] = []
        var inFlight = false
        var counts = Counts()
    }

    private let audit: ClickHouseAudit
    private let usage: ClickHouseUsage
    private let cap: Int
    private let state = Mutex(State())

    public init(audit: ClickHouseAudit, usage: ClickHouseUsage, cap: Int = 1_000_000) {
        self.audit = audit
        self.usage = usage
        self.cap = cap
    }

    public var counts: Counts { state.withLock { s in var c = s.counts; c.waiting = s.usage.count + s.audit.count; return c } }

    func add(_ record: KeyUsageRecord) {
        state.withLock { s in
            s.usage.append(record)
            if s.usage.count > cap {
                let drop = s.usage.count - cap
                s.usage.removeFirst(drop)
                s.counts.dropped += drop
            }
        }
    }

    func add(_ events: [AuditEvent]) {
        guard !events.isEmpty else { return }
        state.withLock { $0.audit += events }
    }

    /// Starts an insert of what waits, unless one is still under way.
    func ship() {
        guard let (rows, events) = take() else { return }
        Task { await self.send(rows, events) }
    }

    /// Waits for the insert under way, then sends what is left once (the end of a run): what a
    /// ClickHouse that is down cannot take stays counted as waiting.
    func finish() async {
        while state.withLock({ $0.inFlight }) { try? await Task.sleep(nanoseconds: 20_000_000) }
        if let (rows, events) = take() { await send(rows, events) }
    }

    private func take() -> ([KeyUsageRecord], [AuditEvent])? {
        state.withLock { s in
            guard !s.inFlight, !(s.usage.isEmpty && s.audit.isEmpty) else { return nil }
            s.inFlight = true
            defer { s.usage = []; s.audit = [] }
            return (s.usage, s.audit)
        }
    }

    private func send(_ rows: [KeyUsageRecord], _ events: [AuditEvent]) async {
        var error: String?
        var sentRows = 0, sentEvents = 0
        do throws(BackendError) {
            try await usage.insert(rows)
            sentRows = rows.count
            try await audit.insert(events)
            sentEvents = events.count
        } catch let e {
            error = e.description
        }
        state.withLock { s in
            s.inFlight = false
            s.counts.usageWritten += sentRows
            s.counts.auditWritten += sentEvents
            if let error {
                // Kept for the next insert, in front of what came since (within the cap).
                s.counts.lastError = error
                if sentRows == 0 {
                    s.counts.dropped += max(0, rows.count + s.usage.count - cap)
                    s.usage = Array((rows + s.usage).suffix(cap))
                }
                s.audit = Array(events.suffix(events.count - sentEvents)) + s.audit
            } else {
                s.counts.lastError = nil
            }
        }
    }
}
