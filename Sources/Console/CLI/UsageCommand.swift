import ArgumentParser
import Backends
import Foundation
import Views

struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "usage",
        abstract: "Requests, errors (4xx, 429, 5xx), tokens and latency of a tenant or one key: last hour, last day, per key and route, per minute.")
    @OptionGroup var clickhouse: ClickHouseOptions
    @OptionGroup var config: SessionOptions
    @Option(help: "The tenant id.") var tenant: String
    @Option(help: "One key of the tenant.") var key: String?
    @Flag(help: "One JSON document instead of text.") var json = false

    func run() async throws {
        let id = try TenantID(tenant)
        let keyID = try key.map { try KeyID($0) }
        let session = try await config.session(try config.resolve())
        let audit = try clickhouse.makeAudit(context: session.context)
        let usage = try await clickhouse.reads(.usage, of: id, session: session, audit: audit)
            .usage(try ClickHouseUsage(client: audit.client, database: audit.database))
        let report = try await usage.usage(tenant: id, key: keyID)
        if json {
            struct Row: Encodable { let key_id: String; let route: String; let last_hour: UsageTotals; let last_day: UsageTotals }
            struct Doc: Encodable { let tenant_id: String; let key_id: String?; let last_hour: UsageTotals; let last_day: UsageTotals
                                    let series_start: String; let per_minute: [UsageTotals]; let by_key_and_route: [Row] }
            try Output.json(Doc(tenant_id: id.rawValue, key_id: keyID?.rawValue, last_hour: report.lastHour, last_day: report.lastDay,
                                series_start: CivilDate(epochSeconds: report.seriesStart).iso8601, per_minute: report.perMinute,
                                by_key_and_route: report.rows.map { Row(key_id: $0.key, route: $0.route, last_hour: $0.lastHour, last_day: $0.lastDay) }))
            return
        }
        print("usage of \(id)" + (keyID.map { " key \($0)" } ?? ""))
        let head = ["REQUESTS", "4XX", "429", "5XX", "TOKENS IN", "TOKENS OUT", "P50 MS", "P95 MS"]
        let widths = [9, 7, 7, 7, 10, 10, 7, 7]
        func numbers(_ cells: [String]) -> String {
            zip(cells, widths).map { Fit.text($0.0, $0.1, .right) }.joined(separator: " ")
        }
        func figures(_ t: UsageTotals) -> [String] {
            [t.requests, t.clientErrors, t.denials, t.serverErrors, t.tokensIn, t.tokensOut].map(Format.count)
                + [t.p50, t.p95].map { $0.map { String(Int($0.rounded())) } ?? "-" }
        }
        print(Fit.text("", 12) + " " + numbers(head))
        for (name, t) in [("last hour", report.lastHour), ("last day", report.lastDay)] { print(Fit.text(name, 12) + " " + numbers(figures(t))) }
        let perMinute = report.perMinute.map(\.requests)
        print("")
        print("requests per minute, last hour (max \(Format.count(perMinute.max() ?? 0))/min):")
        print("  " + Sparkline.text(perMinute))
        print("  " + UsageText.axis(start: report.seriesStart, minutes: perMinute.count))
        guard !report.rows.isEmpty else { return }
        print("")
        print("by key and route, last day" + (report.rows.count == 200 ? " (the 200 busiest)" : "") + ":")
        print(Fit.text("KEY", 12) + " " + Fit.text("ROUTE", 22) + " " + numbers(head))
        for r in report.rows { print(Fit.text(r.key, 12) + " " + Fit.text(r.route, 22) + " " + numbers(figures(r.lastDay))) }
    }
}

/// A time axis under a per-minute sparkline: the first minute, the middle and now, in UTC.
enum UsageText {
    static func axis(start: Int64, minutes: Int) -> String {
        func hm(_ t: Int64) -> String { String(CivilDate(epochSeconds: t).iso8601.dropFirst(11).prefix(5)) }
        let first = hm(start), middle = hm(start + Int64(minutes / 2) * 60), last = hm(start + Int64(minutes - 1) * 60) + " UTC"
        let gap1 = max(1, minutes / 2 - first.count), gap2 = max(1, minutes - minutes / 2 - middle.count)
        return first + String(repeating: " ", count: gap1) + middle + String(repeating: " ", count: gap2) + last
    }
}
