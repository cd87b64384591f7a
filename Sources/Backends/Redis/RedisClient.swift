import Dispatch
import Synchronization

/// What the gateway reader needs from Redis, standalone or cluster.
public protocol RedisCommands: Sendable {
    /// Sends the commands in one pipeline (per node, in a cluster) and returns one decoded reply
    /// per command, in order. `decode` runs on the connection's thread as each reply is read.
    /// Error replies are values; only transport failures throw.
    func pipeline<T: Sendable>(_ commands: [RedisCommand], decode: @escaping @Sendable (RedisReply) -> T) async throws(BackendError) -> [T]
    /// One SCAN step from `cursor` (on one node of a cluster): the keys it found and where the
    /// next step starts, `nil` once every (master) node has been walked.
    func scan(from cursor: ScanCursor, matching pattern: String, count: Int) async throws(BackendError) -> ScanPage
    /// The keys in `scope` that changed since the last call (`KeyTracking.swift`). The first call
    /// starts tracking and answers `.unknown`, as does a call with another scope than the last
    /// and a client that cannot track. A call takes what it answers: one reader per client may ask.
    func changedKeys(_ scope: TrackingScope) async throws(BackendError) -> KeyChanges
    /// Where it points, with the password redacted.
    var label: String { get }
}

/// Where a SCAN walk stands: the node (always 0 on a standalone server) and its cursor.
public struct ScanCursor: Equatable, Sendable {
    public var node: Int
    public var cursor: String
    public static let start = ScanCursor(node: 0, cursor: "0")
}

public struct ScanPage: Sendable {
    public var keys: [String]
    public var next: ScanCursor?
}

extension RedisCommands {
    /// Tracking is an optimisation: a client without it answers that anything may have changed.
    public func changedKeys(_ scope: TrackingScope) async throws(BackendError) -> KeyChanges { .unknown }

    /// Every key matching `pattern`, by a whole SCAN walk.
    public func scanKeys(matching pattern: String) async throws(BackendError) -> [String] {
        var keys: [String] = []
        var cursor: ScanCursor? = .start
        while let c = cursor {
            let page = try await scan(from: c, matching: pattern, count: 1000)
            keys += page.keys
            cursor = page.next
        }
        return keys
    }

    /// The replies as value trees.
    public func pipeline(_ commands: [RedisCommand]) async throws(BackendError) -> [RedisValue] {
        try await pipeline(commands, decode: \.value)
    }

    /// The same, for commands used once: each is encoded on the way.
    public func pipeline(_ commands: [[String]]) async throws(BackendError) -> [RedisValue] {
        try await pipeline(commands.map { RedisCommand($0) }, decode: \.value)
    }
}

/// Capped exponential backoff between reconnection attempts: a server that answers again is
/// connected to within 2 s.
struct Backoff: Sendable {
    var base = 0.25
    var cap = 2.0
    private(set) var failures = 0
    private(set) var nextAttempt = 0.0
    private(set) var lastError: BackendError?

    mutating func failed(_ error: BackendError, at now: Double) {
        failures += 1
        lastError = error
        nextAttempt = now + min(cap, base * Double(1 << min(failures - 1, 20)))
    }

    mutating func succeeded() {
        failures = 0
        nextAttempt = 0
        lastError = nil
    }
}

/// A standalone Redis server over one hiredis connection, driven from its own serial queue so
/// that blocking calls never run on the UI thread or on Swift's cooperative pool. It connects
/// lazily, and after a failure reconnects no sooner than the backoff allows: in between, calls
/// fail fast with `.unavailable`, so a poller keeps its last data without a busy loop or a hang.
public final class RedisClient: RedisCommands, @unchecked Sendable {
    // Invariant: `connection`, `watcher`, `trackingRefused` and `backoff` are touched only on `queue`.
    private let queue: DispatchQueue
    private var connection: RedisConnection?
    /// Receives the invalidations of `connection`'s tracked keys, once `changedKeys()` started it.
    private var watcher: InvalidationWatcher?
    /// The server refused tracking on this connection (an ACL without CLIENT, say): not retried
    /// until the next connection.
    private var trackingRefused = false
    private var backoff = Backoff()
    private let url: RedisURL
    private let host: String?
    private let port: Int32?
    private let timeouts: RedisConnection.Timeouts
    private let clock: any Clock

    public var label: String {
        if let host, let port { return "\(host):\(port)" }
        return url.description
    }

    public convenience init(_ url: RedisURL, connectTimeout: Double = 2, commandTimeout: Double = 5, clock: any Clock = SystemClock()) {
        self.init(url, host: nil, port: nil, timeouts: .init(connect: connectTimeout, command: commandTimeout), clock: clock)
    }

