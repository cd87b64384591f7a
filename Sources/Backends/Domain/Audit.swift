/// A row of `gateway.audit_log`. Every text field may hold hostile bytes: display through SafeText.
public struct AuditEvent: Equatable, Sendable {
    public var tenant: TenantID
    public var ts: Int64
    public var tsMs: UInt16
    public var eventID: String
    public var actor: String
    public var actorType: String
    public var action: String
    public var resource: String
    public var outcome: String
    public var ip: String
    public var requestID: String
    public var detail: String

    public init(tenant: TenantID, ts: Int64, tsMs: UInt16, eventID: String, actor: String, actorType: String,
                action: String, resource: String, outcome: String, ip: String = "", requestID: String = "", detail: String = "{}") {
        self.tenant = tenant
        self.ts = ts
        self.tsMs = tsMs
        self.eventID = eventID
        self.actor = actor
        self.actorType = actorType
        self.action = action
        self.resource = resource
        self.outcome = outcome
        self.ip = ip
        self.requestID = requestID
        self.detail = detail
    }
}

/// A tenant-scoped audit query: the tenant is not optional, so no query can be built without it.
public struct AuditQuery: Equatable, Sendable {
    public var tenant: TenantID
    public var limit: Int
    /// Only events strictly older than this (epoch seconds), for paging back in time.
    public var before: Int64?
    public var since: Int64?
    public var action: String?
    public var actor: String?
    public var outcome: String?
    /// Text contained in `detail`, matched literally (no wildcards).
    public var grep: String?
    /// Oldest first (follow mode) instead of newest first.
    public var oldestFirst = false

    public init(tenant: TenantID, limit: Int = 200, before: Int64? = nil, since: Int64? = nil,
                action: String? = nil, actor: String? = nil, outcome: String? = nil, grep: String? = nil, oldestFirst: Bool = false) {
        self.tenant = tenant
        self.limit = limit
        self.before = before
        self.since = since
        self.action = action
        self.actor = actor
        self.outcome = outcome
        self.grep = grep
        self.oldestFirst = oldestFirst
    }

    public func matches(_ e: AuditEvent) -> Bool {
        e.tenant == tenant && before.map { e.ts < $0 } != false && since.map { e.ts >= $0 } != false
            && action.map { e.action == $0 } != false && actor.map { e.actor == $0 } != false
            && outcome.map { e.outcome == $0 } != false && grep.map { e.detail.contains($0) } != false
    }
}

/// Follow mode: polls for events newer than a cursor on (ts, ts_ms, event_id). Each poll re-reads
/// from the cursor's second, so rows that arrive late within that second are not missed, and
/// shows each event_id once.
public struct AuditFollower: Sendable {
    public private(set) var query: AuditQuery
    private var cursor: (ts: Int64, ms: UInt16, id: String)?
    private var seenAtCursor: Set<String> = []

    public init(_ query: AuditQuery) {
        var q = query
        q.oldestFirst = true
        self.query = q
    }

    /// Starts after the newest of `events` (what was already shown).
    public mutating func start(after events: [AuditEvent]) {
        for e in events { note(e) }
    }

    /// New events, oldest first.
    public mutating func poll(_ reader: any AuditReading) async throws(BackendError) -> [AuditEvent] {
        var out: [AuditEvent] = []
        while true {
            var q = query
            q.since = cursor?.ts ?? query.since
            q.before = nil
            q.limit = query.limit + seenAtCursor.count   // rows already shown in the cursor's second must not crowd out new ones
            let batch = try await reader.audit(q)
            let fresh = batch.filter { e in
                guard let c = cursor else { return true }
                if e.ts != c.ts { return e.ts > c.ts }
                return !seenAtCursor.contains(e.eventID)
            }
            for e in fresh { note(e) }
            out += fresh
            if batch.count < q.limit || fresh.isEmpty { return out }
        }
    }

    private mutating func note(_ e: AuditEvent) {
        if let c = cursor, (e.ts, e.tsMs, e.eventID) < (c.ts, c.ms, c.id) {
            if e.ts == c.ts { seenAtCursor.insert(e.eventID) }
            return
        }
        if cursor?.ts != e.ts { seenAtCursor = [] }
        cursor = (e.ts, e.tsMs, e.eventID)
        seenAtCursor.insert(e.eventID)
    }
}
