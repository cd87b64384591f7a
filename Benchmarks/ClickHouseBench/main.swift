// `make bench` (ClickHouse part): the newest 200 audit events of one tenant among 20 million rows
// across 10,000 tenants, through tollgate's adapter and through clickhouse-client, side by side;
// and ClickHouse's own count of rows read, to show a range read. See docs/benchmarks.md.
import Backends
import Foundation

let env = ProcessInfo.processInfo.environment
guard let http = env["TOLLGATE_TEST_CLICKHOUSE"], let tcp = env["TOLLGATE_TEST_CLICKHOUSE_TCP"] else {
    fatalError("set TOLLGATE_TEST_CLICKHOUSE and TOLLGATE_TEST_CLICKHOUSE_TCP (scripts/bench.sh does)")
}
let rows = Int(env["TOLLGATE_BENCH_AUDIT_ROWS"] ?? "") ?? 20_000_000
let tenants = 10_000
let rounds = Int(env["TOLLGATE_BENCH_ROUNDS"] ?? "") ?? 15
let db = "bench_gateway"
let client = ClickHouseClient(try ClickHouseURL(parsing: http), timeout: 600)
let audit = try ClickHouseAudit(client: client, database: db)

func seconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try await body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }

@discardableResult
func clickhouseClient(_ args: [String]) throws -> (out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/clickhouse-client")
    p.arguments = ["--port", tcp] + args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    precondition(p.terminationStatus == 0, "clickhouse-client failed: \(String(decoding: e, as: UTF8.self))")
    return (String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

// Seed: every tenant gets rows/tenants events spread over 30 days.
_ = try await client.execute("DROP DATABASE IF EXISTS \(db)")
try await audit.applySchema()
let base = Int64(SystemClock().now())
let spacing = 30 * 86_400 / max(1, rows / tenants)
let seedTime = try await seconds {
    _ = try await client.execute("""
        INSERT INTO \(db).audit_log
        SELECT concat('tenant-', toString(number % \(tenants))), toDateTime(\(base) - intDiv(number, \(tenants)) * \(spacing)),
               number % 1000, hex(number), 'ops:bench', 'operator', 'request.denied', 'route/chat.completions', 'denied',
               '10.0.0.1', concat('req-', toString(number)), concat('{"n":', toString(number), '}')
        FROM system.numbers LIMIT \(rows)
        """)
}
_ = try await client.execute("OPTIMIZE TABLE \(db).audit_log FINAL")
print(String(format: "seeded %d audit rows across %d tenants in %.1f s", rows, tenants, seedTime))

let tenant = try TenantID("tenant-4242")
let query = AuditQuery(tenant: tenant, limit: 200)
let sql = SQLSchema.auditTail(query, database: db).replacingOccurrences(of: "FORMAT JSONEachRow", with: "FORMAT TabSeparated")
let check = try await audit.audit(query)
precondition(check.count == 200 && check.allSatisfy { $0.tenant == tenant }, "tail read wrong")

var ours: [Double] = [], cli: [Double] = [], cliServer: [Double] = []
for _ in 0..<rounds {
    ours.append(try await seconds { _ = try await audit.audit(query) })
    var reported = 0.0
    cli.append(try await seconds {
        let r = try clickhouseClient(["--time", "--query", sql])
        reported = Double(r.err.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan
    })
    cliServer.append(reported)
}

// A follow poll after the first screen (nothing new arrived): the follower's real poll, timed.
/// Times `rounds` polls of a follow started after `shown`.
func timePolls(after shown: [AuditEvent]) async throws -> [Double] {
    var follower = AuditFollower(query)
    follower.start(after: shown, now: SystemClock().now())
    var times: [Double] = []
    for _ in 0..<rounds {
        let start = DispatchTime.now().uptimeNanoseconds
        let fresh = try await follower.poll(audit, now: SystemClock().now())
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        precondition(fresh.isEmpty, "a poll with nothing new found rows")
    }
    return times
}
let polls = try await timePolls(after: check)
// Its statement, as `AuditFollower.poll` builds it: the tenant's rows at or after the newest second shown.
let pollQuery = AuditQuery(tenant: tenant, limit: 201, since: check.map(\.ts).max(), oldestFirst: true)
let pollSQL = SQLSchema.auditTail(pollQuery, database: db).replacingOccurrences(of: "FORMAT JSONEachRow", with: "FORMAT TabSeparated")

/// ClickHouse's own count of rows and bytes read for a statement (system.query_log).
func readStats(_ statement: String) throws -> [String] {
    let marker = "tollgate-bench-\(UUID().uuidString)"
    try clickhouseClient(["--log_queries=1", "--query", statement.replacingOccurrences(of: "SELECT ", with: "SELECT /* \(marker) */ ", options: .anchored)])
    try clickhouseClient(["--query", "SYSTEM FLUSH LOGS"])
    return try clickhouseClient(["--query", "SELECT read_rows, read_bytes FROM system.query_log WHERE type = 2 AND query LIKE '%\(marker)%' LIMIT 1"])
        .out.split(separator: "\t").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
}
let stats = try readStats(sql), pollStats = try readStats(pollSQL)

let o = median(ours), c = median(cli), cs = median(cliServer)
func ms(_ x: Double) -> String { String(format: "%7.1f ms", x * 1000) }
print("")
print("audit tail: newest 200 events of one tenant, \(rows) rows in all (median of \(rounds) interleaved rounds)")
print("  tollgate ClickHouseAudit.audit()           \(ms(o))")
print("  clickhouse-client --query (wall)           \(ms(c))   its own --time: \(ms(cs))")
print(String(format: "  ratio tollgate / clickhouse-client wall  %6.2fx   (target <= 1.2x)", o / c))
print(String(format: "  ratio tollgate / clickhouse-client --time %5.2fx   (the server time alone, no process start)", o / cs))
print("  rows read by ClickHouse for the query: \(stats.first ?? "?") of \(rows) (\(stats.count > 1 ? stats[1] : "?") bytes)")
print("follow poll with nothing new: \(ms(median(polls))) (median of \(rounds)); rows read: \(pollStats.first ?? "?") of \(rows) (\(pollStats.count > 1 ? pollStats[1] : "?") bytes)")
