import Backends
import Foundation
import Views

/// Finds a theme: a value with a `/` or ending in `.toml` is a file; a name is a file of that
/// name in `$XDG_CONFIG_HOME/tollgate/themes` (default `~/.config/tollgate/themes`) when there is
/// one, else the theme of that name built into the binary. An unknown name is an error, never a
/// silent fallback.
enum ThemeLoader {
    static func load(_ nameOrPath: String) throws -> Theme {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".toml") { return try parse(path: nameOrPath) }
        guard !nameOrPath.isEmpty, nameOrPath.utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D || $0 == 0x5F })
        else {
            throw CLIFailure(.usage, "invalid theme \(SafeText.quoted(nameOrPath)): a theme name is lowercase letters, digits, - or _, or a path to a .toml file")
        }
        let file = overrideFolder() + "/" + nameOrPath + ".toml"
        if FileManager.default.fileExists(atPath: file) { return try parse(path: file) }
        do throws(Theme.ParseError) {
            if let theme = try Theme.builtin(nameOrPath) { return theme }
        } catch {
            throw CLIFailure(.failure, "the built-in theme \(nameOrPath) is broken: \(error.description)")
        }
        throw CLIFailure(.usage, "unknown theme \(SafeText.quoted(nameOrPath)): built in are \(Theme.builtinNames.joined(separator: ", ")); "
                         + "others are files NAME.toml in \(overrideFolder())")
    }

    /// Built-in names and the files of the override folder, for completion.
    static func names() -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: overrideFolder())) ?? []
        return Set(Theme.builtinNames + files.filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) }).sorted()
    }

    static func overrideFolder() -> String {
        let config = Env.value("XDG_CONFIG_HOME").flatMap { $0.hasPrefix("/") ? $0 : nil } ?? (NSHomeDirectory() + "/.config")
        return config + "/tollgate/themes"
    }

    private static func parse(path: String) throws -> Theme {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw CLIFailure(.usage, "cannot read theme file \(SafeText.quoted(path))")
        }
        do { return try Theme.parse(text, source: path) } catch { throw CLIFailure(.usage, "bad theme: \(error.description)") }
    }
}
