import ArgumentParser
import Backends
import Foundation
import Views

struct TenantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenants",
        abstract: "Tenants as the overview and the detail screen show them.",
        subcommands: [List.self, Show.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every tenant: load, denials, budget and keys by state.")
        @OptionGroup var source: SourceOptions
        @OptionGroup var clickhouse: ClickHouseOptions
        @OptionGroup var config: SessionOptions
        @Flag(help: "One JSON document instead of a table.") var json = false

        func run() async throws {
            let clock = SystemClock()
            let session = try await config.session(try config.resolve())
            let reads = session.reads(spool: clickhouse.spool(session.context))
            let backend = reads.fleet(try source.makeBackend(clock: clock, context: session.context).fleet)
            if json {
                try await clickhouse.deliveringRefusals(session) { try await FleetJSON.stream(backend) }
                return
            }
            let fleet = try await clickhouse.deliveringRefusals(session) { try await backend.fleet() }
            // The overview's columns and order, as the console shows them.
            let table = FleetScreen.overview.table
            let rows = FleetArrangement.build(FleetDigest(fleet, previous: nil), table.spec, now: fleet.takenAt)
            let layout = TenantColumn.layout(table.columns, width: 132)
            print(layout.map { Fit.text($0.0.title, $0.1, $0.0.align) }.joined(separator: " ").trimmingTrailingSpaces)
            for i in 0..<rows.count {
                let row = rows.row(at: i)
                print(layout.map { Fit.text($0.0.cell(row, width: $0.1, now: fleet.takenAt).0, $0.1, $0.0.align) }.joined(separator: " ").trimmingTrailingSpaces)
            }
            if fleet.malformedTenantIDs > 0 {
                Output.note("\(fleet.malformedTenantIDs) tenant ids in Redis break the contract's pattern and were skipped")
            }
            if let problem = fleet.keyspaceProblem { Output.note("counting sessions and cache entries failed: \(problem)") }
            if let problem = fleet.indexProblem { Output.note(problem) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One tenant: every route's window, throttles, budget, keys by state.")
        @OptionGroup var source: SourceOptions
        @OptionGroup var clickhouse: ClickHouseOptions
        @OptionGroup var config: SessionOptions
        @Argument(help: "The tenant id.") var tenant: String
        @Flag(help: "One JSON document instead of text.") var json = false

        func run() async throws {
            let id = try TenantID(tenant)
            let clock = SystemClock()
            let session = try await config.session(try config.resolve())
            let tenants = session.reads(spool: clickhouse.spool(session.context))
                .tenants(try source.makeBackend(clock: clock, context: session.context).tenants)
            var state = try await clickhouse.deliveringRefusals(session) { try await tenants.tenant(id) }
            // One-shot: no incremental count has run, so count this tenant's keys now (a SCAN walk).
            if state.keyspace == nil { state.keyspace = try await tenants.keyspace(of: id) }
            if json {
                try Output.json(TenantJSON(state))
                return
            }
            for line in TenantText.lines(state) { print(line) }
        }
    }
}

enum Output {
    static func json<T: Encodable>(_ value: T) throws {
        write(try text(value) + "\n")
    }

    /// `value` as one line of JSON, keys sorted, every unsafe character escaped.
    static func text<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return SafeText.jsonEscapingUnsafe(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func note(_ message: String) {
        var err = StandardError()
        print("tollgate: \(SafeText.clean(message))", to: &err)
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var s = self
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}
