import Backends

/// The throttle dialog of the overview: limit, duration and reason for the selected tenant, on
/// all routes. Pure state: typing edits the focused field, Enter validates and yields a request.
public struct ThrottleDialog: Equatable, Sendable {
    public let tenant: TenantID
    public var fields: [(label: String, text: String)] = [("limit", ""), ("for", "30m"), ("reason", "")]
    public var focus = 0
    public var error: String?

    public init(tenant: TenantID) { self.tenant = tenant }

    public static func == (a: ThrottleDialog, b: ThrottleDialog) -> Bool {
        a.tenant == b.tenant && a.focus == b.focus && a.error == b.error && a.fields.map(\.text) == b.fields.map(\.text)
    }

    public enum Outcome: Equatable, Sendable { case editing, cancelled, submit(ActionRequest) }

    public mutating func handle(_ key: Key) -> Outcome {
        switch key {
        case .escape: return .cancelled
        case .tab, .down: focus = (focus + 1) % fields.count
        case .up: focus = (focus + fields.count - 1) % fields.count
        case .backspace: if !fields[focus].text.isEmpty { fields[focus].text.removeLast() }
        case .char(let c) where fields[focus].text.count < 200 && !c.unicodeScalars.contains(where: SafeText.isUnsafe):
            fields[focus].text.append(c)
        case .enter:
            switch validate() {
            case .success(let request): return .submit(request)
            case .failure(let e): error = e.description
            }
        default: break
        }
        return .editing
    }

    func validate() -> Result<ActionRequest, ValidationError> {
        guard let limit = Int(fields[0].text), limit >= 0 else {
            return .failure(ValidationError(field: "limit", value: fields[0].text, rule: "must be a whole number >= 0"))
        }
        let seconds: Int64
        do { seconds = try TimeSpan.seconds(fields[1].text, field: "for") } catch { return .failure(error) }
        guard seconds > 0 else { return .failure(ValidationError(field: "for", value: fields[1].text, rule: "a throttle must expire")) }
        let reason = fields[2].text.trimmingCharacters(in: " ")
        do { try ActionRequest.checkReason(reason) } catch { return .failure(error) }
        return .success(.throttleSet(tenant, .all, limit: limit, duration: seconds, reason: reason))
    }

    /// Draws the dialog centred on the grid.
    public func draw(into grid: inout Grid) {
        let w = min(grid.width - 4, 64), h = 9
        let x0 = (grid.width - w) / 2, y0 = max(0, (grid.height - h) / 2)
        grid.fill(Rect(x: x0, y: y0, width: w, height: h), role: .normal)
        grid.put(String(repeating: "─", count: w), x: x0, y: y0, role: .accent)
        grid.put(" throttle \(tenant) on all routes ", x: x0 + 2, y: y0, role: .title)
        for (i, f) in fields.enumerated() {
            let y = y0 + 2 + i
            grid.put(Fit.text(f.label, 7, .right), x: x0 + 2, y: y, role: i == focus ? .accent : .dim)
            grid.put(Fit.text(f.text + (i == focus ? "▏" : ""), w - 13), x: x0 + 11, y: y, role: i == focus ? .selected : .normal)
        }
        if let error { grid.put(error, x: x0 + 2, y: y0 + 6, role: .error, maxWidth: w - 4) }
        grid.put(String(repeating: "─", count: w), x: x0, y: y0 + h - 1, role: .accent)
        grid.put(" Enter throttle · Tab next field · Esc cancel ", x: x0 + 2, y: y0 + h - 1, role: .dim)
    }
}

extension String {
    func trimmingCharacters(in c: Character) -> String {
        var s = Substring(self)
        while s.first == c { s.removeFirst() }
        while s.last == c { s.removeLast() }
        return String(s)
    }
}
