import Backends
import Foundation
import Testing
@testable import Views

@Suite struct GridTests {
    @Test func wideCharactersTakeTwoCells() {
        var g = Grid(width: 6, height: 1)
        let used = g.put("数据x", x: 0, y: 0)
        #expect(used == 5)
        #expect(g[1, 0].isContinuation && g[3, 0].isContinuation)
        #expect(g.text == "数据x\n")
    }

    @Test func wideCharacterThatDoesNotFitIsNotHalfDrawn() {
        var g = Grid(width: 3, height: 1)
        #expect(g.put("a数据", x: 0, y: 0) == 3)
        var h = Grid(width: 4, height: 1)
        #expect(h.put("ab数", x: 1, y: 0) == 2)
        #expect(h.text == " ab\n")
    }

    @Test func controlCharactersAreNeverWrittenRaw() {
        var g = Grid(width: 40, height: 1)
        g.put("x\u{1B}]0;pwned\u{7}\u{1B}[2J\u{202E}y", x: 0, y: 0)
        for c in g.cells { #expect(!c.text.unicodeScalars.contains { SafeText.isUnsafe($0) }) }
        #expect(g.text.hasPrefix("x\\x1B]0;pwned\\x07\\x1B[2J"))
    }

    @Test func displayWidths() {
        #expect(DisplayWidth.of("abc") == 3)
        #expect(DisplayWidth.of("日本") == 4)
        #expect(DisplayWidth.of("e\u{301}") == 1)
        #expect(DisplayWidth.of("👩‍💻") == 2)
        #expect(DisplayWidth.of("❤️") == 2)
        #expect(DisplayWidth.of("ｱ") == 1)   // halfwidth katakana
    }

    @Test func fitTruncatesWithEllipsis() {
        #expect(Fit.text("chat.completions", 8) == "chat.co…")
        #expect(Fit.text("42", 5, .right) == "   42")
        #expect(Fit.text("数据中心", 5) == "数据…")
        #expect(DisplayWidth.of(Fit.text("数据中心", 6)) == 6)
    }

    @Test func formats() {
        #expect(Format.count(9_999) == "9999")
        #expect(Format.count(12_345) == "12k")
        #expect(Format.count(1_250_000) == "1.2M")
        #expect(Format.duration(59) == "59s")
        #expect(Format.duration(3_725) == "1h02m")
        #expect(Format.duration(2 * 86_400 + 3 * 3600) == "2d03h")
        #expect(Format.duration(-5) == "0s")
        #expect(Format.percent(87.9) == "87%")
        #expect(Format.percent(0.42) == "0.4%")
    }
}

@Suite struct ThemeTests {
    /// Found by the property tests: the TOML parser TOMLKit bundles aborts the process on a table
    /// header starting with `é`, `#`, `=` or a control character. They are refused first.
    @Test(arguments: ["[é]", "[ #]", "[[\u{1B}]]", "name = \"x\"\n\t[=]", "[.]", "[ \né]", "[\r\né]"])
    func headersTheTOMLParserWouldAbortOnAreRefused(_ text: String) {
        #expect(throws: Theme.ParseError.self) { try Theme.parse(text, source: "t.toml") }
    }

    @Test func parsesAThemeFile() throws {
        let t = try Theme.parse("""
        name = "t"
        [roles.bar]
        fg = "white"
        bg = 236
        attrs = ["bold", "reverse"]
        """, source: "t.toml")
        #expect(t.name == "t")
        #expect(t.style(.bar).fg == .index(7) && t.style(.bar).bg == .index(236))
        #expect(t.style(.bar).bold && t.style(.bar).reverse)
        #expect(t.style(.normal) == Theme.Style())
    }

    @Test(arguments: [
        ("[roles.bar]\nfg = \"chartreuse\"", "unknown colour \"chartreuse\""),
        ("[roles.bar]\nfg = 300", "out of range"),
        ("[roles.nope]\nfg = 1", "unknown role \"nope\""),
        ("[roles.bar]\nattrs = [\"blink\"]", "unknown attribute"),
        ("roles = [", "not valid TOML"),
        ("name = \"x\"", "missing [roles"),
    ])
    func refusesBadThemes(_ text: String, _ message: String) {
        #expect {
            _ = try Theme.parse(text, source: "bad.toml")
        } throws: { error in
            "\(error)".contains(message) && "\(error)".contains("bad.toml")
        }
    }

