import Synchronization

/// Redis Cluster: the slot map from `CLUSTER SLOTS`, one `RedisClient` per master, commands routed
/// by the hash slot of their key (the contract's `{tenant}` hash tag keeps a tenant on one node),
/// one pipeline per node run concurrently, `MOVED` (refresh the map, resend) and `ASK` (resend
/// with `ASKING` to the named node) followed. Each master's client tracks its own keys
/// (`KeyTracking.swift`); a slot that moved counts as "anything may have changed".
public final class RedisClusterClient: RedisCommands {
    private let seed: RedisURL
    private let timeouts: RedisConnection.Timeouts
    private let clock: any Clock
    private let state = Mutex(State())
    static let maxRedirects = 5

    struct State {
        var slots: [Int16] = []              // slot -> index in `nodes`, -1 when unassigned
        var nodes: [String] = []             // "host:port" of masters
        var clients: [String: RedisClient] = [:]
        var stale = true
        var moved = 0
        var asked = 0
        /// A redirect, a new slot map or a failed node since the last `changedKeys()`: a key may
        /// now live on a node that did not track it (in the default mode) or was not yet tracking.
        var slotsMoved = false
    }

    /// Redirections followed so far (for the status line and tests).
    public var redirects: (moved: Int, ask: Int) { state.withLock { ($0.moved, $0.asked) } }

    public var label: String { "cluster " + seed.description }

    public init(seed: RedisURL, connectTimeout: Double = 2, commandTimeout: Double = 5, clock: any Clock = SystemClock()) {
        self.seed = seed
        timeouts = .init(connect: connectTimeout, command: commandTimeout)
        self.clock = clock
    }

    public func pipeline<T: Sendable>(_ commands: [RedisCommand], decode: @escaping @Sendable (RedisReply) -> T) async throws(BackendError) -> [T] {
        if commands.isEmpty { return [] }
        var results = [T?](repeating: nil, count: commands.count)
        var pending = Array(commands.indices)
        var asking: [Int: String] = [:]      // command index -> node named by ASK
        for _ in 0...Self.maxRedirects {
            try await refreshSlotsIfStale()
            let routed = try route(pending, commands, asking: asking)
            let replies = try await runPerNode(routed, commands) { reply in
                reply.kind == .error ? Redirect(reply.text).map(Routed.redirect) ?? .reply(decode(reply)) : .reply(decode(reply))
            }
            pending = []
            asking = [:]
            for (index, reply) in replies {
                switch reply {
                case .reply(let value): results[index] = value
                case .redirect(let redirect):
                    pending.append(index)
                    switch redirect.kind {
                    case .moved: state.withLock { $0.stale = true; $0.moved += 1; $0.slotsMoved = true }
                    case .ask:
                        asking[index] = redirect.address
                        state.withLock { $0.asked += 1; $0.slotsMoved = true }
                    }
                }
            }
            if pending.isEmpty { return results.map { $0! } }
        }
        throw .failed("redis cluster: too many redirects (the slot map keeps changing)")
    }

    /// What every master's client heard since the last call; `.unknown` when any cannot tell, or
    /// when slots moved (a key tracked on one node may have been written on another).
    public func changedKeys(_ scope: TrackingScope) async throws(BackendError) -> KeyChanges {
        // Every master's client, also of masters nothing was read from yet: tracking starts on
        // all of them at once, so a client first made later (by the SCAN walk) cannot turn a
        // steady refresh into "anything may have changed". The slot map is read first: a client
        // that asks before its first read starts tracking on the masters then.
        try await refreshSlotsIfStale()
        let (nodes, moved) = state.withLock { s in
            defer { s.slotsMoved = false }
            return (s.nodes, s.slotsMoved)
        }
        let clients = nodes.map(client(for:))
        var keys: [String] = []
        var unknown = moved || clients.isEmpty
        for c in clients {
            switch try await c.changedKeys(scope) {
            case .unknown: unknown = true
            case .keys(let k): keys += k
            }
        }
        return unknown ? .unknown : .keys(keys)
    }

    /// A node's answer to one command: its reply, or where the cluster says the key now lives.
    enum Routed<T: Sendable>: Sendable {
        case reply(T)
        case redirect(Redirect)
    }

