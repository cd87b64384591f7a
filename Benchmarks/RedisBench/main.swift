// `make bench` (Redis part): the overview refresh against a bare hiredis pipelined read of the
// same keys, and against the SCAN-based way an operator does it with redis-cli today, measured
// side by side in one run. See docs/benchmarks.md.
import Backends
import CHiredis
import Foundation

let env = ProcessInfo.processInfo.environment
guard let target = env["TOLLGATE_BENCH_REDIS"], let colon = target.lastIndex(of: ":"), let port = Int32(target[target.index(after: colon)...]) else {
    fatalError("set TOLLGATE_BENCH_REDIS=host:port (scripts/bench.sh does)")
}
let host = String(target[..<colon])
let tenantCount = Int(env["TOLLGATE_BENCH_TENANTS"] ?? "") ?? 10_000
let rounds = Int(env["TOLLGATE_BENCH_ROUNDS"] ?? "") ?? 15
let url = RedisURL(endpoint: .tcp(host: host, port: port))
let client = RedisClient(url, commandTimeout: 60)
let now = Int64(SystemClock().now())
let clock = FixedClock(Double(now))

func seconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try await body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }

// MARK: Seed: tenants x 8 routes with counters, a budget and 5 keys each, a few throttles.

let routes = ["chat.completions", "embeddings", "responses", "agents.run", "images.generate", "tools/search", "files.upload", "audio.transcribe"]
    .map { try! Route($0) }
let states: [APIKey.StoredState] = [.active, .active, .active, .rotating, .revoked]
var tenants: [TenantID] = []
var keysOf: [TenantID: [KeyID]] = [:]
_ = try await client.pipeline([["FLUSHALL"]])
var seed = ContractSeed(now: now)
@MainActor func flush() async throws {
    let replies = try await client.pipeline(seed.commands)
    if let e = replies.first(where: { $0.errorMessage != nil }) { fatalError("seeding failed: \(e)") }
    seed = ContractSeed(now: now)
}
for i in 0..<tenantCount {
    let t = try TenantID("tenant-\(i)")
    tenants.append(t)
    seed.tenant(t, tier: i % 5 == 0 ? .enterprise : .smb)
    for (j, r) in routes.enumerated() {
        seed.route(t, r, policy: try LimitPolicy(limit: 600 + j * 100, window: 60), count: (i * 7 + j * 13) % 900)
    }
    if i % 50 == 0 { seed.throttle(t, routes[0], limit: 100, expiresIn: 600) }
    seed.budget(t, limit: 2_000_000, used: (i * 7919) % 2_000_000)
    keysOf[t] = (0..<5).map { try! KeyID("k\(i)_\($0)") }
    for (k, id) in keysOf[t]!.enumerated() { seed.key(t, id, state: states[k], graceUntil: states[k] == .rotating ? now + 3600 : nil) }
    // Two end-user sessions and a cache entry: what the incremental SCAN counts.
    seed.commands += [["SET", "{\(t)}:session:a", "1"], ["SET", "{\(t)}:session:b", "1"], ["SET", "{\(t)}:cache:c", "1"]]
    if seed.commands.count > 50_000 { try await flush() }
}
// One large tenant for the detail screen: 50 routes, 200 keys.
let big = try TenantID("big-tenant")
seed.tenant(big, index: false)
for j in 0..<50 { seed.route(big, try Route("route-\(j)"), policy: try LimitPolicy(limit: 1000, window: 60), count: j * 10) }
for k in 0..<200 { seed.key(big, try KeyID("big_\(k)"), state: .active) }
try await flush()
let dbsize = try await client.pipeline([["DBSIZE"]])[0]
print("seeded \(tenantCount) tenants x \(routes.count) routes, budgets, 5 keys, 2 sessions and a cache entry each: \(dbsize.string ?? "?") keys")

// MARK: The bare hiredis read of the same keys: the same pipelines, commands precomputed,
// replies freed without decoding. The lower bound for any reader.

