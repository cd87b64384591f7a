import Synchronization
import Views
#if canImport(Glibc)
import Glibc
#endif

/// Messages from backend tasks to the event loop. Posting also writes a byte to a pipe whose read
/// end the loop waits on beside the terminal, so a result is drawn as soon as it arrives.
final class Mailbox: Sendable {
    private let queue = Mutex<[Msg]>([])
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

    func post(_ m: Msg) {
        queue.withLock { $0.append(m) }
        var byte: UInt8 = 1
        _ = write(pipe.write, &byte, 1)   // a full pipe already wakes the loop
    }

    func drain() -> [Msg] {
        var sink = [UInt8](repeating: 0, count: 256)
        while read(pipe.read, &sink, sink.count) > 0 {}
        return queue.withLock { q in defer { q.removeAll() }; return q }
    }

    var isEmpty: Bool { queue.withLock { $0.isEmpty } }
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
