/// Server-assisted key tracking (Redis 6+ `CLIENT TRACKING`), so a refresh need not poll keys that
/// rarely change. The server announces each change (a write, a deletion, an expiry) on a second
/// connection subscribed to `__redis__:invalidate` (the RESP2 way: Debian's hiredis 0.14 has no
/// RESP3). Which changes, `TrackingScope` says.

/// What the server announces changes of.
public enum TrackingScope: Sendable, Equatable {
    /// The keys the connection read (the default mode). The server remembers each key read until it
    /// changes, missing keys too, so that a read of a key that does not exist yet is told when it is
    /// created. A key read and never written stays in the server's table for good: this suits a
    /// reader of a fixed set of keys, not one of keys that name a time window.
    case keysRead
    /// Every key that starts with one of these prefixes, read or not (`BCAST`). The server keeps
    /// nothing per key; each write it serves is checked against the prefixes of every such client,
    /// and changes are announced at most once per turn of its event loop. Keep the prefixes few.
    case prefixes([String])
}

/// What changed since the last `changedKeys()`.
public enum KeyChanges: Sendable, Equatable {
    /// Anything may have changed: tracking just started, was lost (a reconnection, an overflow of
    /// the server's buffer), the database was flushed, or the client does not track at all.
    case unknown
    /// Of the keys in the tracking scope, these changed. A key read in the default mode is
    /// announced once, and tracked again only when read again.
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
    /// Turns tracking of `scope` on, invalidations going to `watcher` (off first: a watcher that
    /// replaces a lost one starts from nothing tracked).
    func track(_ scope: TrackingScope, to watcher: InvalidationWatcher) throws(BackendError) {
        var on = ["CLIENT", "TRACKING", "on", "REDIRECT", String(watcher.clientID)]
        if case .prefixes(let prefixes) = scope { on += ["BCAST"] + prefixes.flatMap { ["PREFIX", $0] } }
        let replies = try pipeline([RedisCommand(["CLIENT", "TRACKING", "off"]), RedisCommand(on)])
        if let e = replies.lazy.compactMap(\.errorMessage).first { throw .failed("redis \(address): CLIENT TRACKING: \(SafeText.clean(e))") }
        tracked = scope
    }
}
