import Backends
import Synchronization
import Views

/// Carries out what the model asks for, off the UI thread: the live feeds of the current screen,
/// the arrangement of fleet tables, operator actions and the switch to another context. Results
/// come back through the mailbox. Its methods are called from the event loop's thread only.
final class Runtime {
    let mailbox = Mailbox()
    let clock: any Clock
    private(set) var session: ConsoleSession
    let feeds: FeedRunner
    let arranger: Arranger
    /// Actions and one-off reads under way.
    private let actionsInFlight = Counter()
    /// Builds the session of another context of the config file (`:ctx NAME`).
    private let makeSession: (String) throws -> ConsoleSession

    init(session: ConsoleSession, clock: any Clock, makeSession: @escaping (String) throws -> ConsoleSession) {
        self.session = session
        self.clock = clock
        self.makeSession = makeSession
        feeds = FeedRunner(mailbox: mailbox, clock: clock)
        arranger = Arranger(mailbox: mailbox, clock: clock)
    }

    /// Work is under way whose result has not reached the mailbox yet.
    var busy: Bool { arranger.busy || actionsInFlight.value > 0 || feeds.owesAnswers }

    func sync(_ needs: Set<Feed>) { feeds.sync(needs, session) }

    func refresh() { feeds.refresh() }

    func arrange(_ digest: FleetDigest, _ spec: ArrangeSpec) { arranger.submit(digest, spec) }

    func readOnce(_ feed: Feed) {
        let inFlight = actionsInFlight
        inFlight.add(1)
        feeds.readOnce(feed, session) { inFlight.add(-1) }
    }

    /// Audits a read that command mode refused, through the session's guard, and delivers it.
    func auditRefusal(_ kind: ReadKind, _ tenant: TenantID) {
        let reads = session.reads, deliver = session.deliver
        Task.detached {
            try? reads.check(kind, tenant)   // refuses again, and audits the refusal
            await deliver?()
        }
    }

    /// The action through the action layer (which refuses, audits and spools); then the spool goes
    /// to ClickHouse, and the feeds read again so the change and its audit row show.
    func perform(_ request: ActionRequest) {
        let layer = session.actions, deliver = session.deliver, mailbox = self.mailbox, refresh = feeds.refresher
        let inFlight = actionsInFlight
        inFlight.add(1)
        Task.detached {
            let result: Result<ActionOutcome, BackendError>
            do throws(BackendError) { result = .success(try await layer.perform(request)) } catch { result = .failure(error) }
            mailbox.post(.actionFinished(request, result))
            if let deliver {
                await deliver()
                refresh()
            }
            inFlight.add(-1)
        }
    }

    /// Replaces the session; the feeds of the old one stop first. Nil with the reason when the
    /// context cannot be used (the current session stays).
    func switchContext(_ name: String) -> Result<SessionInfo, CLIFailure> {
        do {
            var next = try makeSession(name)
            next.info.themes = session.info.themes
            feeds.stopAll()
            session = next
            return .success(next.info)
        } catch let failure as CLIFailure {
            return .failure(failure)
        } catch {
            return .failure(CLIFailure(.failure, "\(error)"))
        }
    }
}

/// A count shared with tasks.
final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .acquiring) }
    func add(_ n: Int) { count.add(n, ordering: .acquiringAndReleasing) }
}
