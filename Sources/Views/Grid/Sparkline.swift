/// A one-line chart of non-negative values: ▁▂▃▄▅▆▇█, scaled to the largest value; zero is a
/// space, a missing sample a dotted `·`.
public enum Sparkline {
    static let bars = Array("▁▂▃▄▅▆▇█")

    public static func text(_ values: [Int]) -> String {
        series(values.map { Double($0) })
    }

    public static func series(_ values: [Double?]) -> String {
        let top = values.compactMap { $0 }.max() ?? 0
        return String(values.map { v -> Character in
            guard let v else { return "·" }
            guard v > 0, top > 0 else { return " " }
            return bars[min(bars.count - 1, max(0, Int((v / top * Double(bars.count)).rounded(.up)) - 1))]
        })
    }
}
