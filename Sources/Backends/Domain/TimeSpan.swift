/// Lengths of time typed by people: `90s`, `30m`, `24h`, `7d`, `2w`; `0` is zero.
public enum TimeSpan {
    public static let rule = "must be a whole number followed by s, m, h, d or w (e.g. 30m, 24h, 90d), or 0"

    public static func seconds(_ text: String, field: String) throws(ValidationError) -> Int64 {
        if text == "0" { return 0 }
        guard let unit = text.last, let n = parseDecimal(text.dropLast()), n <= 10_000_000 else {
            throw ValidationError(field: field, value: text, rule: rule)
        }
        let scale: Int64
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86_400
        case "w": scale = 7 * 86_400
        default: throw ValidationError(field: field, value: text, rule: rule)
        }
        return Int64(n) * scale
    }

    /// An instant: a span back from `now` (`1h`), epoch seconds (`1795800000`), or
    /// `YYYY-MM-DDTHH:MM:SSZ` in UTC.
    public static func instant(_ text: String, now: Int64, field: String) throws(ValidationError) -> Int64 {
        if let epoch = parseDecimal(text), text.count >= 9 { return Int64(epoch) }
        if text.count == 20, text.hasSuffix("Z") {
            let b = Array(text.utf8)
            func num(_ r: Range<Int>) -> Int? { parseDecimal(String(decoding: b[r], as: UTF8.self)) }
            if b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A,
               let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13), let mi = num(14..<16), let s = num(17..<19),
               (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 60 {
                return CivilDate.epochSeconds(year: y, month: mo, day: d) + Int64(h * 3600 + mi * 60 + s)
            }
        }
        do { return now - (try seconds(text, field: field)) } catch {
            throw ValidationError(field: field, value: text, rule: "must be a span back from now (1h, 7d), epoch seconds, or YYYY-MM-DDTHH:MM:SSZ")
        }
    }
}
