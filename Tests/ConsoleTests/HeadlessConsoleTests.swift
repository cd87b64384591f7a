import Backends
import Foundation
import Testing
import Views
@testable import Console

/// The real event loop, runtime and feeds on the demo gateway, with a headless terminal: keys go
/// in, the loop runs until nothing is pending, and the test reads the screen that was written.
/// The loop runs on a queue of its own, as the binary runs it on a thread of its own, so the
/// feeds have Swift's pool to themselves.
final class HeadlessConsole: @unchecked Sendable {
    private let queue = DispatchQueue(label: "tollgate-headless-ui")
    let terminal: HeadlessTerminal
    let loop: EventLoop
    let demo: DemoGateway
    let spool: AuditSpool

    init(width: Int = 120, height: Int = 40, role: Operator.Role = .admin, scope: TenantID? = nil, readonly: Bool = false) {
        demo = DemoGateway(seed: 42, clock: SystemClock())
        spool = AuditSpool(path: FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-headless-\(UUID().uuidString)/spool.jsonl").path)
        let layer = ActionLayer(op: Operator(name: "ops:test", role: role, tenant: scope, authenticated: false), readonly: readonly, writer: demo, spool: spool)
        let info = SessionInfo(context: nil, source: "demo (seed 42)", policy: layer.policy, liveStore: "demo", auditStore: "demo audit",
                               themes: Theme.builtinNames, refresh: 0.5)
        let reads = ReadGuard(policy: layer.policy, spool: spool)
        let session = ConsoleSession(info: info, fleet: reads.fleet(demo), tenants: reads.tenants(demo), keyWatch: reads.keyWatch(demo),
                                     audit: reads.audit(demo), usage: reads.usage(demo), identities: reads.identities(demo),
                                     actions: layer, reads: reads, deliver: nil)
        let runtime = Runtime(session: session, clock: SystemClock()) { name in throw CLIFailure(.usage, "no context \(name) in this test") }
        terminal = HeadlessTerminal(width: width, height: height)
        loop = EventLoop(model: AppModel(width: width, height: height, now: SystemClock().now(), session: info), driver: terminal,
                         runtime: runtime, loadTheme: ThemeLoader.load)
    }

    deinit { loop.runtime.sync([]) }

    static func start(width: Int = 120, height: Int = 40, role: Operator.Role = .admin, readonly: Bool = false) async -> HeadlessConsole {
        let c = HeadlessConsole(width: width, height: height, role: role, readonly: readonly)
        await c.idle()
        return c
    }

    func idle(sourceLocation: SourceLocation = #_sourceLocation) async {
        let settled = await withCheckedContinuation { done in
            queue.async { done.resume(returning: self.loop.runUntilIdle { self.terminal.hasPendingInput }) }
        }
        #expect(settled, "the console did not settle; screen:\n\(screen)", sourceLocation: sourceLocation)
    }

    func press(_ keys: Key...) async {
        terminal.type(keys)
        await idle()
    }

    func type(_ text: String) async {
        terminal.type(text)
        await idle()
    }

    var screen: String { terminal.text }
    var model: AppModel { loop.model }
}

@Suite struct HeadlessConsoleTests {
    @Test func drillInAndComeBack() async throws {
        let c = await HeadlessConsole.start()
        #expect(c.screen.contains("1/40") && c.screen.contains("REQ/WIN▼"))
        let first = try #require((c.model.nav.current as? FleetScreen)?.table.selectedTenant?.id)
        await c.press(.enter)
        #expect(c.screen.contains("tenant \(first) ‹ overview"))
        #expect(c.screen.contains("ROUTE") && c.screen.contains("BUDGET") && c.screen.contains("LATEST AUDIT EVENTS"))
        #expect(c.model.needs.contains(.tenant(first)) && !c.model.needs.contains(.fleet), "the fleet feed stops while the detail shows")
        await c.press(.escape)
        #expect(c.screen.contains(" overview "), "\(c.screen)")
        #expect(c.model.needs == [.fleet], "\(c.model.needs)")
        await c.press(.char("]"))
        #expect(c.screen.contains("tenant \(first)"))
        await c.press(.char("["))
        #expect((c.model.nav.current as? FleetScreen)?.table.selectedTenant?.id == first, "the selection is still on the tenant (its row may have moved)")
    }

    @Test func filterAndCommandMode() async throws {
        let c = await HeadlessConsole.start()
        await c.press(.char("/"))
        await c.type("acme")
        #expect(c.screen.contains("filter \"acme\": 2 of 40 tenants"))
        await c.press(.enter)
        #expect(c.screen.contains("1/2"))
        await c.press(.escape)
        #expect(c.screen.contains("/40") && !c.screen.contains("filter \""), "the selection stays on the tenant it was on")
        await c.press(.char(":"))
        await c.type("tenant acme-e")
        await c.press(.tab, .enter)
        #expect(c.screen.contains("tenant acme-eu"))
        #expect(!c.screen.contains("tenant acme ‹"))
        await c.type(":noisy")
        await c.press(.enter)
        #expect(c.screen.contains("noisy neighbours") && c.screen.contains("SHARE▼"))
        await c.type(":theme nosuch")
        await c.press(.enter)
        #expect(c.screen.contains("unknown theme \"nosuch\": built in are default, light, mono"))
        await c.type(":theme light")
        await c.press(.enter)
        #expect(c.screen.contains("theme light"))
    }

