import Synchronization

/// The slow per-tenant counts: every tenant's sessions and cache entries, found by a SCAN that
/// takes one step per refresh, so a refresh costs the same however many such keys Redis holds.
/// When a walk over every node completes, its counts replace the previous walk's; until then the
/// previous counts stand, with the time their walk completed.
final class KeyspaceCounter: Sendable {
    /// Keys SCAN looks at per step (its COUNT hint).
    static let stepSize = 5000

    struct Published {
        let counts: [TenantID: KeyspaceCounts]
        let completedAt: Double
        /// 1 for the first complete walk, 2 for the next...
        let walk: Int
    }

    private struct Walk {
        var cursor = ScanCursor.start
        var counts: [TenantID: KeyspaceCounts] = [:]
        var published: Published?
    }

    private let walk = Mutex(Walk())

    var published: Published? { walk.withLock { $0.published } }

    /// One step of the walk. Keys whose tenant part breaks the contract are not counted.
    func step(_ redis: any RedisCommands, now: Double) async throws(BackendError) {
        let cursor = walk.withLock { $0.cursor }
        let page = try await redis.scan(from: cursor, matching: KeySchema.keyspaceScanPattern, count: Self.stepSize)
        walk.withLock { w in
            guard w.cursor == cursor else { return }   // another refresh took this step already
            Self.tally(page.keys, into: &w.counts)
            if let next = page.next {
                w.cursor = next
            } else {
                w.published = Published(counts: w.counts, completedAt: now, walk: (w.published?.walk ?? 0) + 1)
                w.counts = [:]
                w.cursor = .start
            }
        }
    }

    /// The tenants whose counts differ between two walks (a tenant left out has none).
    static func changed(from old: [TenantID: KeyspaceCounts], to new: [TenantID: KeyspaceCounts]) -> [TenantID] {
        var out = new.compactMap { t, c in old[t] == c ? nil : t }
        for (t, c) in old where new[t] == nil && c != KeyspaceCounts() { out.append(t) }
        return out
    }

    /// Counts session and cache keys by tenant. Keys of other shapes, or whose tenant part breaks
    /// the contract, are not counted.
    static func tally(_ keys: [String], into counts: inout [TenantID: KeyspaceCounts]) {
        for key in keys {
            guard let (part, kind) = KeySchema.keyspaceEntry(key), let id = try? TenantID(String(part)) else { continue }
            switch kind {
            case .session: counts[id, default: KeyspaceCounts()].sessions += 1
            case .cache: counts[id, default: KeyspaceCounts()].cacheEntries += 1
            }
        }
    }
}