final class BareHiredis {
    let ctx: UnsafeMutablePointer<redisContext>
    /// Without key tracking: the bare reader reads everything every time, and asks Redis for
    /// nothing more.
    init(host: String, port: Int32) {
        ctx = redisConnect(host, port)!
        precondition(ctx.pointee.err == 0, "bare connect failed")
    }
    func pipeline(_ commands: [[String]], on ctx: UnsafeMutablePointer<redisContext>? = nil) {
        let ctx = ctx ?? self.ctx
        // Arguments laid out on the stack, as tollgate's connection does: no allocation per command.
        for c in commands {
            let total = c.reduce(0) { $0 + $1.utf8.count }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(1, total)) { blob in
                withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: c.count) { ptrs in
                    withUnsafeTemporaryAllocation(of: Int.self, capacity: c.count) { lens in
                        var offset = 0
                        for (i, a) in c.enumerated() {
                            let n = UnsafeMutableBufferPointer(rebasing: blob[offset...]).initialize(from: a.utf8).1
                            ptrs[i] = UnsafeRawPointer(blob.baseAddress! + offset).assumingMemoryBound(to: CChar.self)
                            lens[i] = n
                            offset += n
                        }
                        _ = tg_redis_append_argv(ctx, Int32(c.count), ptrs.baseAddress!, lens.baseAddress!)
                    }
                }
            }
        }
        for _ in commands {
            var reply: UnsafeMutablePointer<redisReply>?
            precondition(tg_redis_get_reply(ctx, &reply) == REDIS_OK && reply!.pointee.type != REDIS_REPLY_ERROR, "bare read failed")
            freeReplyObject(reply)
        }
    }

    /// One step of the same SCAN walk tollgate takes per refresh for its session and cache counts.
    var scanCursor = "0"
    func scanStep() {
        let reply = Self.command(["SCAN", scanCursor, "MATCH", KeySchema.keyspaceScanPattern, "COUNT", "5000"], on: ctx)
        let cursor = reply.pointee.element[0]!.pointee
        scanCursor = String(decoding: UnsafeRawBufferPointer(start: cursor.str, count: Int(cursor.len)), as: UTF8.self)
        freeReplyObject(reply)
    }

    /// One command, one round trip; the caller frees the reply.
    static func command(_ args: [String], on ctx: UnsafeMutablePointer<redisContext>) -> UnsafeMutablePointer<redisReply> {
        var lens = args.map { $0.utf8.count }
        let cargs = args.map { strdup($0) }
        defer { cargs.forEach { free($0) } }
        var ptrs = cargs.map { UnsafePointer($0) }
        return tg_redis_command_argv(ctx, Int32(args.count), &ptrs, &lens)!
    }
}

