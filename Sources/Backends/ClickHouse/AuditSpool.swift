import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The console's own audit events, made durable before an action reports success: each event is
/// appended as one JSON line to a local spool file and fsynced; `drain` delivers the spool to
/// ClickHouse in batches and empties it only after ClickHouse accepted them. Readers dedupe on
/// event_id, so a drain that is cut short and repeated delivers nothing twice to the reader.
///
/// The file and its folder are private to the user (0600/0700). Processes share the spool under
/// an exclusive `flock` on a lock file beside it. Events never hold secrets: the action layer
/// builds them from key ids and prefixes only.
public struct AuditSpool: Sendable {
    public let path: String
    var lockPath: String { path + ".lock" }
    var rejectedPath: String { path + ".rejected" }
    var drainLockPath: String { path + ".drain" }

    public init(path: String) {
        self.path = path
    }

    /// `$XDG_STATE_HOME/tollgate/audit-spool.jsonl`, else `~/.local/state/tollgate/audit-spool.jsonl`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        StateFolder.path(environment: environment) + "/audit-spool.jsonl"
    }

    public struct SpoolError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Appends and fsyncs one event. When this returns, the event survives a crash.
    public func append(_ event: AuditEvent) throws(SpoolError) {
        var line: Data
        do { line = try JSONEncoder().encode(SpooledEvent(event)) } catch { throw SpoolError(description: "cannot encode an audit event: \(error)") }
        line.append(0x0A)
        try withLock { () throws(SpoolError) in
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SpoolError(description: "cannot open the audit spool \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            let ok = line.withUnsafeBytes { raw -> Bool in
                var offset = 0
                while offset < raw.count {
                    let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 { if errno == EINTR { continue }; return false }
                    offset += n
                }
                return true
            }
            guard ok, fsync(fd) == 0 else { throw SpoolError(description: "cannot write the audit spool \(path): \(String(cString: strerror(errno)))") }
        }
    }

    /// Events waiting in the spool.
    public func pending() throws(SpoolError) -> [AuditEvent] {
        try withLock { () throws(SpoolError) in read().events }
    }

    /// Delivers every spooled event in batches; returns how many were sent. The spool never
    /// multiplies, whatever ClickHouse does:
    /// - one process delivers at a time (a drain lock beside the spool; a process that finds it
    ///   taken leaves the delivery to that one and returns 0), and appends are not held up
    ///   meanwhile: the spool's own lock is taken only to read it and to remove what arrived;
    /// - before sending a batch it asks ClickHouse which of its event_ids already arrived (an
    ///   insert that timed out may still have been applied, then or later) and sends only the
    ///   others; when that question gets no answer nothing is sent.
    /// What was not delivered stays for the next run.
    @discardableResult
    public func drain(to audit: ClickHouseAudit, batch: Int = 1000) async throws(BackendError) -> Int {
        let dir = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let drainFD = open(drainLockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard drainFD >= 0 else { throw .failed("cannot lock the audit spool \(path) for delivery") }
        defer { close(drainFD) }
        guard flock(drainFD, LOCK_EX | LOCK_NB) == 0 else { return 0 }   // another process is delivering
        defer { flock(drainFD, LOCK_UN) }
        let events: [AuditEvent]
        do throws(SpoolError) {
            events = try withLock { () throws(SpoolError) in
                let (events, rejected) = read()
                if !rejected.isEmpty { keepRejected(rejected) }
                return events
            }
        } catch { throw .failed(error.description) }
        var sent = 0
        var delivered: Set<String> = []
        defer { if !delivered.isEmpty { try? withLock { () throws(SpoolError) in rewrite(read().events.filter { !delivered.contains($0.eventID) }) } } }
        for start in stride(from: 0, to: events.count, by: batch) {
            let chunk = Array(events[start..<min(events.count, start + batch)])
            let arrived = try await audit.arrived(chunk)
            let missing = chunk.filter { !arrived.contains($0.eventID) }
            try await audit.insert(missing)
            sent += missing.count
            delivered.formUnion(chunk.map(\.eventID))
        }
        return sent
    }

    // MARK: File handling, under the lock

    private func withLock<T>(_ body: () throws(SpoolError) -> T) throws(SpoolError) -> T {
        let fd = openLock()
        guard fd >= 0 else { throw SpoolError(description: "cannot lock the audit spool \(path): \(String(cString: strerror(errno)))") }
        defer { flock(fd, LOCK_UN); close(fd) }
        try keepPrivate()
        return try body()
    }

    /// The spool's files are the user's alone (0600), and its folder may not let others replace
    /// them: a looser file or folder of ours is mended (0600, 0700); one that is not ours is
    /// refused. A shared sticky folder such as /tmp is fine: others cannot rename our files there.
    private func keepPrivate() throws(SpoolError) {
        let dir = (path as NSString).deletingLastPathComponent
        var st = stat()
        if stat(dir, &st) == 0, st.st_mode & 0o022 != 0, st.st_mode & S_ISVTX == 0 {
            guard st.st_uid == getuid(), chmod(dir, 0o700) == 0 else {
                throw SpoolError(description: "the audit spool's folder \(dir) has mode \(String(format: "%04o", st.st_mode & 0o7777)) and is not yours: others could replace the spool; choose another --spool")
            }
        }
        for file in [path, lockPath, rejectedPath, drainLockPath] where stat(file, &st) == 0 && st.st_mode & 0o077 != 0 {
            guard st.st_uid == getuid(), chmod(file, 0o600) == 0 else {
                throw SpoolError(description: "\(file) has mode \(String(format: "%04o", st.st_mode & 0o777)) and is not yours; the audit spool must be private")
            }
        }
    }

    private func openLock() -> Int32 {
        let dir = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd >= 0 { while flock(fd, LOCK_EX) != 0 && errno == EINTR {} }
        return fd
    }

    private func read() -> (events: [AuditEvent], rejected: [Data]) {
        guard let data = FileManager.default.contents(atPath: path) else { return ([], []) }
        var events: [AuditEvent] = [], rejected: [Data] = []
        let decoder = JSONDecoder()
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: true) {
            if let e = try? decoder.decode(SpooledEvent.self, from: Data(line)).event { events.append(e) } else { rejected.append(Data(line)) }
        }
        return (events, rejected)
    }

    /// Replaces the spool with `events`, atomically (write, fsync, rename).
    private func rewrite(_ events: [AuditEvent]) {
        let tmp = path + ".tmp"
        var data = Data()
        let encoder = JSONEncoder()
        for e in events { if let line = try? encoder.encode(SpooledEvent(e)) { data.append(line); data.append(0x0A) } }
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        _ = data.withUnsafeBytes { raw in raw.count == 0 ? 0 : write(fd, raw.baseAddress!, raw.count) }
        fsync(fd)
        close(fd)
        rename(tmp, path)
    }

    /// A line that does not parse (a crash mid-write) is moved aside, never dropped.
    private func keepRejected(_ lines: [Data]) {
        let fd = open(rejectedPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        for var l in lines {
            l.append(0x0A)
            _ = l.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        }
        fsync(fd)
    }
}

/// The spool's line format: the contract's columns, ts in epoch seconds.
struct SpooledEvent: Codable {
    let tenant_id: String, ts: Int64, ts_ms: UInt16, event_id: String, actor: String, actor_type: String
    let action: String, resource: String, outcome: String, ip: String, request_id: String, detail: String

    init(_ e: AuditEvent) {
        tenant_id = e.tenant.rawValue; ts = e.ts; ts_ms = e.tsMs; event_id = e.eventID; actor = e.actor; actor_type = e.actorType
        action = e.action; resource = e.resource; outcome = e.outcome; ip = e.ip; request_id = e.requestID; detail = e.detail
    }

    var event: AuditEvent? {
        guard let t = try? TenantID(tenant_id) else { return nil }
        return AuditEvent(tenant: t, ts: ts, tsMs: ts_ms, eventID: event_id, actor: actor, actorType: actor_type, action: action,
                          resource: resource, outcome: outcome, ip: ip, requestID: request_id, detail: detail)
    }
}
