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

    public init(tenant: TenantID, limit: Int = 200, before: Int64? = nil, since: Int64? = nil,
                action: String? = nil, actor: String? = nil, outcome: String? = nil, grep: String? = nil) {
        self.tenant = tenant
        self.limit = limit
        self.before = before
        self.since = since
        self.action = action
        self.actor = actor
        self.outcome = outcome
        self.grep = grep
    }

    public func matches(_ e: AuditEvent) -> Bool {
        e.tenant == tenant && before.map { e.ts < $0 } != false && since.map { e.ts >= $0 } != false
            && action.map { e.action == $0 } != false && actor.map { e.actor == $0 } != false
            && outcome.map { e.outcome == $0 } != false && grep.map { e.detail.contains($0) } != false
    }
}