let month = YearMonth(containing: now)
let bareIndex = [["SMEMBERS", KeySchema.tenantIndex]]
let throttleFields = ["limit", "expires_at", "reason", "actor", "set_at"]
let budgetFields = ["limit", "used", "soft_pct", "hard", "temp_limit", "temp_expires_at"]
let windowStart = try LimitPolicy(limit: 1, window: 60).windowStart(at: Double(now))
// Cold (full) refresh: meta, policies, key index and budget; then the tracked throttle EXISTS,
// counters, throttles, key hashes.
var coldFirst: [[String]] = [], coldSecond: [[String]] = []
// Steady refresh: counters and budget. Throttles are known by key tracking: none is read.
var hotFirst: [[String]] = []
var everyoneWrites: [[String]] = [], activeWrites: [[String]] = [], activeHot: [[String]] = []
// The console's cycle: each refresh also re-reads the cold data (meta, policies, key index, then
// key hashes) of a thirtieth of the fleet, and checks its throttles (a tracked EXISTS, then the
// throttles of those that have one), in the same two pipelines.
let cycle = 30
var cycleFirst = [[[String]]](repeating: [], count: cycle), cycleSecond = [[[String]]](repeating: [], count: cycle)
for (i, t) in tenants.enumerated().sorted(by: { $0.1 < $1.1 }) {
    let trackedExists = [["EXISTS"] + routes.sorted().map { KeySchema.throttle(t, $0) } + [KeySchema.throttle(t, .all)]]
    let throttleReads = (routes.sorted() + [.all]).map { ["HMGET", KeySchema.throttle(t, $0)] + throttleFields }
    cycleFirst[i % cycle] += trackedExists + [["HGETALL", KeySchema.meta(t)], ["HGETALL", KeySchema.limits(t)], ["SMEMBERS", KeySchema.apiKeys(t)]]
    cycleSecond[i % cycle] += keysOf[t]!.sorted().map { ["HMGET", KeySchema.apiKey(t, $0), "state", "expires_at", "grace_until"] }
    if i % 50 == 0 { cycleSecond[i % cycle] += throttleReads }
    coldFirst += [["HGETALL", KeySchema.meta(t)], ["HGETALL", KeySchema.limits(t)], ["SMEMBERS", KeySchema.apiKeys(t)],
                  ["HMGET", KeySchema.budget(t, month: month)] + budgetFields]
    coldSecond += trackedExists
    coldSecond += routes.sorted().map { ["GET", KeySchema.counter(t, $0, windowStart: windowStart)] }
    coldSecond += throttleReads
    for k in keysOf[t]!.sorted() { coldSecond.append(["HMGET", KeySchema.apiKey(t, k), "state", "expires_at", "grace_until"]) }

    hotFirst.append(["MGET"] + routes.sorted().map { KeySchema.counter(t, $0, windowStart: windowStart) })
    hotFirst.append(["HMGET", KeySchema.budget(t, month: month)] + budgetFields)
    // Traffic between two refreshes: a request on one route of every tenant, or of one in 20.
    let request = ["INCR", KeySchema.counter(t, routes.sorted()[0], windowStart: windowStart)]
    everyoneWrites.append(request)
    if i % 20 == 0 {
        activeWrites.append(request)
        activeHot += hotFirst.suffix(2)
    }
}
let bare = BareHiredis(host: host, port: port)

// MARK: Round trips of a tenant detail refresh.

final class CountingRedis: RedisCommands, @unchecked Sendable {
    let inner: any RedisCommands
    var calls = 0   // one thread: the bench awaits each call before the next
    init(_ inner: any RedisCommands) { self.inner = inner }
    var label: String { inner.label }
    func pipeline<T: Sendable>(_ commands: [RedisCommand], decode: @escaping @Sendable (RedisReply) -> T) async throws(BackendError) -> [T] {
        calls += 1
        return try await inner.pipeline(commands, decode: decode)
    }
    func scan(from cursor: ScanCursor, matching pattern: String, count: Int) async throws(BackendError) -> ScanPage {
        calls += 1
        return try await inner.scan(from: cursor, matching: pattern, count: count)
    }
    func changedKeys(_ scope: TrackingScope) async throws(BackendError) -> KeyChanges {   // a PING on the watching connection
        calls += 1
        return try await inner.changedKeys(scope)
    }
}

let counting = CountingRedis(client)
let countingGateway = RedisGateway(redis: counting, clock: clock, coldInterval: 3600)
let detail = try await countingGateway.tenant(big)
let detailTrips = counting.calls
precondition(detail.routes.count == 50 && detail.keys.total == 200, "big tenant read wrong")
counting.calls = 0
let coldCheck = try await countingGateway.fleet()
let coldTrips = counting.calls
_ = try await countingGateway.fleet()   // tracking starts: every tenant's throttles are checked once more
counting.calls = 0
let hotCheck = try await countingGateway.fleet()
let hotTrips = counting.calls
precondition(coldCheck.tenants.count == tenantCount && hotCheck == coldCheck, "fleet read wrong")