    @Test func aThrottleThroughTheDialogReachesTheActionLayer() async throws {
        let c = await HeadlessConsole.start()
        let acme = try TenantID("acme")
        await c.type(":tenant acme")
        await c.press(.enter)
        await c.press(.char("t"))
        await c.press(.up, .ctrl("u"))
        await c.type("_all")
        await c.press(.tab)
        await c.type("3")
        await c.press(.tab, .tab)
        await c.type("noisy neighbour")
        await c.press(.enter)
        #expect(c.screen.contains("throttle.set acme route/_all: done, limit 3"))
        let state = try await c.demo.tenant(acme)
        #expect(state.throttles.map(\.limit) == [3] && state.throttles.first?.actor == "ops:test")
        #expect(c.screen.contains("⏷3 29m"), "the detail shows the throttle after the refresh")
        let audited = try c.spool.pending()
        #expect(audited.map(\.action) == ["throttle.set"] && audited.first?.outcome == "success")
        // The same dialog clears it.
        await c.press(.char("t"))
        await c.press(.up, .ctrl("u"))
        await c.type("_all")
        await c.press(.ctrl("x"))
        #expect(try await c.demo.tenant(acme).throttles.isEmpty)
    }

    @Test func aKeyCreatedInTheConsoleShowsItsSecretOnceAndLeavesNoTrace() async throws {
        let c = await HeadlessConsole.start()
        await c.type(":keys acme")
        await c.press(.enter)
        await c.press(.char("c"))
        await c.type("from the console")
        await c.press(.enter)
        let key = try #require(try await c.demo.keys(of: try TenantID("acme")).first { $0.label == "from the console" })
        let line = try #require(c.screen.split(separator: "\n").first { $0.contains("tg.acme.\(key.id).") })
        let secret = try #require(line.split(separator: " ").first { $0.hasPrefix("tg.acme.") }).description
        #expect(secret.count > 40 && c.screen.contains("shown once"))
        await c.press(.char("y"))
        #expect(c.terminal.clipboard == secret, "y puts the secret on the clipboard (OSC 52)")
        await c.press(.escape)
        #expect(!c.screen.contains(secret) && !c.screen.contains(String(secret.suffix(20))), "the terminal holds no cell of it")
        #expect(c.screen.contains(key.id.rawValue), "the new key is listed")
        let audited = try c.spool.pending()
        #expect(audited.map(\.action) == ["key.create"] && !audited.contains { $0.detail.contains(String(secret.suffix(20))) })
    }

    @Test func aReadOnlyConsoleRefusesWithTheReason() async throws {
        let c = await HeadlessConsole.start(readonly: true)
        #expect(c.screen.contains("t throttle (off)"))
        await c.press(.char("t"))
        #expect(c.screen.contains("throttle the tenant: read-only mode"))
        #expect(c.model.overlay == nil)
    }

    @Test func resizingRedrawsAtTheNewSize() async throws {
        let c = await HeadlessConsole.start(width: 80, height: 24)
        c.terminal.resize(width: 160, height: 48)
        await c.idle()
        #expect(c.model.width == 160 && c.model.height == 48 && c.screen.contains("TIER"))
        c.terminal.resize(width: 60, height: 20)
        await c.idle()
        #expect(c.screen.contains("60x20, tollgate needs at least 80x24"))
        c.terminal.resize(width: 80, height: 24)
        await c.idle()
        #expect(c.screen.contains("REQ/WIN▼"))
    }

    @Test func qQuitsAndCtrlCInADialogDoesNot() async throws {
        let c = await HeadlessConsole.start()
        await c.press(.char("t"), .ctrl("c"))
        #expect(c.loop.exitStatus == nil && c.model.overlay == nil)
        await c.press(.char("?"), .char("q"))
        #expect(c.loop.exitStatus == nil, "q closes the help")
        await c.press(.char("q"))
        #expect(c.loop.exitStatus == 0)
    }
}

@Suite struct MailboxTests {
    /// A read of the old session, waiting or late, never reaches the new one.
    @Test func readsOfAReplacedSessionAreDropped() {
        let box = Mailbox()
        let old = box.epoch
        box.post(.failed(.fleet, "old, waiting", at: 1), epoch: old)
        box.post(.key(.char("x")))
        box.newEpoch()
        box.post(.failed(.fleet, "old, late", at: 2), epoch: old)
        box.post(.failed(.fleet, "new", at: 3), epoch: box.epoch)
        let messages = box.drain().map { m -> String in
            switch m {
            case .failed(_, let text, _): text
            case .key: "key"
            default: "other"
            }
        }
        #expect(messages == ["key", "new"])
        #expect(box.isEmpty)
    }
}
