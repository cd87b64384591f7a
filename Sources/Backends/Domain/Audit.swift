import Foundation

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

    /// One of tollgate's own events: an operator's action or refusal at `now`, a fresh event id,
    /// `detail` as sorted JSON with whether the operator was signed in.
    public static func byOperator(_ op: Operator, tenant: TenantID, action: String, resource: String, outcome: String, requestID: String = "",
                                  detail: [String: Any], at now: Double) -> AuditEvent {
        var full = detail
        full["operator_authenticated"] = op.authenticated
        let json = (try? JSONSerialization.data(withJSONObject: full, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return AuditEvent(tenant: tenant, ts: Int64(now.rounded(.down)), tsMs: UInt16((now * 1000).truncatingRemainder(dividingBy: 1000)),
                          eventID: UUID().uuidString.lowercased(), actor: op.name, actorType: "operator", action: action, resource: resource,
                          outcome: outcome, requestID: requestID, detail: json)
    }

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

extension AuditEvent {
    /// `detail` as indented JSON with sorted keys, or as it is when it is not a JSON object;
    /// the caller sanitises it for display.
    public var prettyDetail: String {
        guard let data = detail.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
              JSONSerialization.isValidJSONObject(object),
              let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return detail }
        return String(decoding: pretty, as: UTF8.self)
    }

    /// Dated ahead of `now` by more than a clock's usual skew: a gateway whose clock runs fast.
    public func isAhead(of now: Double) -> Bool { Double(ts) > now + AuditFollower.skew }
}

/// Where a list of audit events stands: its oldest row, for the page before it. Rows order by
/// (ts, ts_ms, event_id).
public struct AuditCursor: Equatable, Hashable, Sendable {
    public let ts: Int64
    public let ms: UInt16
    public let eventID: String

    public init(_ e: AuditEvent) {
        ts = e.ts
        ms = e.tsMs
        eventID = e.eventID
    }

    /// Whether `e` sorts strictly before this cursor.
    public func isAfter(_ e: AuditEvent) -> Bool { (e.ts, e.tsMs, e.eventID) < (ts, ms, eventID) }
}

/// The contract's outcomes.
public enum AuditOutcome: String, CaseIterable, Sendable { case success, denied, error }

/// A tenant-scoped audit query: the tenant is not optional, so no query can be built without it.
public struct AuditQuery: Equatable, Hashable, Sendable {
    public var tenant: TenantID
    public var limit: Int
    /// Only events strictly older than this (epoch seconds): `--until`.
    public var before: Int64?
    public var since: Int64?
    /// Only events that sort before this row: paging back in time without skipping rows of the
    /// same second.
    public var olderThan: AuditCursor?
    /// Exact, or a prefix when it ends in `*` (`key.*`): matched literally either way.
    public var action: String?
    public var actor: String?
    public var outcome: String?
    /// Text contained in `detail`, matched literally (no wildcards).
    public var grep: String?
    /// One event (`audit show`).
    public var eventID: String?
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

    /// The action prefix when `action` ends in `*`.
    public var actionPrefix: String? { action.flatMap { $0.hasSuffix("*") ? String($0.dropLast()) : nil } }

    public func matches(_ e: AuditEvent) -> Bool {
        let actionOK = action.map { actionPrefix.map(e.action.hasPrefix) ?? (e.action == $0) } != false
        return e.tenant == tenant && before.map { e.ts < $0 } != false && since.map { e.ts >= $0 } != false
            && olderThan.map { $0.isAfter(e) } != false
            && actionOK && actor.map { e.actor == $0 } != false
            && outcome.map { e.outcome == $0 } != false && grep.map { e.detail.contains($0) } != false
            && eventID.map { e.eventID == $0 } != false
    }

    /// The times ClickHouse's `DateTime` holds (unsigned 32-bit seconds): a bound outside them
    /// would wrap and match nothing or everything.
    public static let timeRange: ClosedRange<Int64> = 0...4_294_967_295

    /// A query from what a person typed, for `audit tail` and the console's filter alike: times as
    /// spans back from now, epoch seconds or ISO 8601 (within `timeRange`), the action exact or a
    /// prefix (`key.*`), the outcome one of the contract's.
    public static func typed(_ tenant: TenantID, limit: Int = 200, action: String? = nil, actor: String? = nil, outcome: String? = nil,
                             since: String? = nil, until: String? = nil, grep: String? = nil, now: Int64) throws(ValidationError) -> AuditQuery {
        func blankIsNil(_ s: String?) -> String? { s.map { $0.trimmingSpaces() }.flatMap { $0.isEmpty ? nil : $0 } }
        func time(_ text: String?, _ field: String) throws(ValidationError) -> Int64? {
            guard let text = blankIsNil(text) else { return nil }
            let t = try TimeSpan.instant(text, now: now, field: field)
            guard timeRange.contains(t) else {
                throw ValidationError(field: field, value: text, rule: "must be between 1970-01-01T00:00:00Z and 2106-02-07T06:28:15Z, what ClickHouse's DateTime holds")
            }
            return t
        }
        guard (1...100_000).contains(limit) else { throw ValidationError(field: "limit", value: String(limit), rule: "must be 1-100000") }
        let a = blankIsNil(action)
        if let a {
            guard !a.unicodeScalars.contains(where: SafeText.isUnsafe), !a.dropLast().contains("*") else {
                throw ValidationError(field: "action", value: a, rule: "an action name, or a prefix ending in * (key.*); no other *, no control characters")
            }
        }
        let o = blankIsNil(outcome)
        if let o, AuditOutcome(rawValue: o) == nil {
            throw ValidationError(field: "outcome", value: o, rule: "must be one of \(AuditOutcome.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let s = try time(since, "since"), u = try time(until, "until")
        if let s, let u, s >= u { throw ValidationError(field: "until", value: until ?? "", rule: "must be after since") }
        return AuditQuery(tenant: tenant, limit: limit, before: u, since: s, action: a == "*" ? nil : a, actor: blankIsNil(actor), outcome: o,
                          grep: blankIsNil(grep))
    }
}

/// Follow mode: polls for events newer than a cursor on (ts, ts_ms, event_id). Each poll is one
/// range read from the cursor's second (so rows that arrive late within that second are not
/// missed) and shows each event_id once. A row dated ahead of now (a gateway whose clock runs fast)
/// is shown once but never becomes the cursor, so the real events after it still appear.
public struct AuditFollower: Sendable {
    public private(set) var query: AuditQuery
    private var cursor: (ts: Int64, ms: UInt16, id: String)?
    private var seenAtCursor: Set<String> = []
    /// Event ids dated ahead of now that were shown, with their second.
    private var seenAhead: [String: Int64] = [:]
    /// How far ahead of this machine's clock a row may be and still count as now.
    public static let skew: Double = 5

    public init(_ query: AuditQuery) {
        var q = query
        q.oldestFirst = true
        q.olderThan = nil
        self.query = q
    }

    /// Starts after `events` (what was already shown).
    public mutating func start(after events: [AuditEvent], now: Double) {
        for e in events.sorted(by: { ($0.ts, $0.tsMs, $0.eventID) < ($1.ts, $1.tsMs, $1.eventID) }) { _ = take(e, now: now) }
    }

    /// New events, oldest first.
    public mutating func poll(_ reader: any AuditReading, now: Double) async throws(BackendError) -> [AuditEvent] {
        var out: [AuditEvent] = []
        while true {
            var q = query
            q.since = cursor?.ts ?? query.since
            q.before = nil
            // Rows already shown in the cursor's second, or ahead of now, must not crowd out new ones.
            q.limit = query.limit + seenAtCursor.count + seenAhead.count
            let batch = try await reader.audit(q)
            let fresh = batch.filter { take($0, now: now) }
            out += fresh
            if batch.count < q.limit || fresh.isEmpty { break }
        }
        if let c = cursor { seenAhead = seenAhead.filter { $0.value >= c.ts } }   // the clock caught up with them
        return out
    }

    /// Whether `e` is new; notes it.
    private mutating func take(_ e: AuditEvent, now: Double) -> Bool {
        if Double(e.ts) > now + Self.skew {
            guard seenAhead[e.eventID] == nil else { return false }
            seenAhead[e.eventID] = e.ts
            return true
        }
        if seenAhead[e.eventID] != nil { return false }   // was ahead when shown; now it is not
        if let c = cursor {
            if e.ts < c.ts || (e.ts == c.ts && seenAtCursor.contains(e.eventID)) { return false }
        }
        if cursor?.ts != e.ts { seenAtCursor = [] }
        if cursor.map({ (e.ts, e.tsMs, e.eventID) > ($0.ts, $0.ms, $0.id) }) ?? true { cursor = (e.ts, e.tsMs, e.eventID) }
        seenAtCursor.insert(e.eventID)
        return true
    }
}
