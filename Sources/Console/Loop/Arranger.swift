import Backends
import Synchronization
import Views

/// Sorts and filters fleet tables off the UI thread, one at a time and latest first: while one
/// arrangement is built, a newer request replaces any that waits, so holding `s` down never queues
/// work behind the keys.
final class Arranger: Sendable {
    private struct State {
        var running = false
        var next: (FleetDigest, ArrangeSpec, epoch: Int)?
    }
    private let state = Mutex(State())
    private let mailbox: Mailbox
    private let clock: any Clock

    init(mailbox: Mailbox, clock: any Clock) {
        self.mailbox = mailbox
        self.clock = clock
    }

    var busy: Bool { state.withLock { $0.running || $0.next != nil } }

    func submit(_ digest: FleetDigest, _ spec: ArrangeSpec) {
        let epoch = mailbox.epoch
        let start: Bool = state.withLock { s in
            s.next = (digest, spec, epoch)
            if s.running { return false }
            s.running = true
            return true
        }
        guard start else { return }
        Task.detached { [self] in
            while let (digest, spec, epoch) = state.withLock({ s -> (FleetDigest, ArrangeSpec, epoch: Int)? in
                defer { s.next = nil }
                if s.next == nil { s.running = false }
                return s.next
            }) {
                mailbox.post(.arranged(FleetArrangement.build(digest, spec, now: clock.now())), epoch: epoch)
            }
        }
    }
}
