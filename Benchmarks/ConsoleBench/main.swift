// `make bench` (console part): what a frame costs on the UI thread at 1,000 and 10,000 tenants,
// side by side in one run, and what the off-thread work that makes frames cheap costs. With
// TOLLGATE_BENCH_REDIS set, it also seeds one Redis database per fleet size for the keypress
// benchmark through a pty (scripts/bench-keys.py). See docs/benchmarks.md.
import Backends
import Foundation
import Views

let env = ProcessInfo.processInfo.environment
let sizes = (env["TOLLGATE_BENCH_CONSOLE_SIZES"] ?? "1000,10000,100000").split(separator: ",").compactMap { Int($0) }
let frames = Int(env["TOLLGATE_BENCH_FRAMES"] ?? "") ?? 300
let instant = 1_795_800_047.25

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
func ms(_ ns: [UInt64]) -> (median: Double, p90: Double) {
    let s = ns.sorted()
    return (Double(s[s.count / 2]) / 1e6, Double(s[s.count * 9 / 10]) / 1e6)
}

struct Figures { var build: (Double, Double); var key: (Double, Double) }

/// A console at 200x50 on `n` demo tenants, its data loaded the way the feeds deliver it.
func console(_ n: Int) async throws -> (AppModel, FleetDigest, arrange: Double, digest: Double) {
    let earlier = FleetDigest(try await DemoGateway(seed: 42, clock: FixedClock(instant - 1), tenantCount: n).fleet(), previous: nil)
    let snapshot = try await DemoGateway(seed: 42, clock: FixedClock(instant), tenantCount: n).fleet()
    let t0 = now()
    let digest = FleetDigest(snapshot, previous: earlier)
    let digestTime = Double(now() - t0) / 1e6
    let session = SessionInfo(context: "bench", source: "demo", policy: AccessPolicy(op: Operator(name: "bench", role: .admin, authenticated: false), readonly: false),
                              liveStore: "demo", auditStore: nil)
    var app = AppModel(width: 200, height: 50, now: instant, session: session)
    var arrangeTime = 0.0
    var queue = app.update(.loaded(.fleet, .fleet(digest)))
    while let e = queue.popLast() {
        if case .arrange(let d, let spec) = e {
            let t = now()
            let a = FleetArrangement.build(d, spec, now: instant)
            arrangeTime = Double(now() - t) / 1e6
            queue += app.update(.arranged(a))
        }
    }
    return (app, digest, arrangeTime, digestTime)
}

/// Keys pressed on the UI thread, each followed by the frame it causes: `update`, then
/// `render` and `diff` against the previous frame. The keys alternate so every frame changes.
func measure(_ app: inout AppModel, keys: [Key]) -> Figures {
    var previous = AppView.render(app)
    var builds: [UInt64] = [], updates: [UInt64] = []
    for i in 0..<frames {
        let t0 = now()
        _ = app.update(.key(keys[i % keys.count]))
        let t1 = now()
        let grid = AppView.render(app)
        let spans = grid.diff(from: previous)
        let t2 = now()
        precondition(!spans.isEmpty || keys.count == 1, "a key that changes nothing measures nothing")
        previous = grid
        updates.append(t1 - t0)
        builds.append(t2 - t1)
    }
    let b = ms(builds), u = ms(updates)
    return Figures(build: (b.median, b.p90), key: (u.median, u.p90))
}

print("console frames at 200x50, \(frames) frames each (median / p90, ms); build = render + diff, key = update")
var overviewBuild: [Int: Double] = [:]
for n in sizes {
    var (app, digest, arrangeMs, digestMs) = try await console(n)
    let overview = measure(&app, keys: [.down, .up])
    overviewBuild[n] = overview.build.0
    _ = app.update(.key(.char(":")))
    for c in "noisy" { _ = app.update(.key(.char(c))) }
    var effects = app.update(.key(.enter))
    while let e = effects.popLast() { if case .arrange(let d, let s) = e { effects += app.update(.arranged(FleetArrangement.build(d, s, now: instant))) } }
    let noisy = measure(&app, keys: [.down, .up])
    let busiest = digest.tenants.max { $0.requests < $1.requests }!
    _ = app.update(.key(.char(":")))
    for c in "tenant \(busiest.id)" { _ = app.update(.key(.char(c))) }
    _ = app.update(.key(.enter))
    _ = app.update(.loaded(.tenant(busiest.id), .tenant(TenantDetail(state: busiest, takenAt: instant, series: .empty))))
    let detail = measure(&app, keys: [.down, .up])
    func line(_ name: String, _ f: Figures) -> String {
        "  \(name.padding(toLength: 16, withPad: " ", startingAt: 0)) build \(String(format: "%6.2f / %6.2f", f.build.0, f.build.1))   key \(String(format: "%6.3f / %6.3f", f.key.0, f.key.1))"
    }
    print("\(n) tenants (off the UI thread: digest \(String(format: "%.1f", digestMs)) ms, sort \(String(format: "%.1f", arrangeMs)) ms per refresh)")
    print(line("overview", overview))
    print(line("noisy neighbours", noisy))
    print(line("tenant detail", detail))
}
if let small = sizes.first, let large = sizes.last, small != large, let a = overviewBuild[small], let b = overviewBuild[large] {
    print(String(format: "  overview frame at %d / at %d tenants: %.2fx (target: no work proportional to the fleet; each frame <= 2 ms)", large, small, b / a))
}

// Seeds for the keypress benchmark: database 1 + i holds sizes[i] tenants.
if let target = env["TOLLGATE_BENCH_REDIS"], let url = try? RedisURL(parsing: "redis://\(target)") {
    let routes = ["chat.completions", "embeddings", "responses", "agents.run", "images.generate", "tools/search", "files.upload", "audio.transcribe"]
        .map { try! Route($0) }
    let seedNow = Int64(SystemClock().now())
    for (i, n) in sizes.enumerated() {
        var u = url
        u.database = 1 + i
        let client = RedisClient(u, commandTimeout: 60)
        _ = try await client.pipeline([["FLUSHDB"]])
        var seed = ContractSeed(now: seedNow)
        for t in 0..<n {
            let id = try TenantID("tenant-\(t)")
            seed.tenant(id, tier: t % 5 == 0 ? .enterprise : .smb)
            for (j, r) in routes.enumerated() {
                seed.route(id, r, policy: try LimitPolicy(limit: 600 + j * 100, window: 3600), count: (t * 7 + j * 13) % 900)
            }
            seed.budget(id, limit: 2_000_000, used: (t * 7919) % 2_000_000)
            for k in 0..<5 { seed.key(id, try KeyID("k\(t)_\(k)"), state: .active) }
            if seed.commands.count > 50_000 {
                _ = try await client.pipeline(seed.commands)
                seed = ContractSeed(now: seedNow)
            }
        }
        _ = try await client.pipeline(seed.commands)
        print("seeded redis db \(1 + i) with \(n) tenants for the keypress benchmark")
    }
}
