import Backends
import Views

/// What one console session may read and do, against one context: built by the command line (or
/// again by `:ctx`), and handed to the runtime. Nothing of it is process-global, so several
/// sessions could live in one process (serving the console over SSH, docs/architecture.md).
struct ConsoleSession: Sendable {
    var info: SessionInfo
    let fleet: any FleetReading
    let tenants: any TenantReading
    let keyWatch: any KeyWatching
    let audit: (any AuditReading)?
    let usage: (any UsageReading)?
    /// Keycloak's view of a tenant (its realm or group); nil without a Keycloak admin client.
    let identities: (any IdentityReading)?
    let actions: ActionLayer
    /// The guard the readers above go through; here to audit what command mode refused.
    let reads: ReadGuard
    /// Delivers the spooled audit events of actions to ClickHouse; nil without one.
    let deliver: (@Sendable () async -> Void)?
}
