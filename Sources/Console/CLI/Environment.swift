import Foundation

/// The environment variables tollgate reads; an empty variable counts as unset.
enum Env {
    static func value(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `TOLLGATE_READONLY` set to 1, true or yes. `--readonly` anywhere on the command line sets it
    /// (Tollgate.main), so every command reads read-only mode here.
    static var readonly: Bool { ["1", "true", "yes"].contains(value("TOLLGATE_READONLY")?.lowercased() ?? "") }
}
