/// API keys (`{T}:apikey:{key_id}`). Only metadata lives here: never a plaintext secret.
public struct APIKey: Equatable, Sendable {
    /// The state stored in Redis.
    public enum StoredState: String, Sendable, CaseIterable { case active, rotating, revoked }

    public let id: KeyID
    public let label: String
    public let prefix: String
    public let state: StoredState
    public let createdAt: Int64
    public let createdBy: String
    public let expiresAt: Int64      // 0 = never
    public let lastUsedAt: Int64?
    public let scopes: [String]
    public let graceUntil: Int64?
    public let replacedBy: KeyID?
    public let replaces: KeyID?
    public let revokedAt: Int64?
    public let revokedBy: String?
    /// Why the stored key breaks the contract (a time that is not a number, a bad key id in its
    /// chain), or nil. Such a key is shown as an error and cannot be rotated.
    public let problem: String?

    public init(id: KeyID, label: String, prefix: String, state: StoredState, createdAt: Int64, createdBy: String,
                expiresAt: Int64 = 0, lastUsedAt: Int64? = nil, scopes: [String] = [], graceUntil: Int64? = nil,
                replacedBy: KeyID? = nil, replaces: KeyID? = nil, revokedAt: Int64? = nil, revokedBy: String? = nil, problem: String? = nil) {
        self.id = id
        self.label = label
        self.prefix = prefix
        self.state = state
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
        self.scopes = scopes
        self.graceUntil = graceUntil
        self.replacedBy = replacedBy
        self.replaces = replaces
        self.revokedAt = revokedAt
        self.revokedBy = revokedBy
        self.problem = problem
    }

    /// The state a person sees: `expired` when `expires_at > 0` and now is past it; `retired` when
    /// `rotating` and now is past `grace_until`; otherwise the stored state.
    public func state(at now: Double) -> KeyState {
        KeyState.derive(stored: state, expiresAt: expiresAt, graceUntil: graceUntil, now: now)
    }
}

/// The derived key state of the contract.
public enum KeyState: String, Sendable, CaseIterable, Comparable {
    case active, rotating, retired, revoked, expired

    public static func derive(stored: APIKey.StoredState, expiresAt: Int64, graceUntil: Int64?, now: Double) -> KeyState {
        if stored == .revoked { return .revoked }
        if expiresAt > 0 && now >= Double(expiresAt) { return .expired }
        if stored == .rotating {
            if let g = graceUntil, now >= Double(g) { return .retired }
            return .rotating
        }
        return .active
    }

    /// Whether a request with this key is still accepted by the gateway.
    public var isUsable: Bool { self == .active || self == .rotating }

    /// Position in `allCases`: the order people read states in.
    var index: Int {
        switch self {
        case .active: 0
        case .rotating: 1
        case .retired: 2
        case .revoked: 3
        case .expired: 4
        }
    }

    public static func < (a: KeyState, b: KeyState) -> Bool { a.index < b.index }
}

/// Key counts of one tenant by derived state.
public struct KeyCounts: Equatable, Sendable {
    // One field per state, not an array: counting every tenant's keys on every refresh
    // allocates nothing.
    private var active = 0, rotating = 0, retired = 0, revoked = 0, expired = 0
    /// Usable keys whose expiry falls within the warning horizon (7 days).
    public var expiringSoon: Int = 0
    public init() {}
    public subscript(_ s: KeyState) -> Int {
        get {
            switch s {
            case .active: active
            case .rotating: rotating
            case .retired: retired
            case .revoked: revoked
            case .expired: expired
            }
        }
        set {
            switch s {
            case .active: active = newValue
            case .rotating: rotating = newValue
            case .retired: retired = newValue
            case .revoked: revoked = newValue
            case .expired: expired = newValue
            }
        }
    }
    public var total: Int { active + rotating + retired + revoked + expired }

    public static let expiryWarning: Double = 7 * 86_400

    public mutating func add(_ key: APIKey, now: Double) {
        add(stored: key.state, expiresAt: key.expiresAt, graceUntil: key.graceUntil, now: now)
    }

    /// Counts a key by its derived state, and as expiring soon when it is usable and expires
    /// within `expiryWarning`.
    public mutating func add(stored: APIKey.StoredState, expiresAt: Int64, graceUntil: Int64?, now: Double) {
        let s = KeyState.derive(stored: stored, expiresAt: expiresAt, graceUntil: graceUntil, now: now)
        self[s] += 1
        if s.isUsable, expiresAt > 0, Double(expiresAt) - now < Self.expiryWarning { expiringSoon += 1 }
    }
}
