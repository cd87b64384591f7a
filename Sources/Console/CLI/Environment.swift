import Backends
import Foundation
#if canImport(Glibc)
import Glibc
#endif

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

/// A secret kept in a file (a password, a client secret): its first line. A file that its group
/// or others may read is refused, naming it and its mode, as ssh refuses such a private key.
enum SecretFile {
    static func read(_ path: String, _ what: String) throws -> String {
        var st = stat()
        guard stat(path, &st) == 0 else { throw CLIFailure(.usage, "\(what): cannot read \(SafeText.quoted(path)): \(String(cString: strerror(errno)))") }
        let mode = st.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw CLIFailure(.usage, "\(what): \(SafeText.quoted(path)) has mode \(String(format: "%04o", mode)); a secret's file must be readable by its owner alone (chmod 600 it)")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw CLIFailure(.usage, "\(what): cannot read \(SafeText.quoted(path))")
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
    }
}