    /// A client for one node of a cluster: the URL's credentials, another address.
    init(_ url: RedisURL, host: String?, port: Int32?, timeouts: RedisConnection.Timeouts, clock: any Clock) {
        self.url = url
        self.host = host
        self.port = port
        self.timeouts = timeouts
        self.clock = clock
        queue = DispatchQueue(label: "tollgate.redis.\(host ?? "seed"):\(port ?? 0)")
    }

    public func pipeline<T: Sendable>(_ commands: [RedisCommand], decode: @escaping @Sendable (RedisReply) -> T) async throws(BackendError) -> [T] {
        if commands.isEmpty { return [] }
        return try await onQueue { () throws(BackendError) in
            try self.withConnection { c throws(BackendError) in try c.pipeline(commands, decode: decode) }
        }
    }

    public func scan(from cursor: ScanCursor, matching pattern: String, count: Int) async throws(BackendError) -> ScanPage {
        let reply = try await pipeline([["SCAN", cursor.cursor, "MATCH", pattern, "COUNT", String(count)]])[0]
        if let e = reply.errorMessage { throw .failed("SCAN: \(SafeText.clean(e))") }
        guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let batch = parts[1].array
        else { throw .failed("SCAN: unexpected reply") }
        return ScanPage(keys: batch.compactMap(\.string), next: next == "0" ? nil : ScanCursor(node: cursor.node, cursor: next))
    }

    public func changedKeys(_ scope: TrackingScope) async throws(BackendError) -> KeyChanges {
        try await onQueue { self.drainOrStartTracking(scope) }
    }

    /// On `queue` only. A client that has not connected yet connects now, so tracking starts on
    /// every master of a cluster at once, before anything is read from it.
    private func drainOrStartTracking(_ scope: TrackingScope) -> KeyChanges {
        if connection == nil { _ = try? withConnection { _ in } }
        guard let connection, !connection.isBroken else { return .unknown }
        if let watcher, connection.tracked == scope {
            if let changes = try? watcher.drain() { return changes }
            connection.tracked = nil   // invalidations may have been lost: track anew
        }
        watcher = nil
        if trackingRefused { return .unknown }
        do throws(BackendError) {
            let w = try InvalidationWatcher(try RedisConnection(url, host: host, port: port, timeouts: timeouts))
            try connection.track(scope, to: w)
            watcher = w
        } catch {
            // Unreachable: tried again on the next call. Refused: not until the next connection.
            if !error.isTransport { trackingRefused = true }
        }
        return .unknown
    }

    /// Runs `body` on the worker queue.
    private func onQueue<T: Sendable>(_ body: @escaping @Sendable () throws(BackendError) -> T) async throws(BackendError) -> T {
        let result: Result<T, BackendError> = await withCheckedContinuation { cont in
            queue.async {
                do throws(BackendError) { cont.resume(returning: .success(try body())) } catch { cont.resume(returning: .failure(error)) }
            }
        }
        return try result.get()
    }

    /// On `queue` only.
    private func withConnection<T>(_ body: (RedisConnection) throws(BackendError) -> T) throws(BackendError) -> T {
        let now = clock.now()
        if connection == nil {
            if now < backoff.nextAttempt {
                let wait = Format2.seconds(backoff.nextAttempt - now)
                throw .unavailable("\(backoff.lastError.map(\.message) ?? "redis unavailable"); retrying in \(wait)")
            }
            do throws(BackendError) {
                connection = try RedisConnection(url, host: host, port: port, timeouts: timeouts)
                watcher = nil   // tracking belonged to the old connection
                trackingRefused = false
            } catch {
                backoff.failed(error, at: now)
                throw error.beforeSending   // nothing of the caller's went out while connecting
            }
        }
        do throws(BackendError) {
            let value = try body(connection!)
            backoff.succeeded()
            return value
        } catch {
            if error.isTransport {
                connection = nil
                watcher = nil
                backoff.failed(error, at: clock.now())
            }
            throw error
        }
    }
}

extension BackendError {
    /// The store did not answer (it may later): worth retrying.
    public var isTransient: Bool { isTransport }

    /// The connection failed, before or after the request went out: it is dropped and made again.
    var isTransport: Bool {
        switch self {
        case .unavailable, .replyLost: true
        default: false
        }
    }

    /// What a failure means when it happened before the caller's commands were sent.
    var beforeSending: BackendError {
        if case .replyLost(let m) = self { return .unavailable(m) }
        return self
    }

    var message: String {
        switch self {
        case .unavailable(let m), .replyLost(let m), .notFound(let m), .conflict(let m), .denied(let m), .failed(let m): m
        }
    }
}

enum Format2 {
    static func seconds(_ s: Double) -> String {
        let tenths = Int((s * 10).rounded(.up))
        return "\(tenths / 10).\(tenths % 10)s"
    }
}
