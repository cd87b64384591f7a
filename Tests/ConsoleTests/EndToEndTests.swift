import Foundation
import TestSupport
import Testing

/// The real binary in a real terminal: tmux runs `tollgate --demo`, keys go in with send-keys,
/// the screen comes back with capture-pane. Waits poll the screen; no assertion is about time.
@Suite(.serialized) struct EndToEndTests {
    @Test func demoShowsTenantsReactsToKeysAndQuitsCleanly() async throws {
        let t = try Tmux(width: 100, height: 30)
        defer { t.kill() }
        t.start("\(Tmux.binary) --demo --refresh 0.5")

        let first = try await t.waitFor("tenant rows") { Tmux.tenantRows($0) >= 10 }
        #expect(first.contains("TENANT") && first.contains("REQ/WIN▼"))
        #expect(first.contains("1/40"))

        t.keys("j")
        let moved = try await t.waitFor("selection to move") { $0.contains("2/40") }
        #expect(moved.contains("2/40"))

        t.keys("s")
        let sorted = try await t.waitFor("sort to change") { $0.contains("HOTTEST ROUTE▲") }
        #expect(!sorted.contains("REQ/WIN▼"))

        t.keys("q")
        let status = try await t.waitForExit()
        #expect(status == "0")
        try await t.expectSaneTerminal()
    }

    @Test(arguments: [("TERM", "143"), ("HUP", "129"), ("INT", "130"), ("USR1", "138"), ("USR2", "140"), ("ALRM", "142"), ("RTMIN+3", "\(128 + 34 + 3)")])
    func signalsRestoreTheTerminal(_ signal: String, _ expected: String) async throws {
        let t = try Tmux(width: 90, height: 26)
        defer { t.kill() }
        t.start("\(Tmux.binary) --demo")
        _ = try await t.waitFor("tenant rows") { Tmux.tenantRows($0) >= 10 }
        if signal == "INT" {
            t.keys("C-c")
        } else {
            let pid = try await t.waitForFile("pid")
            _ = try await Tmux.run("/bin/kill", ["-\(signal)", pid.trimmingCharacters(in: .whitespacesAndNewlines)])
        }
        #expect(try await t.waitForExit() == expected)
        try await t.expectSaneTerminal()
    }

    @Test(arguments: ["xterm-256color", "screen-256color", "tmux-256color", "xterm", "vt100"])
    func everyCommonTerminalWorks(_ term: String) async throws {
        let t = try Tmux(width: 100, height: 30)
        defer { t.kill() }
        t.start("\(Tmux.binary) --demo", term: term)
        _ = try await t.waitFor("tenant rows on \(term)") { Tmux.tenantRows($0) >= 10 && $0.contains("1/40") }
        t.keys("Enter")
        _ = try await t.waitFor("the detail on \(term)") { $0.contains("‹ overview") && $0.contains("BUDGET 20") && $0.contains("LATEST AUDIT EVENTS") }
        t.keys("?")
        _ = try await t.waitFor("the help on \(term)") { $0.contains("COMMAND MODE") }
        t.keys("q")
        t.keys("q")
        #expect(try await t.waitForExit() == "0")
        try await t.expectSaneTerminal()
    }

