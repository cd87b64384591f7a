/// Server-assisted key tracking (Redis 6+ `CLIENT TRACKING`), so a refresh need not poll keys that
/// rarely change. The reading connection tracks in the default mode: the keys of every command it
/// reads with are remembered by the server (a per-command opt-in would cost a `CLIENT CACHING yes`
/// before each of a refresh's reads, all of which want tracking), which then announces every change to them
/// (a write, a deletion, an expiry) once, on a second connection subscribed to
/// `__redis__:invalidate` (the RESP2 way: Debian's hiredis 0.14 has no RESP3).
///
/// A missing key read with tracking is remembered too, so a tracked `EXISTS` of keys that do not
/// exist yet is told when one is created.

/// What changed since the last `changedKeys()`.
public enum KeyChanges: Sendable, Equatable {
    /// Anything may have changed: tracking just started, was lost (a reconnection, an overflow of
    /// the server's buffer), the database was flushed, or the client does not track at all.
    case unknown
    /// Of the keys read with tracking, these changed; each is announced once, and is tracked
    /// again only when read again with tracking.
    case keys([String])
}

/// The subscribed connection that receives the invalidations of another connection's keys.
final class InvalidationWatcher {
    private let connection: RedisConnection
    /// The id the reading connection redirects its invalidations to.
    let clientID: Int64
    private static let channel = "__redis__:invalidate"

    init(_ connection: RedisConnection) throws(BackendError) {
        self.connection = connection
        guard case .integer(let id) = try connection.pipeline([RedisCommand(["CLIENT", "ID"])])[0] else {
            throw .failed("redis \(connection.address): CLIENT ID refused")
        }
        clientID = id
        let subscribed = try connection.pipeline([RedisCommand(["SUBSCRIBE", Self.channel])])[0]
        if let e = subscribed.errorMessage { throw .failed("redis \(connection.address): SUBSCRIBE \(Self.channel): \(SafeText.clean(e))") }
    }

    /// Every invalidation the server sent before it answered a PING sent now. The server writes
    /// to this connection in order, so a change it acknowledged to any client before this call
    /// is in what it returns: the refresh that follows cannot miss it.
    func drain() throws(BackendError) -> KeyChanges {
        try connection.append(RedisCommand(["PING"]))
        var keys: [String] = []
        var everything = false
        while true {
            // A subscribed connection answers PING with ["pong", ""]; pushes are ["message", channel, payload].
            let done = try connection.nextReply { reply -> Bool in
                guard reply.count >= 2, let kind = reply[0] else { everything = true; return false }
                if kind.text == "pong" { return true }
                guard reply.count == 3, kind.text == "message", let payload = reply[2] else { everything = true; return false }
                switch payload.kind {
                case .array: for i in 0..<payload.count { if let k = payload[i], k.kind == .string { keys.append(k.text) } }
                default: everything = true   // nil: FLUSHDB or FLUSHALL
                }
                return false
            }
            if done { break }
        }
        return everything ? .unknown : .keys(keys)
    }
}

extension RedisConnection {
    /// Turns tracking on for every key the connection reads, invalidations going to `watcher` (off first: a watcher
    /// that replaces a lost one starts from nothing tracked).
    func track(to watcher: InvalidationWatcher) throws(BackendError) {
        let replies = try pipeline([RedisCommand(["CLIENT", "TRACKING", "off"]),
                                    RedisCommand(["CLIENT", "TRACKING", "on", "REDIRECT", String(watcher.clientID)])])
        if let e = replies.lazy.compactMap(\.errorMessage).first { throw .failed("redis \(address): CLIENT TRACKING: \(SafeText.clean(e))") }
        tracksKeys = true
    }
}
