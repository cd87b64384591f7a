/// Every Redis key name of the gateway contract is built here and nowhere else.
///
/// Braces around the tenant id are literal: in Redis Cluster they are the hash tag, so all of a
/// tenant's keys live in one slot (the rate-limit counters included: `rl:{T}:...`).
public enum KeySchema {
    public static let tenantIndex = "gw:tenants"
    /// SCAN pattern for discovery when the index is missing. Built from constants only.
    public static let metaScanPattern = "{*}:meta"

    public static func meta(_ t: TenantID) -> String { "{\(t.rawValue)}:meta" }
    public static func limits(_ t: TenantID) -> String { "{\(t.rawValue)}:limits" }
    public static func counter(_ t: TenantID, _ route: Route, windowStart: Int64) -> String {
        counterPrefix(t, route) + String(windowStart)
    }
    /// `rl:{T}:{route}:`, to which a refresh appends the window start.
    public static func counterPrefix(_ t: TenantID, _ route: Route) -> String { "rl:{\(t.rawValue)}:\(route.rawValue):" }
    public static func throttle(_ t: TenantID, _ route: Route) -> String { "{\(t.rawValue)}:throttle:\(route.rawValue)" }
    public static func budget(_ t: TenantID, month: YearMonth) -> String { "{\(t.rawValue)}:budget:\(month)" }
    public static func apiKeys(_ t: TenantID) -> String { "{\(t.rawValue)}:apikeys" }
    public static func apiKey(_ t: TenantID, _ k: KeyID) -> String { "{\(t.rawValue)}:apikey:\(k.rawValue)" }
    /// tollgate's own: the marker of an operator action, `applied` or `cancelled`, written
    /// atomically with its effect and kept a day (docs/actions.md). `requestID` is a UUID the
    /// action layer made.
    public static func actionMarker(_ t: TenantID, requestID: String) -> String { "{\(t.rawValue)}:action:\(requestID)" }
    /// SCAN pattern of one tenant's sessions (`{T}:session:...`) and cache entries
    /// (`{T}:cache:...`), and a few other shapes, which `keyspaceEntry` tells apart.
    public static func keyspacePattern(_ t: TenantID) -> String { "{\(t.rawValue)}" + keyspaceSuffix }
    /// The same for every tenant. Built from constants only.
    public static let keyspaceScanPattern = "{*}" + keyspaceSuffix
    private static let keyspaceSuffix = ":[sc][ea][sc]*"

    public enum KeyspaceEntry: Sendable { case session, cache }

    /// The tenant part and kind of a `{T}:session:...` or `{T}:cache:...` key; `nil` for any
    /// other key. The caller validates the tenant part.
    public static func keyspaceEntry(_ key: String) -> (tenant: Substring, kind: KeyspaceEntry)? {
        guard let (tenant, rest) = hashTag(of: key) else { return nil }
        if rest.hasPrefix(":session:") { return (tenant, .session) }
        if rest.hasPrefix(":cache:") { return (tenant, .cache) }
        return nil
    }

    /// What a change to a key announced by key tracking means for a refresh.
    public enum Announced: Sendable, Equatable {
        /// `{T}:throttle:...`: the tenant's throttles are read again.
        case throttle
        /// `rl:{T}:...` (a counter) or `{T}:budget:...`: the tenant's hot readings are.
        case hot
        /// `{T}:meta`, `{T}:limits`, `{T}:apikeys`, `{T}:apikey:...`: its cold data is.
        case cold
    }

    /// The prefixes of every key `announced` knows, for key tracking by prefix: counters, and
    /// every key with a tenant's hash tag (sessions and cache entries too, which it ignores).
    public static let trackedPrefixes = ["rl:", "{"]

    /// The tenant of an announced key, and what the change means; `nil` for a key of no tenant,
    /// another of its keys (sessions, cache entries), or a tenant part that breaks the pattern.
    public static func announced(_ key: String) -> (tenant: TenantID, kind: Announced)? {
        let counter = key.hasPrefix("rl:")
        guard let (tenant, rest) = hashTag(of: counter ? String(key.dropFirst(3)) : key) else { return nil }
        let kind: Announced
        if counter { kind = .hot }
        else if rest.hasPrefix(":throttle:") { kind = .throttle }
        else if rest.hasPrefix(":budget:") { kind = .hot }
        else if rest == ":meta" || rest == ":limits" || rest == ":apikeys" || rest.hasPrefix(":apikey:") { kind = .cold }
        else { return nil }
        guard let id = try? TenantID(String(tenant)) else { return nil }
        return (id, kind)
    }

    /// The tenant part of a `{T}:meta` key found by SCAN: `nil` unless the key has exactly that
    /// shape; the caller validates the id and counts it as malformed when it breaks the pattern.
    public static func tenantPart(ofMetaKey key: String) -> String? {
        guard let (tenant, rest) = hashTag(of: key), rest == ":meta" else { return nil }
        return String(tenant)
    }

    /// A key's tenant part, between its leading braces (the hash tag), and what follows it; `nil`
    /// for a key that does not start with one.
    private static func hashTag(of key: String) -> (tenant: Substring, rest: Substring)? {
        guard key.hasPrefix("{"), let close = key.firstIndex(of: "}") else { return nil }
        return (key[key.index(after: key.startIndex)..<close], key[key.index(after: close)...])
    }
}
