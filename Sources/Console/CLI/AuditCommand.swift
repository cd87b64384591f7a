import ArgumentParser
import Backends
import Foundation
import Views

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "A tenant's audit events.",
                                                    subcommands: [Tail.self, Show.self])

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recent audit events of one tenant, newest first.",
            discussion: """
            Times: a span back from now (30m, 1h, 7d), epoch seconds, or YYYY-MM-DDTHH:MM:SSZ. --action is exact, or a prefix ending \
            in * (key.*). --grep matches text in detail literally. tollgate's own spooled events are delivered first.
            """)
        @OptionGroup var clickhouse: ClickHouseOptions
        @OptionGroup var config: SessionOptions
        @Option(help: "The tenant id.") var tenant: String
        @Option(help: "How many events (1-100000).") var limit = 50
        @Option(help: "Only events at or after this time.") var since: String?
        @Option(help: "Only events before this time.") var until: String?
        @Option(help: "Only this action, e.g. key.rotate, or a prefix: key.*") var action: String?
        @Option(help: "Only this actor.") var actor: String?
        @Option(help: "Only this outcome: success, denied or error.") var outcome: String?
        @Option(help: "Only events whose detail contains this text.") var grep: String?
        @Flag(help: "One JSON object per line.") var json = false
        @Flag(help: "Keep printing new events as they arrive (polls once a second, retries while ClickHouse stalls; Ctrl-C stops).")
        var follow = false

        func run() async throws {
            let id = try TenantID(tenant)
            let now = Int64(SystemClock().now())
            let query = try options { () throws(Backends.ValidationError) in
                try AuditQuery.typed(id, limit: limit, action: action, actor: actor, outcome: outcome, since: since, until: until, grep: grep, now: now)
            }
            let session = try await config.session(try config.resolve())
            let store = try clickhouse.makeAudit(context: session.context)
            // What this machine's actions spooled goes first, so the tail shows them.
            let audit = try await clickhouse.reads(.audit, of: id, session: session, audit: store).audit(store)
            let events = try await audit.audit(query)
            if !json { print(AuditText.header) }
            if events.isEmpty && !follow { Output.note("no audit events of \(id) match") }
            // Following reads like `tail -f`: oldest first.
            for e in follow ? events.reversed() : events { try emit(e) }
            guard follow else { return }
            var follower = AuditFollower(query)
            follower.start(after: events, now: SystemClock().now())
            var stalled: Double?
            while true {
                try await Task.sleep(nanoseconds: UInt64((stalled == nil ? 1 : 3) * 1e9))
                let fresh: [AuditEvent]
                do throws(BackendError) {
                    fresh = try await follower.poll(audit, now: SystemClock().now())
                } catch {
                    guard error.isTransient else { throw error }
                    if stalled == nil { Output.note("ClickHouse stalled (\(error.description)); retrying every 3 s") }
                    stalled = stalled ?? SystemClock().now()
                    continue
                }
                if let since = stalled {
                    Output.note("ClickHouse answers again after \(Format.duration(SystemClock().now() - since)); following")
                    stalled = nil
                }
                for e in fresh { try emit(e) }
            }
        }

        func emit(_ e: AuditEvent) throws {
            if json {
                try Output.json(AuditJSON(e))
                return
            }
            print(AuditText.line(e, now: SystemClock().now()))
            fflush(nil)   // follow mode feeds pipes line by line
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One audit event: every column, its detail as indented JSON.")
        @OptionGroup var clickhouse: ClickHouseOptions
        @OptionGroup var config: SessionOptions
        @Argument(help: "The event id.") var eventID: String
        @Option(help: "The tenant id.") var tenant: String
        @Flag(help: "The event as one JSON object.") var json = false

        func run() async throws {
            let id = try TenantID(tenant)
            guard !eventID.isEmpty, eventID.count <= 64, !eventID.unicodeScalars.contains(where: SafeText.isUnsafe) else {
                throw CLIFailure(.usage, "invalid event id \(SafeText.quoted(eventID)): 1-64 characters, no control characters")
            }
            let session = try await config.session(try config.resolve())
            let store = try clickhouse.makeAudit(context: session.context)
            let audit = try await clickhouse.reads(.audit, of: id, session: session, audit: store).audit(store)
            var query = AuditQuery(tenant: id, limit: 1)
            query.eventID = eventID
            guard let e = try await audit.audit(query).first else {
                throw CLIFailure(.failure, "no audit event \(SafeText.quoted(eventID)) of tenant \(id)")
            }
            if json {
                try Output.json(AuditJSON(e))
                return
            }
            for (name, value) in AuditText.fields(e) { print(Fit.text(name, 11) + " " + SafeText.clean(value)) }
            print("detail")
            for line in e.prettyDetail.split(separator: "\n", omittingEmptySubsequences: false) { print("  " + SafeText.clean(String(line))) }
        }
    }
}

/// Audit events in text: a line each for the tail, every field for `show`.
enum AuditText {
    static let widths = [23, 8, 14, 16, 24, 7, 15]
    static let header = zip(["TIME (UTC)", "TYPE", "ACTOR", "ACTION", "RESOURCE", "OUTCOME", "IP"], widths).map { Fit.text($0.0, $0.1) }
        .joined(separator: " ") + " REQUEST ID / DETAIL"

    static func line(_ e: AuditEvent, now: Double) -> String {
        let time = AuditJSON.time(e).replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: "") + (e.isAhead(of: now) ? "!" : "")
        let cells = [time, e.actorType, e.actor, e.action, e.resource, e.outcome, e.ip]
        let tail = (e.requestID.isEmpty ? "" : e.requestID + " ") + e.detail
        return zip(cells, widths).map { Fit.text($0.0, $0.1) }.joined(separator: " ") + " " + Fit.text(tail, 70).trimmingTrailingSpaces
            + (e.isAhead(of: now) ? "  (dated ahead of this clock)" : "")
    }

    static func fields(_ e: AuditEvent) -> [(String, String)] {
        [("event_id", e.eventID), ("tenant_id", e.tenant.rawValue), ("ts", AuditJSON.time(e)), ("actor", e.actor), ("actor_type", e.actorType),
         ("action", e.action), ("resource", e.resource), ("outcome", e.outcome), ("ip", e.ip), ("request_id", e.requestID)]
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
