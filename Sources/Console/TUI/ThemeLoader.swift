import Backends
import Foundation
import Views

/// Finds and loads a theme file. A name is looked up in, in order: `$XDG_CONFIG_HOME/tollgate/themes`
/// (or `~/.config/tollgate/themes`), `themes/` beside the repository the binary was built in,
/// `/usr/local/share/tollgate/themes`, `/usr/share/tollgate/themes`. A value with a `/` or ending in
/// `.toml` is a path. When the built-in name `mono` is asked for and no file is found, the
/// monochrome theme needs no file.
enum ThemeLoader {
    static func load(_ nameOrPath: String) throws -> Theme {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".toml") {
            return try parse(path: nameOrPath)
        }
        guard nameOrPath.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }),
              !nameOrPath.isEmpty
        else {
            throw CLIFailure(.usage, "invalid --theme \(SafeText.quoted(nameOrPath)): a theme name is lowercase letters, digits, - or _, or a path to a .toml file")
        }
        for dir in searchPath() {
            let path = dir + "/" + nameOrPath + ".toml"
            if FileManager.default.fileExists(atPath: path) { return try parse(path: path) }
        }
        if nameOrPath == "mono" || nameOrPath == "default" { return .monochrome }
        throw CLIFailure(.usage, "unknown --theme \(SafeText.quoted(nameOrPath)): no \(nameOrPath).toml in \(searchPath().joined(separator: ", "))")
    }

    static func searchPath() -> [String] {
        let env = ProcessInfo.processInfo.environment
        let config = env["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.config")
        // The binary lives in <repo>/.build/<triple>/<config>/tollgate when built from source.
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let repo = exe.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return [config + "/tollgate/themes", repo.path + "/themes", "/usr/local/share/tollgate/themes", "/usr/share/tollgate/themes"]
    }

    private static func parse(path: String) throws -> Theme {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw CLIFailure(.usage, "cannot read theme file \(SafeText.quoted(path))")
        }
        do { return try Theme.parse(text, source: path) } catch { throw CLIFailure(.usage, "bad theme: \(error.description)") }
    }
}
