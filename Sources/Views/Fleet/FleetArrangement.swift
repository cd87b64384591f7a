import Backends

/// How a fleet table wants its rows: sorted by a column, optionally filtered.
public struct ArrangeSpec: Equatable, Sendable {
    public var sort: TenantColumn
    public var descending: Bool
    public var filter: TenantFilter?

    public init(sort: TenantColumn, descending: Bool, filter: TenantFilter? = nil) {
        self.sort = sort
        self.descending = descending
        self.filter = filter
    }
}

/// The rows of a fleet table for one digest and one spec: sorted and filtered off the UI thread
/// (`Effect.arrange`), so the UI thread only ever indexes into it.
public struct FleetArrangement: Sendable {
    public let digest: FleetDigest
    public let spec: ArrangeSpec
    /// Indices into `digest.tenants`, in display order.
    let order: [Int32]
    /// `position[i]` is the row of `digest.tenants[i]`, or -1 when the filter hides it.
    let position: [Int32]

    public var count: Int { order.count }
    public func row(at i: Int) -> FleetRow { digest.row(Int(order[i])) }

    /// The row that shows `id`, or nil.
    public func row(of id: TenantID) -> Int? {
        guard let i = digest.index(of: id), position[i] >= 0 else { return nil }
        return Int(position[i])
    }

    /// Sorts by the column's key, once per tenant; ties keep the id order.
    public static func build(_ digest: FleetDigest, _ spec: ArrangeSpec, now: Double) -> FleetArrangement {
        var order: [Int32] = []
        order.reserveCapacity(digest.count)
        for i in 0..<digest.count where spec.filter?.matches(digest.tenants[i]) ?? true { order.append(Int32(i)) }
        let desc = spec.descending
        if !spec.sort.sortsAsText {
            let keys = spec.sort == .requests ? digest.summaries.map { Double($0.requests) }   // summed once per reading
                : (0..<digest.count).map { spec.sort.number(digest.tenants[$0], digest.rates[$0], now: now) ?? 0 }
            order.sort { a, b in
                let x = keys[Int(a)], y = keys[Int(b)]
                return x == y ? a < b : (desc ? x > y : x < y)
            }
        } else {
            let keys = (0..<digest.count).map { spec.sort.text(digest.row($0)) }
            order.sort { a, b in
                let x = keys[Int(a)], y = keys[Int(b)]
                return x == y ? a < b : (desc ? x > y : x < y)
            }
        }
        var position = [Int32](repeating: -1, count: digest.count)
        for (row, i) in order.enumerated() { position[Int(i)] = Int32(row) }
        return FleetArrangement(digest: digest, spec: spec, order: order, position: position)
    }
}

/// The `/` filter of a fleet table: a case-insensitive substring of the tenant id or name; a
/// leading `!` keeps the rows that do not match.
public struct TenantFilter: Equatable, Sendable {
    public let text: String
    let needle: String
    let negated: Bool

    /// Nil for text that filters nothing (empty, or a lone `!`).
    public init?(_ text: String) {
        let negated = text.hasPrefix("!")
        let needle = String(negated ? text.dropFirst() : Substring(text)).lowercased()
        guard !needle.isEmpty else { return nil }
        self.text = text
        self.needle = needle
        self.negated = negated
    }

    public func matches(_ t: TenantState) -> Bool {
        let hit = t.id.rawValue.contains(needle) || (t.meta.value?.name.lowercased().contains(needle) ?? false)
        return hit != negated
    }
}
