/// Key usage over ClickHouse (`gateway.key_usage`): three small aggregate queries per report,
/// each a range read of one tenant thanks to `ORDER BY (tenant_id, ts)`.
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
        let totals = try await client.execute(SQLSchema.usageTotals(tenant: tenant, key: key, now: now, database: database, byKeyRoute: false))
        let byKeyRoute = try await client.execute(SQLSchema.usageTotals(tenant: tenant, key: key, now: now, database: database, byKeyRoute: true))
        let series = try await client.execute(SQLSchema.usageSeries(tenant: tenant, key: key, from: seriesStart, database: database))

        func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }
        func int(_ b: [UInt8]) -> Int { Int(text(b)) ?? 0 }
        /// requests, 4xx, 429, 5xx, tokens in, tokens out, p50, p95: `SQLSchema.usageColumns`.
        func parse(_ f: ArraySlice<[UInt8]>) -> UsageTotals {
            let v = Array(f)
            var t = UsageTotals()
            t.requests = int(v[0])
            t.clientErrors = int(v[1])
            t.denials = int(v[2])
            t.serverErrors = int(v[3])
            t.errors = t.clientErrors + t.denials + t.serverErrors
            t.tokensIn = int(v[4])
            t.tokensOut = int(v[5])
            if t.requests > 0 { (t.p50, t.p95) = (Double(text(v[6])).flatMap { $0.isFinite ? $0 : nil }, Double(text(v[7])).flatMap { $0.isFinite ? $0 : nil }) }
            return t
        }
        let width = SQLSchema.usageColumns.count
        guard let row = TSV.rows(totals).first, row.count == 2 * width else { throw .failed("key_usage: unexpected totals") }
        var rows: [UsageRow] = []
        for r in TSV.rows(byKeyRoute) {
            guard r.count == 2 + 2 * width else { throw .failed("key_usage: unexpected row per key and route") }
            rows.append(UsageRow(key: text(r[0]), route: text(r[1]), lastHour: parse(r[2..<(2 + width)]), lastDay: parse(r[(2 + width)...])))
        }
        var perMinute = [UsageTotals](repeating: UsageTotals(), count: 60)
        for r in TSV.rows(series) {
            guard r.count == 1 + width, let minute = Int64(text(r[0])) else { throw .failed("key_usage: unexpected series row") }
            let i = Int((minute - seriesStart) / 60)
            if (0..<60).contains(i) { perMinute[i] = parse(r[1...]) }
        }
        return UsageReport(tenant: tenant, key: key, lastHour: parse(row[0..<width]), lastDay: parse(row[width...]),
                           perMinute: perMinute, seriesStart: seriesStart, rows: rows)
    }

    /// Appends request records, as the gateway does (`tollgate simulate`). Ids are validated
    /// types and text goes through `SQL.literal`.
    public func insert(_ records: [KeyUsageRecord]) async throws(BackendError) {
        guard !records.isEmpty else { return }
        var sql = "INSERT INTO \(database).key_usage (tenant_id, ts, key_id, route, status, tokens_in, tokens_out, latency_ms) VALUES "
        sql.reserveCapacity(sql.utf8.count + records.count * 80)
        for (i, r) in records.enumerated() {
            if i > 0 { sql += ", " }
            sql += "(\(SQL.literal(r.tenant.rawValue)), \(r.ts), \(SQL.literal(r.key.rawValue)), \(SQL.literal(r.route.rawValue)), "
                + "\(r.status), \(r.tokensIn), \(r.tokensOut), \(r.latencyMs))"
        }
        _ = try await client.execute(sql, settings: SQLSchema.insertSettings)
    }
}

extension SQLSchema {
    static func usageScope(tenant: TenantID, key: KeyID?) -> String {
        "tenant_id = \(SQL.literal(tenant.rawValue))" + (key.map { " AND key_id = \(SQL.literal($0.rawValue))" } ?? "")
    }

    /// What every usage figure is, under a condition: requests, 4xx but 429, 429, 5xx, tokens in
    /// and out, latency p50 and p95.
    static func usageColumns(_ cond: String) -> [String] {
        ["countIf(\(cond))", "countIf(\(cond) AND status >= 400 AND status < 500 AND status != 429)", "countIf(\(cond) AND status = 429)",
         "countIf(\(cond) AND status >= 500)", "sumIf(tokens_in, \(cond))", "sumIf(tokens_out, \(cond))",
         "quantileIf(0.5)(latency_ms, \(cond))", "quantileIf(0.95)(latency_ms, \(cond))"]
    }

    static var usageColumns: [String] { usageColumns("1") }

    /// The last hour's figures, then the last day's; per key and route when `byKeyRoute`.
    static func usageTotals(tenant: TenantID, key: KeyID?, now: Int64, database: String, byKeyRoute: Bool) -> String {
        let hour = "ts >= toDateTime(\(now - 3600))"
        let group = byKeyRoute ? "key_id, route, " : ""
        return """
        SELECT \(group)\((usageColumns(hour) + usageColumns("1")).joined(separator: ", "))
        FROM \(database).key_usage
        WHERE \(usageScope(tenant: tenant, key: key)) AND ts >= toDateTime(\(now - 86_400)) AND ts <= toDateTime(\(now))
        \(byKeyRoute ? "GROUP BY key_id, route ORDER BY count() DESC, key_id, route LIMIT 200" : "")
        FORMAT TabSeparated
        """
    }

    static func usageSeries(tenant: TenantID, key: KeyID?, from: Int64, database: String) -> String {
        """
        SELECT intDiv(toUInt32(ts), 60) * 60 AS minute, \(usageColumns("1").joined(separator: ", "))
        FROM \(database).key_usage
        WHERE \(usageScope(tenant: tenant, key: key)) AND ts >= toDateTime(\(from))
        GROUP BY minute ORDER BY minute
        FORMAT TabSeparated
        """
    }
}
