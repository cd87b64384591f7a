/// Key usage over ClickHouse (`gateway.key_usage`): two small aggregate queries per report, both
/// range reads of one tenant thanks to `ORDER BY (tenant_id, ts)`.
public final class ClickHouseUsage: UsageReading {
    public let client: ClickHouseClient
    public let database: String
    private let clock: any Clock

    public init(client: ClickHouseClient, database: String = "gateway", clock: any Clock = SystemClock()) throws(ValidationError) {
        self.client = client
        self.database = try SQLSchema.validDatabase(database)
        self.clock = clock
    }

    public func usage(tenant: TenantID, key: KeyID?) async throws(BackendError) -> UsageReport {
        let now = Int64(clock.now().rounded(.down))
        let currentMinute = now / 60 * 60
        let seriesStart = currentMinute - 59 * 60
        let totals = try await client.execute(SQLSchema.usageTotals(tenant: tenant, key: key, now: now, database: database))
        let series = try await client.execute(SQLSchema.usageSeries(tenant: tenant, key: key, from: seriesStart, database: database))

        func parse(_ f: ArraySlice<[UInt8]>) -> UsageTotals {
            let n = f.map { Int(String(decoding: $0, as: UTF8.self)) ?? 0 }
            var t = UsageTotals()
            (t.requests, t.errors, t.denials, t.tokensIn, t.tokensOut) = (n[n.startIndex], n[n.startIndex + 1], n[n.startIndex + 2], n[n.startIndex + 3], n[n.startIndex + 4])
            return t
        }
        guard let row = TSV.rows(totals).first, row.count == 10 else { throw .failed("key_usage: unexpected totals") }
        var perMinute = [UsageTotals](repeating: UsageTotals(), count: 60)
        for r in TSV.rows(series) {
            guard r.count == 6, let minute = Int64(String(decoding: r[0], as: UTF8.self)) else { throw .failed("key_usage: unexpected series row") }
            let i = Int((minute - seriesStart) / 60)
            if (0..<60).contains(i) { perMinute[i] = parse(r[1...]) }
        }
        return UsageReport(tenant: tenant, key: key, lastHour: parse(row[0..<5]), lastDay: parse(row[5..<10]),
                           perMinute: perMinute, seriesStart: seriesStart)
    }
}

extension SQLSchema {
    static func usageScope(tenant: TenantID, key: KeyID?) -> String {
        "tenant_id = \(SQL.literal(tenant.rawValue))" + (key.map { " AND key_id = \(SQL.literal($0.rawValue))" } ?? "")
    }

    /// Requests, errors (status >= 400), denials (429), tokens in and out: last hour, then last day.
    static func usageTotals(tenant: TenantID, key: KeyID?, now: Int64, database: String) -> String {
        let hour = "ts >= toDateTime(\(now - 3600))"
        return """
        SELECT countIf(\(hour)), countIf(\(hour) AND status >= 400), countIf(\(hour) AND status = 429),
               sumIf(tokens_in, \(hour)), sumIf(tokens_out, \(hour)),
               count(), countIf(status >= 400), countIf(status = 429), sum(tokens_in), sum(tokens_out)
        FROM \(database).key_usage
        WHERE \(usageScope(tenant: tenant, key: key)) AND ts >= toDateTime(\(now - 86_400)) AND ts <= toDateTime(\(now))
        FORMAT TabSeparated
        """
    }

    static func usageSeries(tenant: TenantID, key: KeyID?, from: Int64, database: String) -> String {
        """
        SELECT intDiv(toUInt32(ts), 60) * 60 AS minute, count(), countIf(status >= 400), countIf(status = 429), sum(tokens_in), sum(tokens_out)
        FROM \(database).key_usage
        WHERE \(usageScope(tenant: tenant, key: key)) AND ts >= toDateTime(\(from))
        GROUP BY minute ORDER BY minute
        FORMAT TabSeparated
        """
    }
}
