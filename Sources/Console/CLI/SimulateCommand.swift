import ArgumentParser
import Backends
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `tollgate simulate`: gateway-shaped traffic into the real stores (docs/simulate.md).
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Drive gateway-shaped traffic into a Redis (and ClickHouse) for a sandbox or a test.",
        discussion: """
        Sets up N tenants (tenant ids sim-*, meta, policies, budgets, keys with real hashed secrets), \
        then writes what a gateway following the contract writes, at the rate asked, until the \
        duration ends or ctrl-c. Refuses a Redis that holds tenants it did not create. Scenarios: \(Scenario.names).
        """)

    @OptionGroup var redis: RedisOptions
    @OptionGroup var clickhouse: ClickHouseOptions

    @Option(help: "Tenants to set up (1-100000).")
    var tenants = 1000

    @Option(help: "Requests per second, before what the scenarios add (1-1000000).")
    var rate: Double = 2000

    @Option(help: ArgumentHelp("How long to run (30s, 10m, 2h); until interrupted when not given.", valueName: "span"))
    var duration: String?

    @Option(help: "Seed of the fleet and the traffic: the same seed gives the same tenants, policies and mix (never the same secrets).")
    var seed: UInt64 = 1

    @Flag(help: "Set up the fleet and stop.")
    var setupOnly = false

    @Option(name: .customLong("scenario"), help: ArgumentHelp("A story to play, repeatable: \(Scenario.names), or all.", valueName: "name"))
    var scenarioNames: [String] = []

    @Option(help: "Seconds between progress lines (0.2-3600).")
    var reportEvery: Double = 5

    func run() async throws {
        guard (1...100_000).contains(tenants) else { throw CLIFailure(.usage, "invalid --tenants \(tenants): must be between 1 and 100000") }
        guard rate.isFinite, (1...1_000_000).contains(rate) else { throw CLIFailure(.usage, "invalid --rate \(String(format: "%g", rate)): must be between 1 and 1000000 requests per second") }
        guard reportEvery.isFinite, (0.2...3600).contains(reportEvery) else {
            throw CLIFailure(.usage, "invalid --report-every \(String(format: "%g", reportEvery)): must be between 0.2 and 3600 seconds")
        }
        let seconds = try duration.map { try TimeSpan.seconds($0, field: "--duration") }
        if seconds == 0 { throw CLIFailure(.usage, "invalid --duration \"0\": must be longer than 0 s") }
        let scenarios: Set<Scenario> = try Set(scenarioNames.flatMap { name throws -> [Scenario] in
            name == "all" ? Scenario.allCases : [try Scenario(parsing: name)]
        })

        let clock = SystemClock()
        guard let store = try redis.client(context: nil, clock: clock) else {
            throw CLIFailure(.usage, "no Redis configured: pass --redis URL or set TOLLGATE_REDIS_URL")
        }
        let control = try redis.client(context: nil, clock: clock)!
        let audit = try clickhouse.makeAuditIfConfigured(context: nil)
        try await refuseForeignFleet(store)
        if let audit { try await audit.applySchema() }

        let fleet = SimulatedFleet(seed: seed, tenants: tenants, rate: rate, scenarios: scenarios, now: Int64(clock.now()))
        let usage = try audit.map { try ClickHouseUsage(client: $0.client, database: $0.database) }
        let simulator = GatewaySimulator(fleet: fleet, redis: store, control: control,
                                         clickhouse: audit.flatMap { a in usage.map { (a, $0) } }, clock: clock, seed: seed)
        try await simulator.setUp()
        print("set up \(tenants) tenants (\(fleet.tenants.reduce(0) { $0 + $1.keys.count }) keys) in \(store.label)")
        if audit == nil { print("no ClickHouse configured: no key_usage or audit rows are written") }
        for s in scenarios.sorted() { print("scenario \(s.rawValue): \(s.story(in: fleet))") }
        if setupOnly { return }

        let stop = Self.stopOnSignals()
        let deadline = seconds.map { clock.now() + Double($0) }
        print("simulating \(Self.number(rate)) requests/s\(seconds.map { " for \($0) s" } ?? " until interrupted (ctrl-c)")")
        fflush(nil)
        try await simulator.run(every: reportEvery, stop: { stop.isSet || deadline.map { clock.now() >= $0 } ?? false }) { stats, rows in
            print(Self.line(stats, rows))
            fflush(nil)
        }
        print("done: " + Self.line(simulator.stats, simulator.rows))
        if let error = simulator.rows.lastError { print("ClickHouse: \(SafeText.clean(error))") }
    }

    /// `simulate` writes a whole fleet: it refuses a Redis that holds a tenant it did not set up.
    private func refuseForeignFleet(_ store: RedisAuto) async throws {
        let reply = try await store.pipeline([["SRANDMEMBER", KeySchema.tenantIndex, "5"], ["SCARD", KeySchema.tenantIndex]])
        var foreign = (reply[0].array ?? []).compactMap(\.string).filter { !$0.hasPrefix(SimulatedFleet.idPrefix) }
        if foreign.isEmpty, case .integer(let n) = reply[1], n > 0 {
            // A sample said nothing: look at the whole index.
            let all = try await store.pipeline([["SMEMBERS", KeySchema.tenantIndex]])[0].array ?? []
            foreign = all.compactMap(\.string).filter { !$0.hasPrefix(SimulatedFleet.idPrefix) }
        }
        guard foreign.isEmpty else {
            throw CLIFailure(.usage, "\(store.label) holds tenants simulate did not create (\(foreign.prefix(3).map { SafeText.quoted($0, limit: 40) }.joined(separator: ", "))): "
                             + "simulate writes only into a Redis with no fleet or one it set up (tenant ids \(SimulatedFleet.idPrefix)*)")
        }
    }

    static func line(_ s: SimulationStats, _ rows: RowShipper.Counts) -> String {
        let t = max(s.seconds, 0.001)
        let pct = s.requests > 0 ? String(format: "%.1f%%", 100 * Double(s.denied + s.budgetDenied) / Double(s.requests)) : "0%"
        var line = String(format: "%6.1fs", s.seconds) + "  \(number(Double(s.requests) / t)) req/s  \(number(Double(s.requests))) requests"
            + "  denied \(number(Double(s.denied))) + budget \(number(Double(s.budgetDenied))) (\(pct))  auth failed \(number(Double(s.authFailed)))"
        if s.redisErrors > 0 { line += "  redis errors \(s.redisErrors)" }
        line += "  rows: usage \(number(Double(rows.usageWritten))), audit \(number(Double(rows.auditWritten)))"
        if rows.waiting > 0 { line += ", waiting \(number(Double(rows.waiting)))" }
        if rows.dropped > 0 { line += ", dropped \(number(Double(rows.dropped)))" }
        return line
    }

    static func number(_ x: Double) -> String {
        let n = Int(x.rounded())
        let digits = String(n)
        var out = ""
        for (i, c) in digits.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }

    /// Set by SIGINT or SIGTERM: the run ends, writes what it holds and prints its summary.
    final class StopFlag: Sendable {
        private let raised = Atomic<Bool>(false)
        var isSet: Bool { raised.load(ordering: .relaxed) }
        func raise() { raised.store(true, ordering: .relaxed) }
    }

    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    static func stopOnSignals() -> StopFlag {
        let flag = StopFlag()
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { flag.raise() }
            source.resume()
            sources.append(source)
        }
        return flag
    }
}