    /// Walks the masters in address order, one after another. A slot map that changes during a
    /// walk can make it miss or repeat keys, as SCAN itself may.
    public func scan(from cursor: ScanCursor, matching pattern: String, count: Int) async throws(BackendError) -> ScanPage {
        try await refreshSlotsIfStale()
        let nodes = state.withLock { $0.nodes }.sorted()
        guard cursor.node < nodes.count else { return ScanPage(keys: [], next: nil) }
        var page = try await client(for: nodes[cursor.node]).scan(from: ScanCursor(node: 0, cursor: cursor.cursor), matching: pattern, count: count)
        page.next = page.next.map { ScanCursor(node: cursor.node, cursor: $0.cursor) }
            ?? (cursor.node + 1 < nodes.count ? ScanCursor(node: cursor.node + 1, cursor: "0") : nil)
        return page
    }

    // MARK: Routing

    struct Redirect: Sendable {
        enum Kind: Sendable { case moved, ask }
        let kind: Kind
        let address: String
        init?(_ error: String) {
            let parts = error.split(separator: " ")
            guard parts.count == 3 else { return nil }
            switch parts[0] {
            case "MOVED": kind = .moved
            case "ASK": kind = .ask
            default: return nil
            }
            address = String(parts[2])
        }
    }

    /// Node address -> (command index, send ASKING first).
    private func route(_ indexes: [Int], _ commands: [RedisCommand], asking: [Int: String]) throws(BackendError) -> [String: [(Int, Bool)]] {
        try state.withLock { s throws(BackendError) -> [String: [(Int, Bool)]] in
            var byNode: [String: [(Int, Bool)]] = [:]
            for i in indexes {
                if let target = asking[i] {
                    byNode[target, default: []].append((i, true))
                    continue
                }
                let node: String
                if let key = Self.routingKey(commands[i].arguments) {
                    let slot = HashSlot.of(key)
                    let n = s.slots.isEmpty ? -1 : Int(s.slots[slot])
                    guard n >= 0 else { s.stale = true; throw .unavailable("redis cluster: slot \(slot) is not served by any node") }
                    node = s.nodes[n]
                } else {
                    guard let first = s.nodes.first else { throw .unavailable("redis cluster: no nodes known") }
                    node = first
                }
                byNode[node, default: []].append((i, false))
            }
            return byNode
        }
    }

