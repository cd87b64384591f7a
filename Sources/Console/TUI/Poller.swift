import Backends
import Synchronization
import Views

/// Messages from backend tasks to the event loop.
final class Mailbox: Sendable {
    private let queue = Mutex<[Msg]>([])
    func post(_ m: Msg) { queue.withLock { $0.append(m) } }
    func drain() -> [Msg] { queue.withLock { q in defer { q.removeAll() }; return q } }
}

/// Live refresh on its own clock, apart from the render tick: one read at a time (a slow backend
/// never piles up requests), capped exponential backoff while the backend fails, and an early
/// refresh on request.
final class Poller: Sendable {
    private let reader: any FleetReading
    private let mailbox: Mailbox
    private let interval: Double
    private let clock: any Clock
    private let wanted = Atomic<Bool>(false)
    static let maxBackoff = 30.0

    init(reader: any FleetReading, mailbox: Mailbox, interval: Double, clock: any Clock) {
        self.reader = reader
        self.mailbox = mailbox
        self.interval = interval
        self.clock = clock
    }

    func requestRefresh() { wanted.store(true, ordering: .relaxed) }

    func start() -> Task<Void, Never> {
        Task.detached { [self] in
            var delay = interval
            while !Task.isCancelled {
                do throws(BackendError) {
                    let snapshot = try await reader.fleet()
                    mailbox.post(.fleet(snapshot))
                    delay = interval
                } catch {
                    mailbox.post(.fleetFailed(error.description, at: clock.now()))
                    delay = min(Self.maxBackoff, max(interval, delay * 2))
                }
                await pause(delay)
            }
        }
    }

    /// Sleeps `seconds`, in short slices so that a refresh request or a cancel cuts it short.
    private func pause(_ seconds: Double) async {
        let until = clock.now() + seconds
        while !Task.isCancelled, clock.now() < until {
            if wanted.exchange(false, ordering: .relaxed) { return }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
    }
}
