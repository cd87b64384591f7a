import Backends
import Foundation

/// The environment variables tollgate reads; an empty variable counts as unset.
enum Env {
    static func value(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A boolean variable: true, false, 1, 0, yes or no (any case); nil when unset. Anything else
    /// is an error naming the value, never a silent false.
    static func bool(_ name: String) throws -> Bool? {
        guard let text = value(name) else { return nil }
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw CLIFailure(.usage, "invalid \(name) \(SafeText.quoted(text)): must be true, false, 1, 0, yes or no")
        }
    }
}
