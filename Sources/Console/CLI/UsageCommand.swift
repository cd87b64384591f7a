import ArgumentParser
import Backends
import Foundation
import Views

struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "usage",
        abstract: "Requests, errors, denials and tokens of a tenant or one key: last hour, last day, per minute.")
    @OptionGroup var clickhouse: ClickHouseOptions
    @OptionGroup var config: ContextOptions
    @Option(help: "The tenant id.") var tenant: String
    @Option(help: "One key of the tenant.") var key: String?
    @Flag(help: "One JSON document instead of text.") var json = false

    func run() async throws {
        let id = try TenantID(tenant)
        let keyID = try key.map { try KeyID($0) }
        let context = try config.resolve()
        let audit = try clickhouse.makeAudit(context: context)
        let report = try await ClickHouseUsage(client: audit.client, database: audit.database).usage(tenant: id, key: keyID)
        await clickhouse.deliverSpool(to: audit, context: context)
        if json {
            struct Doc: Encodable { let tenant_id: String; let key_id: String?; let last_hour: UsageTotals; let last_day: UsageTotals
                                    let series_start: Int64; let per_minute: [UsageTotals] }
            try Output.json(Doc(tenant_id: id.rawValue, key_id: keyID?.rawValue, last_hour: report.lastHour, last_day: report.lastDay,
                                series_start: report.seriesStart, per_minute: report.perMinute))
            return
        }
        print("usage of \(id)" + (keyID.map { " key \($0)" } ?? ""))
        print("            REQUESTS   ERRORS  DENIALS  TOKENS IN TOKENS OUT")
        for (name, t) in [("last hour", report.lastHour), ("last day", report.lastDay)] {
            print(Fit.text(name, 10) + [t.requests, t.errors, t.denials, t.tokensIn, t.tokensOut]
                .map { Fit.text(Format.count($0), 10, .right) }.joined(separator: ""))
        }
        print("requests per minute, last hour: " + Sparkline.text(report.perMinute.map(\.requests)))
    }
}