    @Test func everyShippedThemeIsBuiltIntoTheBinary() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("themes")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) }.sorted()
        #expect(files == ["default", "light", "mono"])
        #expect(Theme.builtinNames == files)
        for name in files {
            let fromFile = try Theme.parse(try String(contentsOf: dir.appendingPathComponent("\(name).toml"), encoding: .utf8), source: name)
            let builtIn = try #require(try Theme.builtin(name))
            #expect(builtIn.styles == fromFile.styles && builtIn.name == name)
        }
        #expect(try Theme.builtin("nope") == nil)
    }

    @Test func fewerColoursKeepMeaningNotLooks() throws {
        let theme = try #require(try Theme.builtin("default"))
        #expect(theme.forTerminal(colors: 256) == theme)
        let eight = theme.forTerminal(colors: 8)
        #expect(eight.style(.bad).fg == .index(1) && eight.style(.bad).bold, "red stays red")
        #expect(eight.style(.good).fg == .index(2))
        #expect(eight.style(.bar) == Theme.mono.style(.bar), "backgrounds become the monochrome attributes")
        #expect(eight.style(.selected).reverse)
        #expect(theme.forTerminal(colors: 0) == Theme.mono)
        #expect(Theme.nearestBasic(196) == 1 && Theme.nearestBasic(244) == 7 && Theme.nearestBasic(236) == 0 && Theme.nearestBasic(9) == 1)
        #expect(eight.style(.dim).fg == .index(7) && eight.style(.dim).dim)
    }
}

@Suite struct DiffTests {
    func grid(_ lines: [String], role: Role = .normal) -> Grid {
        var g = Grid(width: lines.map { DisplayWidth.of($0) }.max() ?? 0, height: lines.count)
        for (y, l) in lines.enumerated() { g.put(l, x: 0, y: y, role: role) }
        return g
    }

    /// Applies spans to a grid as a terminal would.
    func apply(_ spans: [Span], to old: Grid?, size: Grid) -> Grid {
        var g = old ?? Grid(width: size.width, height: size.height)
        for s in spans { g.put(s.text, x: s.x, y: s.y, role: s.role, maxWidth: s.width) }
        return g
    }

    @Test func withoutAnOldGridEveryCellIsWritten() {
        let g = grid(["ab", "cd"])
        let spans = g.diff(from: nil)
        #expect(spans == [Span(x: 0, y: 0, text: "ab", width: 2, role: .normal), Span(x: 0, y: 1, text: "cd", width: 2, role: .normal)])
        #expect(g.diff(from: Grid(width: 3, height: 2)).count == 2, "a different size repaints")
    }

    @Test func onlyWhatChangedIsWritten() {
        let old = grid(["hello world, this is a line"])
        #expect(old.diff(from: old).isEmpty)
        var new = old
        new.put("J", x: 0, y: 0)
        #expect(new.diff(from: old) == [Span(x: 0, y: 0, text: "J", width: 1, role: .normal)])
        new.put("W", x: 3, y: 0)   // 2 unchanged cells between: bridged
        #expect(new.diff(from: old) == [Span(x: 0, y: 0, text: "JelW", width: 4, role: .normal)])
        new.put("!", x: 20, y: 0)  // far away: a span of its own
        #expect(new.diff(from: old).count == 2)
        var styled = old
        styled.paint(Rect(x: 2, y: 0, width: 2, height: 1), role: .selected)
        #expect(styled.diff(from: old) == [Span(x: 2, y: 0, text: "ll", width: 2, role: .selected)])
    }

    @Test func overwritingHalfAWideCharacterBlanksTheOtherHalf() {
        var g = grid(["a数b"])
        g.put("x", x: 2, y: 0)
        #expect(g.text == "a xb\n" && !g[2, 0].isContinuation)
        var h = grid(["a数b"])
        h.put("y", x: 1, y: 0)
        #expect(h.text == "ay b\n")
    }

