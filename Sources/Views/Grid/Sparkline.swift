/// A one-line chart of non-negative values: ▁▂▃▄▅▆▇█, scaled to the largest value; zero is a space.
public enum Sparkline {
    static let bars = Array("▁▂▃▄▅▆▇█")

    public static func text(_ values: [Int]) -> String {
        let top = max(1, values.max() ?? 1)
        return String(values.map { v -> Character in
            guard v > 0 else { return " " }
            return bars[min(bars.count - 1, (v * bars.count - 1) / top)]
        })
    }
}