// MARK: Side by side, interleaved.

// The full refresh is the console's first screen: a gateway that knows no tenant reads both tiers.
func firstScreen() -> RedisGateway { RedisGateway(redis: client, clock: clock) }
let hotGateway = RedisGateway(redis: client, clock: clock, coldInterval: 3600)    // the steady state
_ = try await hotGateway.fleet()   // the first screen
_ = try await hotGateway.fleet()   // tracking starts
final class SteppingClock: Clock, @unchecked Sendable {
    var instant: Double   // one task reads and steps it
    init(_ instant: Double) { self.instant = instant }
    func now() -> Double { instant }
}

// `TOLLGATE_BENCH_PROFILE=steady:N` (or `full:N`, `cycle:N`): only N such refreshes, for `perf record`
// (docs/benchmarks.md).
if let spec = env["TOLLGATE_BENCH_PROFILE"], let n = Int(spec.drop { $0 != ":" }.dropFirst()) {
    if spec.hasPrefix("cycle") {
        let clock = SteppingClock(Double(windowStart))
        let gateway = RedisGateway(redis: client, clock: clock, coldInterval: Double(cycle))
        for _ in 0..<n { clock.instant += 1; _ = try await gateway.fleet() }
    }
    for _ in 0..<n where !spec.hasPrefix("cycle") { _ = try await (spec.hasPrefix("full") ? firstScreen() : hotGateway).fleet() }
    exit(0)
}
@MainActor func bareCold() { bare.pipeline(bareIndex); bare.pipeline(coldFirst); bare.pipeline(coldSecond); bare.scanStep() }
// The steady refresh checks the index with SCARD inside its first pipeline.
@MainActor func bareHot() { bare.pipeline([["SCARD", KeySchema.tenantIndex]] + hotFirst); bare.scanStep() }
bareCold(); bareHot()   // warm-up
var coldTimes: [Double] = [], bareColdTimes: [Double] = [], hotTimes: [Double] = [], bareHotTimes: [Double] = [], detailTimes: [Double] = []
var quietTimes: [Double] = [], activeTimes: [Double] = [], bareActiveTimes: [Double] = []
for _ in 0..<rounds {
    coldTimes.append(try await seconds { _ = try await firstScreen().fleet() })
    bareColdTimes.append(await seconds { bareCold() })
    // Steady, every tenant receiving traffic: each is read again (its counter was announced).
    bare.pipeline(everyoneWrites)
    hotTimes.append(try await seconds { _ = try await hotGateway.fleet() })
    bareHotTimes.append(await seconds { bareHot() })
    // One tenant in 20 receiving traffic: the rest serve their last state. The bare reader reads
    // only those tenants' counters and budgets, with the index check and the count step.
    bare.pipeline(activeWrites)
    activeTimes.append(try await seconds { _ = try await hotGateway.fleet() })
    bareActiveTimes.append(await seconds { bare.pipeline([["SCARD", KeySchema.tenantIndex]] + activeHot); bare.scanStep() })
    quietTimes.append(try await seconds { _ = try await hotGateway.fleet() })   // nothing changed
    detailTimes.append(try await seconds { _ = try await hotGateway.tenant(big) })
}

// MARK: The console's own cycle: a refresh a second, each tenant's cold data re-read every 30 s
// at its own phase, so every refresh also reads a thirtieth of the fleet's cold data. The bare
// reader reads the same number of tenants' cold keys in each of its refreshes.