    private func runPerNode<T: Sendable>(_ routed: [String: [(Int, Bool)]], _ commands: [RedisCommand],
                                         decode: @escaping @Sendable (RedisReply) -> Routed<T>) async throws(BackendError) -> [(Int, Routed<T>)] {
        let jobs = routed.map { (node, items) in (client(for: node), items) }
        typealias Part = Result<[(Int, Routed<T>)], BackendError>
        let outcome: Part = await withTaskGroup(of: Part.self) { group in
            for (client, items) in jobs {
                group.addTask {
                    var batch: [RedisCommand] = []
                    for (i, ask) in items {
                        // ASKING holds for the next command only; the slot is moving, and the next
                        // changedKeys() says so.
                        if ask { batch.append(Self.asking) }
                        batch.append(commands[i])
                    }
                    do throws(BackendError) {
                        let replies = try await client.pipeline(batch, decode: decode)
                        var out: [(Int, Routed<T>)] = []
                        var r = 0
                        for (i, ask) in items {
                            if ask { r += 1 }   // ASKING's +OK
                            out.append((i, replies[r]))
                            r += 1
                        }
                        return .success(out)
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var all: [(Int, Routed<T>)] = []
            var failure: BackendError?
            for await r in group {
                switch r {
                case .success(let part): all += part
                case .failure(let e): failure = failure ?? e
                }
            }
            return failure.map { .failure($0) } ?? .success(all)
        }
        if case .failure = outcome { state.withLock { $0.stale = true; $0.slotsMoved = true } }  // a failover may have moved slots
        return try outcome.get()
    }

    static let asking = RedisCommand(["ASKING"])

    private func client(for node: String) -> RedisClient {
        state.withLock { s in
            if let c = s.clients[node] { return c }
            let (host, port) = Self.split(node)
            let c = RedisClient(seed, host: host, port: port, timeouts: timeouts, clock: clock)
            s.clients[node] = c
            return c
        }
    }

    /// The key a command is routed by: its first key (for EVAL/EVALSHA, the first of KEYS).
    static func routingKey(_ command: [String]) -> String? {
        let name = command.first?.uppercased()
        if name == "EVAL" || name == "EVALSHA" { return command.count > 3 && command[2] != "0" ? command[3] : nil }
        return command.count > 1 ? command[1] : nil
    }

    private static func split(_ node: String) -> (String, Int32) {
        guard let colon = node.lastIndex(of: ":"), let p = Int32(node[node.index(after: colon)...]) else { return (node, 6379) }
        return (String(node[..<colon]), p)
    }

    // MARK: Slot map

    private func refreshSlotsIfStale() async throws(BackendError) {
        let (stale, known) = state.withLock { ($0.stale, $0.nodes) }
        guard stale else { return }
        var candidates = known.map { client(for: $0) }
        if case .tcp(let host, let port) = seed.endpoint { candidates.append(client(for: "\(host):\(port)")) }
        var lastError = BackendError.unavailable("redis cluster: no node reachable")
        for c in candidates {
            do throws(BackendError) {
                let reply = try await c.pipeline([["CLUSTER", "SLOTS"]])[0]
                if let e = reply.errorMessage { throw .failed("CLUSTER SLOTS: \(SafeText.clean(e))") }
                try install(reply, seedHost: Self.split(c.label).0)
                return
            } catch {
                lastError = error.beforeSending
            }
        }
        throw lastError
    }

    private func install(_ reply: RedisValue, seedHost: String) throws(BackendError) {
        guard let ranges = reply.array else { throw .failed("CLUSTER SLOTS: unexpected reply") }
        var slots = [Int16](repeating: -1, count: HashSlot.count)
        var nodes: [String] = []
        for range in ranges {
            guard let r = range.array, r.count >= 3, case .integer(let lo) = r[0], case .integer(let hi) = r[1],
                  let master = r[2].array, master.count >= 2, let host = master[0].string, case .integer(let port) = master[1],
                  lo >= 0, hi < HashSlot.count, lo <= hi
            else { throw .failed("CLUSTER SLOTS: malformed range") }
            let address = "\(host.isEmpty ? seedHost : host):\(port)"
            let index: Int
            if let i = nodes.firstIndex(of: address) { index = i } else { nodes.append(address); index = nodes.count - 1 }
            for slot in Int(lo)...Int(hi) { slots[slot] = Int16(index) }
        }
        state.withLock { s in
            if s.slots != slots || s.nodes != nodes { s.slotsMoved = true }
            s.slots = slots
            s.nodes = nodes
            s.stale = false
        }
    }
}

/// Chooses standalone or cluster on first use, from the server's own `INFO cluster`.
public final class RedisAuto: RedisCommands {
    public let url: RedisURL
    private let connectTimeout: Double
    private let commandTimeout: Double
    private let clock: any Clock
    private let chosen = Mutex<(any RedisCommands)?>(nil)
    private let standalone: RedisClient

    public init(_ url: RedisURL, connectTimeout: Double = 2, commandTimeout: Double = 5, clock: any Clock = SystemClock()) {
        self.url = url
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.clock = clock
        standalone = RedisClient(url, connectTimeout: connectTimeout, commandTimeout: commandTimeout, clock: clock)
    }

    public var label: String { chosen.withLock { $0?.label } ?? url.description }

    private func resolve() async throws(BackendError) -> any RedisCommands {
        if let c = chosen.withLock({ $0 }) { return c }
        let info = try await standalone.pipeline([["INFO", "cluster"]])[0]
        let isCluster = info.string?.contains("cluster_enabled:1") ?? false
        let c: any RedisCommands = isCluster
            ? RedisClusterClient(seed: url, connectTimeout: connectTimeout, commandTimeout: commandTimeout, clock: clock)
            : standalone
        chosen.withLock { $0 = c }
        return c
    }

    public func pipeline<T: Sendable>(_ commands: [RedisCommand], decode: @escaping @Sendable (RedisReply) -> T) async throws(BackendError) -> [T] {
        try await resolve().pipeline(commands, decode: decode)
    }

    public func scan(from cursor: ScanCursor, matching pattern: String, count: Int) async throws(BackendError) -> ScanPage {
        try await resolve().scan(from: cursor, matching: pattern, count: count)
    }

    public func changedKeys(_ scope: TrackingScope) async throws(BackendError) -> KeyChanges {
        try await resolve().changedKeys(scope)
    }
}