    @Test func aWideCharacterIsWrittenWhole() {
        let old = grid(["a数b"])
        var new = old
        new[2, 0] = Cell(Cell.continuation, .selected)   // only the continuation's role changed
        let spans = new.diff(from: old)
        #expect(spans.first?.x == 1 && spans.first?.text.contains("数") == true)
    }

    @Test func applyingTheSpansGivesTheNewGrid() {
        var rng = SystemRandomNumberGenerator()
        let pieces = ["a", "bc", "数", "👩‍💻", " ", "xyz", "é"]
        for _ in 0..<300 {
            var old = Grid(width: 23, height: 4), new = Grid(width: 23, height: 4)
            for _ in 0..<12 {
                old.put(pieces.randomElement(using: &rng)!, x: Int.random(in: 0..<23, using: &rng), y: Int.random(in: 0..<4, using: &rng),
                        role: Role.allCases.randomElement(using: &rng)!)
            }
            new = old
            for _ in 0..<Int.random(in: 0..<8, using: &rng) {
                new.put(pieces.randomElement(using: &rng)!, x: Int.random(in: 0..<23, using: &rng), y: Int.random(in: 0..<4, using: &rng),
                        role: Role.allCases.randomElement(using: &rng)!)
            }
            #expect(apply(new.diff(from: old), to: old, size: new).text == new.text)
            #expect(apply(new.diff(from: nil), to: nil, size: new).text == new.text)
        }
    }
}

@Suite struct WidgetTests {
    @Test func barsAndGauges() {
        #expect(Bar.text(0, width: 4) == "░░░░")
        #expect(Bar.text(0.5, width: 4) == "██░░")
        #expect(Bar.text(1.7, width: 4) == "████")
        #expect(Bar.text(0.3, width: 4) == "█▎░░")
        #expect(Bar.gauge(0.1, mark: 0.8, width: 10) == "█░░░░░░░│░")
        #expect(Bar.text(.infinity, width: 3) == "███")
    }

    @Test func lineEditing() {
        var e = LineEditor("hello world")
        let edited = e.handle(.ctrl("w"))
        #expect(edited && e.text == "hello ")
        _ = e.handle(.home)
        _ = e.handle(.char(">"))
        #expect(e.text == ">hello " && e.cursor == 1)
        _ = e.handle(.end)
        _ = e.handle(.backspace)
        #expect(e.text == ">hello")
        _ = e.handle(.char("\u{1B}"))
        _ = e.handle(.char("\u{202E}"))
        #expect(e.text == ">hello", "control and bidi characters cannot be typed")
        _ = e.handle(.ctrl("u"))
        #expect(e.text.isEmpty)
        let enter = e.handle(.enter)
        #expect(!enter, "Enter is not an edit")
        var short = LineEditor("", limit: 3)
        for c in "abcdef" { _ = short.handle(.char(c)) }
        #expect(short.text == "abc")
    }

    @Test func instantsReadAsPeopleOnCallSayThem() {
        let now = 1_795_800_047.0   // 2026-11-27T17:20:47Z
        #expect(Format.when(1_795_800_047 + 3600, now: now) == "18:20 UTC")
        #expect(Format.when(1_795_800_047 + 12 * 3600, now: now) == "tomorrow 05:20 UTC")
        #expect(Format.when(1_795_800_047 + 5 * 86_400, now: now) == "Dec 02 17:20 UTC")
        #expect(Format.when(1_795_800_047 + 60 * 86_400, now: now) == "2027-01-26 17:20 UTC")
        #expect(Format.rate(0.42) == "0.4" && Format.rate(1_234) == "1234" && Format.rate(12_345) == "12k")
        #expect(Format.shortDuration(725) == "12m" && Format.shortDuration(3 * 86_400) == "3d")
    }
}

@Suite struct SparklineTests {
    @Test func scalesToTheLargestValue() {
        #expect(Sparkline.text([0, 1, 4, 8]) == " ▁▄█")
        #expect(Sparkline.text([5, 5]) == "██")
        #expect(Sparkline.text([]) == "")
    }
}