    @Test func noColorMeansNoColourAndThemesAreBuiltIn() async throws {
        let plain = try Tmux(width: 100, height: 30)
        defer { plain.kill() }
        plain.start("\(Tmux.binary) --demo", environment: "NO_COLOR=1")
        _ = try await plain.waitFor("tenant rows") { Tmux.tenantRows($0) >= 10 }
        let mono = plain.capture(escapes: true)
        #expect(!mono.contains("38;5;") && !mono.contains("48;5;"), "no colour with NO_COLOR")
        #expect(mono.contains("\u{1B}[7m"), "the bars and the selection are reverse video instead")
        plain.keys("q")

        // A copy of the binary far from the repository still has every theme.
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-copy-\(getpid())")
        try? FileManager.default.removeItem(at: copy)
        try FileManager.default.copyItem(atPath: Tmux.binary, toPath: copy.path)
        defer { try? FileManager.default.removeItem(at: copy) }
        let colour = try Tmux(width: 100, height: 30)
        defer { colour.kill() }
        colour.start("\(copy.path) --demo --theme light", environment: "XDG_CONFIG_HOME=/nonexistent")
        _ = try await colour.waitFor("tenant rows") { Tmux.tenantRows($0) >= 10 }
        #expect(colour.capture(escapes: true).contains("48;5;231"), "the light theme's white background")
        colour.keys(":")
        colour.keys("theme nosuch", literal: true)
        colour.keys("Enter")
        _ = try await colour.waitFor("the refusal") { $0.contains("unknown theme \"nosuch\"") }
        colour.keys("Escape")
        colour.keys("q")
        #expect(try await colour.waitForExit() == "0")
        let unknown = try await Tmux.run(copy.path, ["--demo", "--theme", "nosuch"])
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown theme \"nosuch\": built in are default, light, mono"))
    }

    @Test func aThemeFileOfTheSameNameOverridesTheBuiltIn() async throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-xdg-\(getpid())")
        try FileManager.default.createDirectory(at: config.appendingPathComponent("tollgate/themes"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: config) }
        try "name = \"mine\"\n[roles.bar]\nfg = 1\nbg = 226\n".write(to: config.appendingPathComponent("tollgate/themes/default.toml"), atomically: true, encoding: .utf8)
        let t = try Tmux(width: 100, height: 30)
        defer { t.kill() }
        t.start("\(Tmux.binary) --demo", environment: "XDG_CONFIG_HOME=\(config.path)")
        _ = try await t.waitFor("tenant rows") { Tmux.tenantRows($0) >= 10 }
        #expect(t.capture(escapes: true).contains("48;5;226"), "the bar in the override's colour")
        t.keys("q")
    }

    /// Storms of resizes (SIGWINCH) from 20x5 to 300x100 under every screen, an overlay and a
    /// dialog: the console stays up and settles on a whole frame of the final size; in the C
    /// locale as well (the screen stays UTF-8).
    @Test(arguments: ["", "LANG=C LC_ALL=C"])
    func resizeStormsUnderEveryScreen(_ locale: String) async throws {
        let t = try Tmux(width: 100, height: 30)
        defer { t.kill() }
        t.start("\(Tmux.binary) --demo", environment: locale)
        _ = try await t.waitFor("tenant rows") { Tmux.tenantRows($0) >= 10 }
        let sizes = [(20, 5), (300, 100), (33, 7), (200, 50), (81, 25), (21, 6), (150, 40), (80, 24), (299, 99), (40, 12)]
        func storm(_ name: String, _ ok: @escaping (String) -> Bool) async throws {
            for round in 0..<3 {
                for (w, h) in sizes { _ = try Tmux.tmux(["-L", t.socket, "resize-window", "-t", "0", "-x", "\(w)", "-y", "\(h + round % 2)"]) }
            }
            _ = try Tmux.tmux(["-L", t.socket, "resize-window", "-t", "0", "-x", "100", "-y", "30"])
            let screen = try await t.waitFor("\(name) after the storm") { ok($0) && $0.split(separator: "\n").count <= 30 }
            #expect(screen.split(separator: "\n").allSatisfy { $0.count <= 100 }, "\(name): a line wider than the window")
            #expect(!FileManager.default.fileExists(atPath: t.dir.appendingPathComponent("status").path), "\(name): the console ended")
        }
        try await storm("the overview") { Tmux.tenantRows($0) >= 10 && $0.contains("tollgate") }
        t.keys("Enter")
        try await storm("the detail") { $0.contains("‹ overview") && $0.contains("BUDGET 20") }
        t.keys("t")
        try await storm("the throttle dialog") { $0.lowercased().contains("reason") }
        t.keys("Escape")
        t.keys("?")
        try await storm("the help") { $0.contains("COMMAND MODE") }
        t.keys("Escape")
        for command in ["keys", "audit", "usage", "noisy", "expiring"] {
            t.keys(":")
            t.keys(command, literal: true)
            t.keys("Enter")
            try await storm(":\(command)") { $0.contains("tollgate") && $0.contains("‹") }
        }
        t.keys("q")
        #expect(try await t.waitForExit() == "0")
        try await t.expectSaneTerminal()
    }

    @Test func tooSmallTerminalSaysSo() async throws {
        let t = try Tmux(width: 60, height: 20)
        defer { t.kill() }
        t.start("\(Tmux.binary) --demo")
        let screen = try await t.waitFor("too-small message") { $0.contains("terminal too small") }
        #expect(screen.contains("60x20, tollgate needs at least 80x24"))
        t.keys("q")
        #expect(try await t.waitForExit() == "0")
    }

    @Test func badFlagsExitTwoWithAClearMessage() async throws {
        let out = try await Tmux.run(Tmux.binary, ["--demo", "--refresh", "0"])
        #expect(out.status == 2)
        #expect(out.stderr.contains("--refresh"))
        let noBackend = try await Tmux.run(Tmux.binary, [])
        #expect(noBackend.status == 2)
        #expect(noBackend.stderr.contains("--demo"))
        let theme = try await Tmux.run(Tmux.binary, ["--demo", "--theme", "../../etc/passwd\u{1B}[2J"])
        #expect(theme.status == 2)
        #expect(!theme.stderr.contains("\u{1B}"))
    }
}

/// A private tmux server with one window running a command, plus the files the wrapper writes:
/// the pid, the exit status, and `stty -a` after the program ended.
final class Tmux {
    static var binary: String {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent().appendingPathComponent("tollgate").path
    }

    let socket: String
    let dir: URL
    private var serverPID: pid_t = 0

