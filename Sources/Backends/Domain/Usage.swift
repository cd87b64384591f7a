/// Key usage from `gateway.key_usage`: totals over the last hour and day, and a per-minute
/// series of the last hour (for a sparkline).
public struct UsageTotals: Equatable, Sendable, Codable {
    public var requests = 0, errors = 0, denials = 0, tokensIn = 0, tokensOut = 0
    public init() {}
    enum CodingKeys: String, CodingKey {
        case requests, errors, denials, tokensIn = "tokens_in", tokensOut = "tokens_out"
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

    public init(tenant: TenantID, key: KeyID?, lastHour: UsageTotals, lastDay: UsageTotals, perMinute: [UsageTotals], seriesStart: Int64) {
        self.tenant = tenant
        self.key = key
        self.lastHour = lastHour
        self.lastDay = lastDay
        self.perMinute = perMinute
        self.seriesStart = seriesStart
    }
}

/// Usage of a tenant, or of one of its keys.
public protocol UsageReading: Sendable {
    func usage(tenant: TenantID, key: KeyID?) async throws(BackendError) -> UsageReport
}
