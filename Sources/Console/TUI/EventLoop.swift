import Backends
import Views

/// The one event loop: keys and backend messages go through `AppModel.update`, effects are
/// carried out here, and the grid is redrawn when something changed (at least once a second, so
/// ages and countdowns move). Curses is touched from this thread only.
final class EventLoop {
    private var model: AppModel
    private let driver: CursesDriver
    private let poller: Poller
    private let mailbox: Mailbox
    private let clock: any Clock
    /// Carries out an operator action off this thread; answers a status line and whether it failed.
    private let performer: @Sendable (ActionRequest) async -> (String, Bool)

    init(model: AppModel, driver: CursesDriver, poller: Poller, mailbox: Mailbox, clock: any Clock,
         performer: @escaping @Sendable (ActionRequest) async -> (String, Bool)) {
        self.performer = performer
        self.model = model
        self.driver = driver
        self.poller = poller
        self.mailbox = mailbox
        self.clock = clock
    }

    /// Runs until quit or a quit signal; returns the exit status.
    func run() -> Int32 {
        let task = poller.start()
        defer { task.cancel() }
        var dirty = true
        var lastSecond = -1.0
        while true {
            let sig = TerminalGuard.pendingSignal.load(ordering: .relaxed)
            if sig != 0 { return TerminalGuard.exitStatus(for: sig) }

            var resized = false
            var input = driver.read()
            while true {
                switch input {
                case .none: break
                case .resize: resized = true
                case .key(let k):
                    if apply(.key(k)) { return 0 }
                    dirty = true
                }
                if case .none = input { break }
                input = resized ? driver.readNow() : .none   // coalesce a burst of resizes
            }
            if resized {
                let size = driver.size
                _ = apply(.resize(width: size.width, height: size.height))
                driver.invalidate()
                dirty = true
            }
            for m in mailbox.drain() {
                if apply(m) { return 0 }
                dirty = true
            }
            let now = clock.now()
            if now.rounded(.down) != lastSecond {
                lastSecond = now.rounded(.down)
                _ = apply(.tick(now))
                dirty = true
            }
            if dirty {
                driver.draw(AppView.render(model))
                dirty = false
            }
        }
    }

    /// Updates the model and carries out its effects; true when the loop must end.
    private func apply(_ msg: Msg) -> Bool {
        for effect in model.update(msg) {
            switch effect {
            case .quit: return true
            case .refreshNow: poller.requestRefresh()
            case .perform(let request):
                let performer = self.performer, mailbox = self.mailbox
                Task.detached {
                    let (text, failed) = await performer(request)
                    mailbox.post(.actionFinished(text, failed: failed))
                }
            }
        }
        return false
    }
}