    init(width: Int, height: Int) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else {
            throw Failure("tmux is not installed: `make test` installs it (apt-get install tmux)")
        }
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else { throw Failure("no binary at \(Self.binary)") }
        socket = "tollgate-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(socket)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // The tmux server outlives this call and would hold a pipe open: no capture here.
        _ = try Self.tmux(["-L", socket, "-f", "/dev/null", "new-session", "-d", "-x", "\(width)", "-y", "\(height)", "sh"], capture: false)
        _ = try Self.tmux(["-L", socket, "set-option", "-g", "status", "off"])
        serverPID = pid_t(try Self.tmux(["-L", socket, "display-message", "-p", "#{pid}"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// Runs `command` in the window with TERM set to `term` and `environment` (`NAME=value ...`);
    /// NO_COLOR, which `swift test` sets, only when `environment` says so.
    func start(_ command: String, term: String = "xterm-256color", environment: String = "") {
        let d = dir.path
        let script = "clear; env -u NO_COLOR TERM=\(term) \(environment) sh -c 'echo $$ > \(d)/pid; exec \(command)' 2>\(d)/stderr; echo $? > \(d)/status.tmp; stty -a > \(d)/stty; mv \(d)/status.tmp \(d)/status"
        keys(script, literal: true)
        keys("Enter")
    }

    func keys(_ k: String, literal: Bool = false) {
        _ = try? Self.tmux(["-L", socket, "send-keys", "-t", "0"] + (literal ? ["-l", k] : [k]))
    }

    /// The screen's text; with `escapes`, the colours and attributes as escape sequences too.
    func capture(escapes: Bool = false) -> String {
        (try? Self.tmux(["-L", socket, "capture-pane", "-p"] + (escapes ? ["-e"] : []) + ["-t", "0"]).stdout) ?? ""
    }

    /// Polls the screen until `ok` holds; fails with the last screen after 20 s. Sleeps with
    /// `Task.sleep`, so a waiting test leaves Swift's pool (a thread per core) to the others.
    func waitFor(_ what: String, _ ok: (String) -> Bool) async throws -> String {
        var screen = ""
        for _ in 0..<200 {
            screen = capture()
            if ok(screen) { return screen }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw Failure("waited for \(what); screen was:\n\(screen)\nstderr: \((try? String(contentsOf: dir.appendingPathComponent("stderr"), encoding: .utf8)) ?? "")")
    }

    func waitForFile(_ name: String) async throws -> String {
        for _ in 0..<200 {
            if let s = try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8), !s.isEmpty { return s }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw Failure("no \(name) file; screen was:\n\(capture())")
    }

    func waitForExit() async throws -> String {
        try await waitForFile("status").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// After the program: canonical mode and echo are back, the cursor is visible and the
    /// alternate screen is gone.
    func expectSaneTerminal() async throws {
        let stty = try await waitForFile("stty")
        #expect(stty.contains(" icanon") && !stty.contains("-icanon"), "terminal left in raw mode: \(stty)")
        #expect(stty.contains(" echo ") && !stty.contains("-echo "), "echo left off: \(stty)")
        let alt = try Self.tmux(["-L", socket, "display-message", "-p", "-t", "0", "#{alternate_on}"]).stdout
        #expect(alt.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "still on the alternate screen")
        let cursor = try Self.tmux(["-L", socket, "display-message", "-p", "-t", "0", "#{cursor_flag}"]).stdout
        #expect(cursor.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "cursor left hidden")
    }

    func kill() {
        _ = try? Self.tmux(["-L", socket, "kill-server"])
        if serverPID > 0 { Glibc.kill(serverPID, SIGKILL) }   // never leave a server behind
        try? FileManager.default.removeItem(at: dir)
    }

    /// Table rows: lines that start with a tenant id and end with key counts.
    static func tenantRows(_ screen: String) -> Int {
        screen.split(separator: "\n").filter { line in
            let fields = line.split(separator: " ")
            guard let first = fields.first, fields.count >= 6 else { return false }
            return first.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" } && (line.contains("active") || line.contains("susp"))
        }.count
    }

    struct Output { let status: Int32; let stdout: String; let stderr: String }

    /// Runs a program to completion with posix_spawn and waitpid (Foundation's Process does not
    /// reap a client whose forked server keeps running), waiting off Swift's pool. Output goes
    /// through temporary files, so a child that leaves a descendant holding the descriptors
    /// cannot block the read.
    @discardableResult
    static func run(_ path: String, _ args: [String], capture: Bool = true) async throws -> Output {
        let (out, err) = outputFiles()
        defer { unlink(out); unlink(err) }
        let code = await Child.exit(try Child.spawn(path, args, stdout: capture ? out : "/dev/null", stderr: capture ? err : "/dev/null"))
        return Output(status: code, stdout: capture ? read(out) : "", stderr: capture ? read(err) : "")
    }

    /// A tmux command of this test's server: quick, so waited for in place.
    @discardableResult
    static func tmux(_ args: [String], capture: Bool = true) throws -> Output {
        let (out, err) = outputFiles()
        defer { unlink(out); unlink(err) }
        let code = Child.wait(try Child.spawn("/usr/bin/tmux", args, stdout: capture ? out : "/dev/null", stderr: capture ? err : "/dev/null"))
        return Output(status: code, stdout: capture ? read(out) : "", stderr: capture ? read(err) : "")
    }

    private static func outputFiles() -> (String, String) {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-run-\(UUID().uuidString)").path
        return (tmp + ".out", tmp + ".err")
    }

    private static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }
}
