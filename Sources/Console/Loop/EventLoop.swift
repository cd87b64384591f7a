import Backends
import Foundation
import Views

/// The one event loop: terminal input and backend messages go through `AppModel.update`, the
/// effects go to the runtime, the feeds follow the current screen's needs, and the grid is drawn
/// as a diff when something changed (at least once a second, so ages and countdowns move).
/// Curses is touched from this thread only.
final class EventLoop {
    private(set) var model: AppModel
    let driver: any TerminalDriver
    let runtime: Runtime
    /// Loads a theme by name or path for `:theme`.
    private let loadTheme: (String) throws -> Theme
    private var previous: Grid?
    private var lastSecond = -1.0
    private var dirty = true
    /// Set by a quit effect or a signal: the exit status.
    private(set) var exitStatus: Int32?

    init(model: AppModel, driver: any TerminalDriver, runtime: Runtime, loadTheme: @escaping (String) throws -> Theme) {
        self.model = model
        self.driver = driver
        self.runtime = runtime
        self.loadTheme = loadTheme
    }

    /// Runs until quit or a quit signal; returns the exit status.
    func run() -> Int32 {
        while exitStatus == nil { step(timeout: 1) }
        runtime.sync([])
        return exitStatus ?? 0
    }

    /// One turn: waits up to `timeout` seconds (less when a tick is due) for input or a message,
    /// handles all of it, and draws if anything changed.
    func step(timeout: Double) {
        let sig = TerminalGuard.pendingSignal.load(ordering: .relaxed)
        if sig != 0 { exitStatus = TerminalGuard.exitStatus(for: sig); return }
        runtime.sync(model.needs)
        let now = runtime.clock.now()
        let untilTick = max(0.001, (now + 1).rounded(.down) - now)
        var resized = false
        for input in driver.read(timeout: min(timeout, untilTick), wake: runtime.mailbox.wakeFD) {
            switch input {
            case .resize: resized = true   // a burst of them is one redraw
            case .key(let k): handle(.key(k))
            }
            if exitStatus != nil { return }
        }
        if resized {
            let size = driver.size
            handle(.resize(width: size.width, height: size.height))
            previous = nil
        }
        for m in runtime.mailbox.drain() {
            handle(m)
            if exitStatus != nil { return }
        }
        let second = runtime.clock.now().rounded(.down)
        if second != lastSecond {
            lastSecond = second
            handle(.tick(runtime.clock.now()))
        }
        runtime.sync(model.needs)
        if dirty { draw() }
    }

    func handle(_ msg: Msg) {
        dirty = true
        for effect in model.update(msg) {
            switch effect {
            case .quit: exitStatus = 0
            case .refresh: runtime.refresh()
            case .repaint: previous = nil
            case .perform(let request): runtime.perform(request)
            case .copy(let text): driver.copy(text)
            case .readOnce(let feed): runtime.readOnce(feed)
            case .auditRefusal(let kind, let tenant): runtime.auditRefusal(kind, tenant)
            case .arrange(let digest, let spec): runtime.arrange(digest, spec)
            case .theme(let name):
                do {
                    driver.setTheme(try loadTheme(name))
                    previous = nil
                    handle(.themeChanged(name))
                } catch {
                    handle(.refused("\(error)"))
                }
            case .context(let name):
                switch runtime.switchContext(name) {
                case .success(let info): handle(.contextChanged(info))
                case .failure(let failure): handle(.refused(failure.message))
                }
            }
        }
    }

    private func draw() {
        let grid = AppView.render(model)
        let full = previous == nil
        driver.apply(grid.diff(from: previous), full: full)
        previous = grid
        dirty = false
    }

    /// Headless tests: turns until nothing is pending (no input, no message, no work under way)
    /// or `limit` seconds pass; false on the limit.
    @discardableResult
    func runUntilIdle(limit: Double = 10, pendingInput: () -> Bool) -> Bool {
        let deadline = runtime.clock.now() + limit
        while runtime.clock.now() < deadline {
            step(timeout: 0.02)
            if exitStatus != nil { return true }
            if !pendingInput() && runtime.mailbox.isEmpty && !runtime.busy && !dirty { return true }
        }
        return false
    }
}

/// Runs blocking work (the event loop waits in `poll`) on a thread of its own, so Swift's
/// cooperative pool stays free for the feeds, the arranger and the actions.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.name = "tollgate-ui"
        thread.stackSize = 8 << 20
        thread.start()
    }
}