// From the start of the seeded window: 30 one-second steps stay inside it, so the counters read
// are the seeded ones, as in the bare reader's commands.
let consoleClock = SteppingClock(Double(windowStart))
var consoleTimes: [Double] = [], bareConsoleTimes: [Double] = []
let cyclePasses = 2
for _ in 0..<cyclePasses {
    consoleClock.instant = Double(windowStart)
    let console = RedisGateway(redis: client, clock: consoleClock, coldInterval: Double(cycle))
    _ = try await console.fleet()   // the first screen reads every tenant's cold tier
    for k in 0..<cycle {
        consoleClock.instant += 1
        consoleTimes.append(try await seconds { _ = try await console.fleet() })
        bareConsoleTimes.append(await seconds {
            bare.pipeline([["SCARD", KeySchema.tenantIndex]] + hotFirst + cycleFirst[k])
            bare.pipeline(cycleSecond[k])
            bare.scanStep()
        })
    }
}

// MARK: The SCAN-based way with redis-cli (scripts/bench-scan-baseline.sh), a few runs.

let scanRuns = Int(env["TOLLGATE_BENCH_SCAN_RUNS"] ?? "") ?? 5
var scanTimes: [Double] = []
let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("scripts/bench-scan-baseline.sh").path
for _ in 0..<scanRuns {
    scanTimes.append(try await seconds {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [script, host, String(port)]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        precondition(p.terminationStatus == 0, "scan baseline failed")
    })
}

let c = median(coldTimes), bc = median(bareColdTimes), h = median(hotTimes), bh = median(bareHotTimes)
// Ratios are medians of the per-round ratios: each round's contenders ran back to back.
func pairedRatio(_ a: [Double], _ b: [Double]) -> Double { median(zip(a, b).map { $0 / $1 }) }
let s = median(scanTimes), d = median(detailTimes)
func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(xs.count) }
let cc = mean(consoleTimes), bcc = mean(bareConsoleTimes)
func ms(_ x: Double) -> String { String(format: "%8.1f ms", x * 1000) }
print("")
print("overview refresh, \(tenantCount) tenants (median of \(rounds) interleaved rounds)")
print("  steady, every tenant active     tollgate \(ms(h))   bare hiredis \(ms(bh))   \(hotTrips) round trips, \(2 + hotFirst.count) commands")

print("  first screen (both tiers)       tollgate \(ms(c))   bare hiredis \(ms(bc))   \(coldTrips) round trips, \(2 + coldFirst.count + coldSecond.count) commands")
print("  redis-cli SCAN + per-key reads           \(ms(s))   (median of \(scanRuns); bare hiredis's steady read is \(String(format: "%.1f", s / bh))x faster)")
print("  console cycle (1 s refreshes,  tollgate \(ms(cc))   bare hiredis \(ms(bcc))   mean of \(cyclePasses) x \(cycle) refreshes of a quiet fleet: 1/\(cycle) of the cold data (bare: + every hot key)")
print("    cold tier every \(cycle) s)")
print("  steady, 5% of tenants active    tollgate \(ms(median(activeTimes)))   bare hiredis \(ms(median(bareActiveTimes)))   (bare: SCARD, the active tenants' MGET + HMGET, a count step)")
print("  steady, nothing changed         tollgate \(ms(median(quietTimes)))   (every tenant's last state serves again)")
print(String(format: "  steady: tollgate / bare hiredis %6.2fx (target <= 1.5x);  redis-cli SCAN / tollgate %6.1fx (target >= 20x)", pairedRatio(hotTimes, bareHotTimes), s / h))
print(String(format: "  5%% active: tollgate / bare read of the active tenants %6.2fx (target <= 2x)", pairedRatio(activeTimes, bareActiveTimes)))
print(String(format: "  cycle, quiet fleet: tollgate / bare hiredis %6.2fx;                   redis-cli SCAN / tollgate %6.1fx", pairedRatio(consoleTimes, bareConsoleTimes), s / cc))
print(String(format: "  full:   tollgate / bare hiredis %6.2fx;                   redis-cli SCAN / tollgate %6.1fx", pairedRatio(coldTimes, bareColdTimes), s / c))
print("tenant detail, 50 routes and 200 keys: \(ms(d)), \(detailTrips) round trips (target 1-2)")
