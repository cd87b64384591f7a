/// Key usage from `gateway.key_usage`: totals over the last hour and day, per key and route, and a
/// per-minute series of the last hour (for a sparkline).
public struct UsageTotals: Equatable, Sendable, Codable {
    public var requests = 0
    /// Every status from 400 up; of them, `denials` are 429, `clientErrors` the other 4xx,
    /// `serverErrors` the 5xx.
    public var errors = 0, denials = 0, clientErrors = 0, serverErrors = 0
    public var tokensIn = 0, tokensOut = 0
    /// Latency quantiles in milliseconds; nil without requests.
    public var p50: Double?, p95: Double?
    public init() {}
    enum CodingKeys: String, CodingKey {
        case requests, errors, denials, clientErrors = "client_errors_4xx", serverErrors = "server_errors_5xx"
        case tokensIn = "tokens_in", tokensOut = "tokens_out", p50 = "latency_p50_ms", p95 = "latency_p95_ms"
    }
}

/// One key on one route.
public struct UsageRow: Equatable, Sendable {
    public let key: String
    public let route: String
    public let lastHour: UsageTotals
    public let lastDay: UsageTotals

    public init(key: String, route: String, lastHour: UsageTotals, lastDay: UsageTotals) {
        self.key = key
        self.route = route
        self.lastHour = lastHour
        self.lastDay = lastDay
    }
}

public struct UsageReport: Equatable, Sendable {
    public let tenant: TenantID
    public let key: KeyID?
    public let lastHour: UsageTotals
    public let lastDay: UsageTotals
    /// 60 points, oldest first: the minute starting at `seriesStart + 60*i`.
    public let perMinute: [UsageTotals]
    public let seriesStart: Int64
    /// Per key and route over the last day, busiest first (at most 200).
    public let rows: [UsageRow]

    public init(tenant: TenantID, key: KeyID?, lastHour: UsageTotals, lastDay: UsageTotals, perMinute: [UsageTotals], seriesStart: Int64,
                rows: [UsageRow] = []) {
        self.tenant = tenant
        self.key = key
        self.lastHour = lastHour
        self.lastDay = lastDay
        self.perMinute = perMinute
        self.seriesStart = seriesStart
        self.rows = rows
    }
}

/// Usage of a tenant, or of one of its keys.
public protocol UsageReading: Sendable {
    func usage(tenant: TenantID, key: KeyID?) async throws(BackendError) -> UsageReport
}

/// One request as the gateway logs it in `gateway.key_usage`.
public struct KeyUsageRecord: Equatable, Sendable {
    public let tenant: TenantID
    public let ts: Int64
    public let key: KeyID
    public let route: Route
    public let status: UInt16
    public let tokensIn: UInt32
    public let tokensOut: UInt32
    public let latencyMs: UInt32

    public init(tenant: TenantID, ts: Int64, key: KeyID, route: Route, status: UInt16, tokensIn: UInt32, tokensOut: UInt32, latencyMs: UInt32) {
        self.tenant = tenant
        self.ts = ts
        self.key = key
        self.route = route
        self.status = status
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.latencyMs = latencyMs
    }
}
