import CHiredis
#if canImport(Glibc)
import Glibc
#endif

/// One blocking hiredis connection. Not thread-safe: it is owned by one worker queue
/// (`RedisClient`), never by the UI thread.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>
    let address: String

    struct Timeouts: Sendable {
        var connect: Double = 2
        var command: Double = 5
    }

    /// Connects, authenticates and selects the database. Throws `.unavailable` when the server
    /// cannot be reached and `.denied` when it refuses the credentials.
    init(_ url: RedisURL, host overrideHost: String? = nil, port overridePort: Int32? = nil, timeouts: Timeouts) throws(BackendError) {
        let connectTV = timeval(tv_sec: Int(timeouts.connect), tv_usec: Int((timeouts.connect.truncatingRemainder(dividingBy: 1)) * 1e6))
        let ctx: UnsafeMutablePointer<redisContext>?
        switch url.endpoint {
        case .tcp(let host, let port):
            let h = overrideHost ?? host, p = overridePort ?? port
            address = "\(h):\(p)"
            ctx = redisConnectWithTimeout(h, p, connectTV)
        case .unix(let path):
            address = path
            ctx = redisConnectUnixWithTimeout(path, connectTV)
        }
        guard let ctx else { throw .unavailable("redis \(address): out of memory") }
        if ctx.pointee.err != 0 {
            let why = Self.errorText(ctx)
            redisFree(ctx)
            throw .unavailable("redis \(SafeText.clean(address)): \(why)")
        }
        context = ctx
        // Not inherited by a program this process starts: a socket still open in a child would
        // keep the server's side of a connection we closed (after a timeout) alive.
        _ = fcntl(ctx.pointee.fd, F_SETFD, FD_CLOEXEC)
        let commandTV = timeval(tv_sec: Int(timeouts.command), tv_usec: Int((timeouts.command.truncatingRemainder(dividingBy: 1)) * 1e6))
        redisSetTimeout(ctx, commandTV)

        var setup: [[String]] = []
        if let password = url.password { setup.append(url.user.map { ["AUTH", $0, password] } ?? ["AUTH", password]) }
        if url.database != 0 { setup.append(["SELECT", String(url.database)]) }
        if !setup.isEmpty {
            let replies = try pipeline(setup.map { RedisCommand($0) })
            for r in replies {
                if let e = r.errorMessage {
                    let denied = e.hasPrefix("WRONGPASS") || e.hasPrefix("NOAUTH") || e.contains("invalid password") || e.hasPrefix("NOPERM")
                    throw denied ? .denied("redis \(address) refused the credentials: \(SafeText.clean(e))")
                                 : .failed("redis \(address): \(SafeText.clean(e))")
                }
            }
        }
    }

    deinit { redisFree(context) }

    /// What the server announces changes of for this connection, when it does (`KeyTracking.swift`).
    var tracked: TrackingScope?

    /// Sends every command, then reads every reply: one round trip. Each reply is handed to
    /// `decode` as hiredis parsed it, then freed. A transport failure throws `.unavailable` and
    /// leaves the connection unusable (the owner drops it).
    func pipeline<T>(_ commands: [RedisCommand], decode: (RedisReply) -> T) throws(BackendError) -> [T] {
        for command in commands { try append(command) }
        var out: [T] = []
        out.reserveCapacity(commands.count)
        for _ in commands { out.append(try nextReply(decode)) }
        return out
    }

    /// Queues one command in the output buffer; nothing is sent until a reply is read.
    func append(_ command: RedisCommand) throws(BackendError) {
        let rc = command.resp.withUnsafeBytes { b in
            redisAppendFormattedCommand(context, b.baseAddress!.assumingMemoryBound(to: CChar.self), b.count)
        }
        if rc != REDIS_OK { throw .unavailable("redis \(address): \(Self.errorText(context))") }
    }

    /// Sends what is queued, then waits (up to the command timeout) for the next reply. A failure
    /// here may come after the server got the commands: `.replyLost`.
    func nextReply<T>(_ decode: (RedisReply) -> T) throws(BackendError) -> T {
        var reply: UnsafeMutablePointer<redisReply>?
        if tg_redis_get_reply(context, &reply) != REDIS_OK || reply == nil {
            throw .replyLost("redis \(address): \(Self.errorText(context))")
        }
        defer { freeReplyObject(reply) }
        return decode(RedisReply(reply!))
    }

    func pipeline(_ commands: [RedisCommand]) throws(BackendError) -> [RedisValue] {
        try pipeline(commands, decode: \.value)
    }

    var isBroken: Bool { context.pointee.err != 0 }

    private static func errorText(_ ctx: UnsafeMutablePointer<redisContext>) -> String {
        let text = withUnsafeBytes(of: ctx.pointee.errstr) { raw -> String in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        if ctx.pointee.err == REDIS_ERR_IO, text.isEmpty || text.contains("Resource temporarily unavailable") { return "timed out" }
        return text.isEmpty ? "connection error \(ctx.pointee.err)" : SafeText.clean(text)
    }
}
