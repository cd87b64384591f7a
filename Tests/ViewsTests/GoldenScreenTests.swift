import Backends
import Foundation
import Testing
@testable import Views

/// Golden screens: the overview rendered from the seeded demo gateway at a fixed clock, compared
/// with text files under Golden/. Re-record with `TOLLGATE_RECORD_GOLDEN=1 swift test`.
@Suite struct GoldenScreenTests {
    static let instant = 1_795_800_047.25  // 2026-11-27T17:20:47Z, late in the minute

    func screen(width: Int, height: Int, keys: [Key] = []) async throws -> String {
        let gw = DemoGateway(seed: 42, clock: FixedClock(Self.instant))
        var app = AppModel(width: width, height: height, now: Self.instant, source: "demo (seed 42)")
        _ = app.update(.fleet(try await gw.fleet()))
        for k in keys { _ = app.update(.key(k)) }
        return AppView.render(app).text
    }

    func assertGolden(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name).txt")
        if ProcessInfo.processInfo.environment["TOLLGATE_RECORD_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(actual == expected, "screen differs from Golden/\(name).txt; re-record with TOLLGATE_RECORD_GOLDEN=1", sourceLocation: sourceLocation)
    }

    @Test func overview80x24() async throws {
        try assertGolden(try await screen(width: 80, height: 24), "overview-80x24")
    }

    @Test func overview132x40() async throws {
        try assertGolden(try await screen(width: 132, height: 40), "overview-132x40")
    }

    @Test func overviewSortedByResetAfterMoving() async throws {
        try assertGolden(try await screen(width: 100, height: 30, keys: [.char("s"), .char("s"), .char("s"), .char("s"), .char("s"), .char("j"), .char("j")]),
                         "overview-100x30-sorted")
    }

    @Test func helpOverlay() async throws {
        try assertGolden(try await screen(width: 80, height: 24, keys: [.char("?")]), "help-80x24")
    }

    @Test func tooSmall() async throws {
        let text = try await screen(width: 79, height: 24)
        #expect(text.contains("terminal too small"))
        #expect(text.contains("79x24, tollgate needs at least 80x24"))
        #expect(!text.contains("TENANT"))
    }
}
