import Backends

/// Who is at the console and against what: shown in the header, and the policy every binding
/// asks. Built by the console from its session; replaced when the context changes.
public struct SessionInfo: Sendable {
    public var context: String?
    public var source: String
    public var policy: AccessPolicy
    /// What the live feeds read (`redis`, `demo`), and the audit log's store when one is
    /// configured (`clickhouse`, `demo`): panes that need it say what is missing otherwise.
    public var liveStore: String
    public var auditStore: String?
    /// `keycloak` when Keycloak's admin API is configured: the tenant detail shows identities.
    public var identityStore: String?
    /// Names for completion in command mode.
    public var contexts: [String]
    public var themes: [String]
    /// Seconds between refreshes of the live feeds.
    public var refresh: Double

    public init(context: String?, source: String, policy: AccessPolicy, liveStore: String, auditStore: String?, identityStore: String? = nil,
                contexts: [String] = [], themes: [String] = [], refresh: Double = 1) {
        self.identityStore = identityStore
        self.context = context
        self.source = source
        self.policy = policy
        self.liveStore = liveStore
        self.auditStore = auditStore
        self.contexts = contexts
        self.themes = themes
        self.refresh = refresh
    }

    /// `local:root (admin, unauthenticated)`.
    public var operatorLabel: String {
        let op = policy.op
        return "\(op.name) (\(op.role.rawValue)\(op.authenticated ? "" : ", unauthenticated"))"
    }

    /// Whether this session has the store a feed reads.
    public func has(_ store: Feed.Store) -> Bool {
        switch store {
        case .redis: true
        case .clickhouse: auditStore != nil
        case .keycloak: identityStore != nil
        }
    }
}
