import Backends

/// The keys screen's columns as data: title, width, priority (lower numbers survive narrow
/// terminals), how a key becomes a cell and how keys sort by it.
enum KeyColumn: String, CaseIterable, Sendable {
    case key, state, label, expires, lastUsed, grace, chain, prefix, revoked, scopes, created

    var title: String {
        switch self {
        case .key: "KEY"
        case .state: "STATE"
        case .label: "LABEL"
        case .expires: "EXPIRES"
        case .lastUsed: "LAST USED"
        case .grace: "GRACE"
        case .chain: "ROTATION"
        case .prefix: "PREFIX"
        case .revoked: "REVOKED"
        case .scopes: "SCOPES"
        case .created: "CREATED"
        }
    }

    var spec: ColumnSpec<KeyColumn> {
        switch self {
        case .key: ColumnSpec(self, 12, max: 16)
        case .state: ColumnSpec(self, 8)
        case .label: ColumnSpec(self, 14, max: 28)
        case .expires: ColumnSpec(self, 13)
        case .lastUsed: ColumnSpec(self, 10)
        case .grace: ColumnSpec(self, 11, priority: 1)
        case .chain: ColumnSpec(self, 18, max: 26, priority: 1)
        case .prefix: ColumnSpec(self, 12, priority: 2)
        case .revoked: ColumnSpec(self, 20, priority: 2)
        case .scopes: ColumnSpec(self, 12, max: 30, priority: 3)
        case .created: ColumnSpec(self, 22, priority: 3)
        }
    }

    var descendingFirst: Bool { self == .lastUsed || self == .created }

    func cell(_ k: APIKey, now: Double) -> (String, Role) {
        let state = k.state(at: now)
        switch self {
        case .key: return (k.id.rawValue, k.problem == nil ? .normal : .error)
        case .state:
            guard k.problem == nil else { return ("ERR", .error) }
            switch state {
            case .active: return ("active", .good)
            case .rotating: return ("rotating", .warn)
            case .retired, .revoked: return (state.rawValue, .dim)
            case .expired: return ("expired", .bad)
            }
        case .label: return (k.label, .normal)
        case .expires:
            guard k.expiresAt > 0 else { return ("never", .dim) }
            let left = Double(k.expiresAt) - now
            if left <= 0 { return ("expired", state == .expired ? .bad : .dim) }
            let warn = KeyWarning(left)
            guard let w = warn else { return (CivilDate(epochSeconds: k.expiresAt).iso8601.prefix(10).description, .normal) }
            return ("in \(Format.duration(left)) \(w.mark)", w.role)
        case .lastUsed: return (k.lastUsedAt.map { "\(Format.duration(now - Double($0))) ago" } ?? "never", .dim)
        case .grace:
            guard let g = k.graceUntil, k.state != .revoked else { return ("·", .dim) }
            return state == .rotating ? ("ends \(Format.duration(Double(g) - now))", .warn) : ("ended", .dim)
        case .chain:
            var parts: [String] = []
            if let r = k.replaces { parts.append("←\(r)") }
            if let r = k.replacedBy { parts.append("→\(r)") }
            return (parts.isEmpty ? "·" : parts.joined(separator: " "), .dim)
        case .prefix: return (k.prefix, .dim)
        case .revoked:
            guard let at = k.revokedAt else { return ("·", .dim) }
            return (CivilDate(epochSeconds: at).iso8601.prefix(10) + (k.revokedBy.map { " " + $0 } ?? ""), .dim)
        case .scopes: return (k.scopes.isEmpty ? "·" : k.scopes.joined(separator: ","), .dim)
        case .created: return (CivilDate(epochSeconds: k.createdAt).iso8601.prefix(10) + " " + k.createdBy, .dim)
        }
    }

    /// Keys sort by this; ties by id.
    func less(_ a: APIKey, _ b: APIKey, now: Double) -> Bool? {
        func cmp<T: Comparable>(_ x: T, _ y: T) -> Bool? { x == y ? nil : x < y }
        switch self {
        case .key: return cmp(a.id, b.id)
        case .state: return cmp(a.state(at: now), b.state(at: now))
        case .label: return cmp(a.label, b.label)
        case .expires: return cmp(a.expiresAt == 0 ? .max : a.expiresAt, b.expiresAt == 0 ? .max : b.expiresAt)
        case .lastUsed: return cmp(a.lastUsedAt ?? 0, b.lastUsedAt ?? 0)
        case .grace: return cmp(a.graceUntil ?? .max, b.graceUntil ?? .max)
        case .chain: return cmp(a.replaces?.rawValue ?? "", b.replaces?.rawValue ?? "")
        case .prefix: return cmp(a.prefix, b.prefix)
        case .revoked: return cmp(a.revokedAt ?? 0, b.revokedAt ?? 0)
        case .scopes: return cmp(a.scopes.joined(separator: ","), b.scopes.joined(separator: ","))
        case .created: return cmp(a.createdAt, b.createdAt)
        }
    }
}

/// The 7, 3 and 1-day warnings before a key expires.
struct KeyWarning {
    let mark: String
    let role: Role

    init?(_ secondsLeft: Double) {
        switch secondsLeft {
        case ...86_400: (mark, role) = ("⚠1d", .bad)
        case ...(3 * 86_400): (mark, role) = ("⚠3d", .warn)
        case ...KeyCounts.expiryWarning: (mark, role) = ("⚠7d", .warn)
        default: return nil
        }
    }
}
