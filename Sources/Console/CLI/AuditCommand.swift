import ArgumentParser
import Backends
import Foundation
import Views

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "A tenant's audit events.",
                                                    subcommands: [Tail.self])

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recent audit events of one tenant, newest first.",
            discussion: "Times: a span back from now (30m, 1h, 7d), epoch seconds, or YYYY-MM-DDTHH:MM:SSZ. --grep matches text in detail literally.")
        @OptionGroup var clickhouse: ClickHouseOptions
        @OptionGroup var config: ContextOptions
        @Option(help: "The tenant id.") var tenant: String
        @Option(help: "How many events (1-100000).") var limit = 50
        @Option(help: "Only events at or after this time.") var since: String?
        @Option(help: "Only events before this time.") var until: String?
        @Option(help: "Only this action, e.g. key.rotate.") var action: String?
        @Option(help: "Only this actor.") var actor: String?
        @Option(help: "Only this outcome: success, denied or error.") var outcome: String?
        @Option(help: "Only events whose detail contains this text.") var grep: String?
        @Flag(help: "One JSON object per line.") var json = false
        @Flag(help: "Keep printing new events as they arrive (polls once a second; Ctrl-C stops).") var follow = false

        func run() async throws {
            let id = try TenantID(tenant)
            guard (1...100_000).contains(limit) else { throw CLIFailure(.usage, "invalid --limit \(limit): must be 1-100000") }
            let now = Int64(SystemClock().now())
            let query = AuditQuery(tenant: id, limit: limit,
                                   before: try until.map { try TimeSpan.instant($0, now: now, field: "--until") },
                                   since: try since.map { try TimeSpan.instant($0, now: now, field: "--since") },
                                   action: action, actor: actor, outcome: outcome, grep: grep)
            let context = try config.resolve()
            let audit = try clickhouse.makeAudit(context: context)
            let events = try await audit.audit(query)
            await clickhouse.deliverSpool(to: audit, context: context)
            if !json { print(Self.header) }
            // Following reads like `tail -f`: oldest first.
            for e in follow ? events.reversed() : events { try emit(e) }
            guard follow else { return }
            var follower = AuditFollower(query)
            follower.start(after: events)
            while true {
                try await Task.sleep(nanoseconds: 1_000_000_000)
                for e in try await follower.poll(audit) { try emit(e) }
            }
        }

        static let widths = [23, 14, 16, 24, 7]
        static let header = zip(["TIME (UTC)", "ACTOR", "ACTION", "RESOURCE", "OUTCOME"], widths).map { Fit.text($0.0, $0.1) }.joined(separator: " ") + " DETAIL"

        func emit(_ e: AuditEvent) throws {
            if json {
                try Output.json(AuditJSON(e))
                return
            }
            let cells = [AuditJSON.time(e).replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: ""),
                         e.actor, e.action, e.resource, e.outcome]
            print(zip(cells, Self.widths).map { Fit.text($0.0, $0.1) }.joined(separator: " ") + " " + Fit.text(e.detail, 60).trimmingTrailingSpaces)
            fflush(nil)   // follow mode feeds pipes line by line
        }
    }
}

/// The contract's columns; `ts` as ISO-8601 UTC with milliseconds.
struct AuditJSON: Encodable {
    let tenant_id, ts, event_id, actor, actor_type, action, resource, outcome, ip, request_id, detail: String
    init(_ e: AuditEvent) {
        tenant_id = e.tenant.rawValue
        ts = Self.time(e)
        event_id = e.eventID; actor = e.actor; actor_type = e.actorType; action = e.action; resource = e.resource
        outcome = e.outcome; ip = e.ip; request_id = e.requestID; detail = e.detail
    }

    static func time(_ e: AuditEvent) -> String {
        let base = CivilDate(epochSeconds: e.ts).iso8601.dropLast()
        let ms = String(e.tsMs)
        return base + "." + String(repeating: "0", count: 3 - ms.count) + ms + "Z"
    }
}
