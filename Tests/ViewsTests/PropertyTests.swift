import Backends
import PropertyBased
import Testing
import TestSupport
@testable import Views

/// The console's own parsers and its grid, with hostile input (Tests/Support/Hostile.swift).
@Suite struct ViewsPropertyTests {
    /// Text of any kind put anywhere: nothing unsafe in a cell, no cell outside the grid, and no
    /// half of a wide character left without its other half.
    @Test func theGridHoldsOnlySafeWholeCharacters() async {
        let input = zip(Hostile.string, Gen.int(in: -5...30), Gen.int(in: 0...40))
        await propertyCheck(count: 1500, input: input) { (text: String, x: Int, maxWidth: Int) in
            var grid = Grid(width: 24, height: 2)
            _ = grid.put("wide 表表表 cells", x: 0, y: 0)
            let used = grid.put(text, x: x, y: 0, maxWidth: maxWidth)
            #expect(used <= max(0, min(maxWidth, 24 - x)) + max(0, -x) || x < 0)
            for col in 0..<grid.width {
                let cell = grid[col, 0]
                if cell.isContinuation {
                    #expect(col > 0 && !grid[col - 1, 0].isContinuation && DisplayWidth.of(Character(grid[col - 1, 0].text)) == 2)
                } else {
                    #expect(!Hostile.hasUnsafe(cell.text))
                }
            }
        }
    }

    @Test func commandsParseOrGiveACleanReason() async {
        let words = Gen.element(of: ["tenant", "audit", "usage", "keys", "ctx", "theme", "filter", "q", "help", " ", "acme", "sim-0001", "k_1", "--", ""])
        let input = zip(Hostile.string, words.map { $0 ?? "" }, Gen.bool)
        await propertyCheck(count: 2000, input: input) { (text: String, word: String, prefixed: Bool) in
            if case .failure(let e) = Commands.parse(prefixed ? word + " " + text : text) { #expect(!Hostile.hasUnsafe(e.description)) }
        }
    }

    /// Theme files of any content: a theme or an error naming the problem, shown clean.
    @Test func themesParseOrGiveACleanReason() async {
        let keys = Gen.element(of: ["name", "[roles.normal]", "[roles.bad]", "fg", "bg", "bold", "[palette]", "accent", "= \"#ff00ff\"", "= 196", "= true", "=", "\"", "[", "]"])
        let line = zip(keys.map { $0 ?? "" }, Hostile.string).map { (k: String, v: String) in k + " " + v }
        await propertyCheck(count: 1000, input: line.array(of: 0...8)) { (lines: [String]) in
            do { _ = try Theme.parse(lines.joined(separator: "\n"), source: "fuzz.toml") } catch let error as Theme.ParseError { #expect(!Hostile.hasUnsafe(error.description)) } catch { Issue.record("\(error)") }
        }
    }
}
