import Synchronization
import Views
#if canImport(Glibc)
import Glibc
#endif

/// Messages from backend tasks to the event loop. Posting also writes a byte to a pipe whose read
/// end the loop waits on beside the terminal, so a result is drawn as soon as it arrives.
///
/// Reads belong to a session: posted with its epoch, they are dropped once the session is
/// replaced (`:ctx`), even when they were already waiting, so no data of one context ever shows
/// in another.
final class Mailbox: Sendable {
    private struct State {
        var queue: [(msg: Msg, epoch: Int?)] = []
        var epoch = 0
    }
    private let state = Mutex(State())
    private let pipe: (read: Int32, write: Int32)

    init() {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { fatalError("tollgate: cannot create the event loop's wake-up pipe") }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        pipe = (fds[0], fds[1])
    }

    deinit {
        close(pipe.read)
        close(pipe.write)
    }

    /// Readable while messages wait.
    var wakeFD: Int32 { pipe.read }

    /// The current session's epoch, for its reads to post with.
    var epoch: Int { state.withLock { $0.epoch } }

    /// A new session: what the old one's reads post from now on, or left waiting, is dropped.
    func newEpoch() {
        state.withLock { s in
            s.epoch += 1
            s.queue.removeAll { $0.epoch != nil }
        }
    }

    /// `epoch` nil: the message belongs to no session (a key, an action's outcome).
    func post(_ m: Msg, epoch: Int? = nil) {
        let kept = state.withLock { s -> Bool in
            guard epoch == nil || epoch == s.epoch else { return false }
            s.queue.append((m, epoch))
            return true
        }
        guard kept else { return }
        var byte: UInt8 = 1
        _ = write(pipe.write, &byte, 1)   // a full pipe already wakes the loop
    }

    func drain() -> [Msg] {
        var sink = [UInt8](repeating: 0, count: 256)
        while read(pipe.read, &sink, sink.count) > 0 {}
        return state.withLock { s in defer { s.queue.removeAll() }; return s.queue.map(\.msg) }
    }

    var isEmpty: Bool { state.withLock { $0.queue.isEmpty } }
}

/// Sleeps that a refresh request cuts short. A feed notes `generation` before it reads; its
/// sleep after the read returns at once when `wakeAll` was called since, so a refresh asked for
/// during a read is not lost.
final class Alarm: Sendable {
    private struct State {
        var generation = 0
        var sleepers: [Int: Task<Void, Never>] = [:]
        var next = 0
    }
    private let state = Mutex(State())

    var generation: Int { state.withLock { $0.generation } }

    func sleep(_ seconds: Double, since generation: Int) async {
        guard seconds > 0 else { return }
        let nanos = UInt64(min(seconds, 3600) * 1e9)
        let timer = Task { _ = try? await Task.sleep(nanoseconds: nanos) }
        let id: Int? = state.withLock { s in
            guard s.generation == generation else { return nil }
            s.next += 1
            s.sleepers[s.next] = timer
            return s.next
        }
        guard let id else { timer.cancel(); return }
        await withTaskCancellationHandler { await timer.value } onCancel: { timer.cancel() }
        _ = state.withLock { $0.sleepers.removeValue(forKey: id) }
    }

    func wakeAll() {
        let timers = state.withLock { s in
            s.generation += 1
            return Array(s.sleepers.values)
        }
        for t in timers { t.cancel() }
    }
}
