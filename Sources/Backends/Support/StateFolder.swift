import Foundation

/// tollgate's own state on this machine (the audit spool, the Keycloak tokens):
/// `$XDG_STATE_HOME/tollgate`, else `~/.local/state/tollgate`.
public enum StateFolder {
    public static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        (environment["XDG_STATE_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? (NSHomeDirectory() + "/.local/state")) + "/tollgate"
    }
}
