import Backends
import Foundation
import Testing
@testable import Views

/// The console's model without a terminal or a loop: the demo gateway at a fixed clock answers
/// what the current screen needs, arrangements are built in place, and actions are recorded.
struct Harness {
    static let instant = 1_795_800_047.25   // 2026-11-27T17:20:47Z, late in the minute

    var app: AppModel
    let gateway: DemoGateway
    private var previous: FleetDigest?
    private var history = RateHistory()
    /// Actions the model asked for, in order.
    private(set) var performed: [ActionRequest] = []
    /// Effects other than arrangements and actions.
    private(set) var effects: [Effect] = []
    /// One-off reads asked for (older audit pages); `load()` answers them.
    private(set) var pendingReads: [Feed] = []

    static func session(role: Operator.Role = .admin, scope: TenantID? = nil, readonly: Bool = false, audit: String? = "demo audit",
                        identities: String? = nil) -> SessionInfo {
        SessionInfo(context: "demo", source: "demo (seed 42)",
                    policy: AccessPolicy(op: Operator(name: "ops:test", role: role, tenant: scope, authenticated: false), readonly: readonly),
                    liveStore: "demo", auditStore: audit, identityStore: identities, contexts: ["prod", "staging"], themes: ["default", "light", "mono"])
    }

    init(width: Int, height: Int, session: SessionInfo = Harness.session(), tenants: Int = 40) async throws {
        gateway = DemoGateway(seed: 42, clock: FixedClock(Self.instant), tenantCount: tenants)
        app = AppModel(width: width, height: height, now: Self.instant, session: session)
        // A first snapshot a second earlier, so rates from counter deltas exist.
        let earlier = DemoGateway(seed: 42, clock: FixedClock(Self.instant - 1), tenantCount: tenants)
        previous = FleetDigest(try await earlier.fleet(), previous: nil)
        try await load()
    }

    /// Answers every feed the current screen needs, and the one-off reads asked for, once.
    mutating func load() async throws {
        let reads = pendingReads
        pendingReads = []
        for feed in app.needs.sorted(by: { "\($0)" < "\($1)" }) + reads {
            let data: Loaded
            switch feed {
            case .fleet:
                if let d = previous, d.takenAt == Self.instant { data = .fleet(d); break }   // read once per instant
                let d = FleetDigest(try await gateway.fleet(), previous: previous)
                for (t, r) in zip(d.tenants, d.rates) { if let rps = r.requestsPerSecond { history.record(t.id, requestsPerSecond: rps, at: d.takenAt) } }
                previous = d
                data = .fleet(d)
            case .tenant(let id):
                if let d = previous, let i = d.index(of: id) {
                    history.record(id, requestsPerSecond: d.rates[i].requestsPerSecond ?? 0, at: Self.instant - 30)
                }
                data = .tenant(TenantDetail(state: try await gateway.tenant(id), takenAt: Self.instant, series: history.series(id, now: Self.instant)))
            case .keys(let id): data = .keys(try await gateway.keys(of: id), at: Self.instant)
            case .recentAudit(let id): data = .audit(try await gateway.audit(AuditQuery(tenant: id, limit: 50)), at: Self.instant)
            case .usage(let id, let key): data = .usage(try await gateway.usage(tenant: id, key: key), at: Self.instant)
            case .auditFollow(let q): data = .auditTail(try await gateway.audit(q), initial: true, at: Self.instant)
            case .auditPage(let q): data = .audit(try await gateway.audit(q), at: Self.instant)
            case .expiringKeys: data = .expiring(try await gateway.expiringKeys(within: KeyCounts.expiryWarning), at: Self.instant)
            case .identity(let id): data = .identity(try await gateway.identity(of: id), at: Self.instant)
            }
            send(.loaded(feed, data))
        }
    }

    mutating func send(_ msg: Msg) {
        var queue = app.update(msg)
        while !queue.isEmpty {
            let e = queue.removeFirst()
            switch e {
            case .arrange(let digest, let spec): queue += app.update(.arranged(FleetArrangement.build(digest, spec, now: Self.instant)))
            case .readOnce(let feed): pendingReads.append(feed)
            case .perform(let r): performed.append(r)
            default: effects.append(e)
            }
        }
    }

    mutating func press(_ keys: Key...) { for k in keys { send(.key(k)) } }
    mutating func type(_ text: String) { for c in text { send(.key(.char(c))) } }

    var grid: Grid { AppView.render(app) }
    var screen: String { grid.text }
}

/// Golden screens: the grid's text, then for each theme a code per cell naming its style, with a
/// legend, so a change of text or of look shows as a diff. Re-record with
/// `TOLLGATE_RECORD_GOLDEN=1 swift test`.
enum Golden {
    static let themes = ["default", "mono"]

    static func render(_ grid: Grid) throws -> String {
        var out = grid.text
        for name in themes {
            let theme = try #require(try Theme.builtin(name))
            var codes: [Theme.Style: Character] = [:]
            var legend: [String] = []
            let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
            var rows: [String] = []
            for y in 0..<grid.height {
                var row = ""
                for x in 0..<grid.width where !grid[x, y].isContinuation {
                    let style = theme.style(grid[x, y].role)
                    if codes[style] == nil {
                        codes[style] = alphabet[min(codes.count, alphabet.count - 1)]
                        legend.append("\(codes[style]!) = \(describe(style))")
                    }
                    row.append(codes[style]!)
                }
                rows.append(row)
            }
            out += "\n--- styles: \(name) (\(legend.joined(separator: "; ")))\n" + rows.joined(separator: "\n") + "\n"
        }
        return out
    }

    static func describe(_ s: Theme.Style) -> String {
        func color(_ c: Theme.Color) -> String { if case .index(let i) = c { String(i) } else { "default" } }
        var parts = ["fg \(color(s.fg))", "bg \(color(s.bg))"]
        if s.bold { parts.append("bold") }
        if s.reverse { parts.append("reverse") }
        if s.underline { parts.append("underline") }
        if s.dim { parts.append("dim") }
        return parts.joined(separator: " ")
    }

    static func check(_ grid: Grid, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let actual = try render(grid)
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name).txt")
        if ProcessInfo.processInfo.environment["TOLLGATE_RECORD_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(actual == expected, "screen differs from Golden/\(name).txt; re-record with TOLLGATE_RECORD_GOLDEN=1", sourceLocation: sourceLocation)
    }
}
