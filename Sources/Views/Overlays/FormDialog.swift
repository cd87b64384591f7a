import Backends

/// What a form gives when it is submitted: an operator action for the action layer, or an audit
/// query for the screen that asked (its filter).
public enum FormResult: Equatable, Sendable {
    case action(ActionRequest)
    case auditQuery(AuditQuery)
}

/// A dialog that is a form over one of the builders in Backends (a request builder, the audit
/// query's): the fields are what the builder takes, Enter runs the builder, and its error (naming
/// the field and the rule) stays in the dialog with the field focused. The dialog says in plain
/// words what submitting will do. Pure state; the result goes to the app.
public struct FormDialog: Sendable {
    public struct Field: Sendable {
        /// The builder's name for it, as `ValidationError.field` names it.
        public let name: String
        public var editor: LineEditor
        public let hint: String

        public init(_ name: String, _ text: String = "", hint: String = "", limit: Int = 200) {
            self.name = name
            editor = LineEditor(text, limit: limit)
            self.hint = hint
        }
    }

    /// A second request the dialog offers on a control key, e.g. clearing the throttle in force.
    public struct Alternate: Sendable {
        public let key: Key
        public let label: String
        public let build: @Sendable ([String]) throws(ValidationError) -> ActionRequest
    }

    public enum Outcome: Sendable {
        case editing, cancelled, submit(FormResult)
    }

    public let title: String
    public let submitLabel: String
    /// What is in force now, shown above the fields.
    public let notes: [(String, Role)]
    public private(set) var fields: [Field]
    public private(set) var focus = 0
    public private(set) var error: String?
    public let alternate: Alternate?
    let build: @Sendable ([String]) throws(ValidationError) -> FormResult
    /// What submitting the values would do, in plain words; nil while they say nothing yet. It
    /// does not wait for a confirmation field: people read it before they confirm.
    let explain: @Sendable ([String]) -> String?

    /// `focus`: the field the cursor starts in; by default the first empty one.
    /// A form over an action's request builder.
    public init(title: String, submitLabel: String, notes: [(String, Role)], fields: [Field], alternate: Alternate? = nil, focus: Int? = nil,
                build: @escaping @Sendable ([String]) throws(ValidationError) -> ActionRequest,
                explain: @escaping @Sendable ([String]) -> String?) {
        self.init(title: title, submitLabel: submitLabel, notes: notes, fields: fields, alternate: alternate, focus: focus,
                  result: { v throws(ValidationError) in .action(try build(v)) }, explain: explain)
    }

    public init(title: String, submitLabel: String, notes: [(String, Role)], fields: [Field], alternate: Alternate? = nil, focus: Int? = nil,
                result build: @escaping @Sendable ([String]) throws(ValidationError) -> FormResult,
                explain: @escaping @Sendable ([String]) -> String?) {
        self.title = title
        self.submitLabel = submitLabel
        self.notes = notes
        self.fields = fields
        self.alternate = alternate
        self.build = build
        self.explain = explain
        self.focus = focus ?? fields.firstIndex { $0.editor.text.isEmpty } ?? 0
    }

    public var values: [String] { fields.map(\.editor.text) }

    /// What submitting would do, in plain words, or nil while the fields say nothing yet.
    public var preview: String? { explain(values) }

    public mutating func handle(_ key: Key) -> Outcome {
        switch key {
        case .escape, .ctrl("c"): return .cancelled
        case .tab, .down: focus = (focus + 1) % fields.count
        case .backTab, .up: focus = (focus + fields.count - 1) % fields.count
        case .enter: return submit(build)
        case let k where k == alternate?.key:
            if let alternate { return submit { v throws(ValidationError) in .action(try alternate.build(v)) } }
        default:
            if fields[focus].editor.handle(key) { error = nil }
        }
        return .editing
    }

    private mutating func submit(_ builder: @Sendable ([String]) throws(ValidationError) -> FormResult) -> Outcome {
        do throws(ValidationError) {
            return .submit(try builder(values))
        } catch {
            self.error = error.description
            if let i = fields.firstIndex(where: { $0.name == error.field }) { focus = i }
            return .editing
        }
    }

    public func draw(into grid: inout Grid) {
        let w = min(grid.width - 4, 76)
        let labelWidth = (fields.map { $0.name.count }.max() ?? 6) + 1
        let noteLines = notes.flatMap { note in Wrap.lines(note.0, width: w - 4).map { ($0, note.1) } }
        let preview = self.preview.map { Wrap.lines($0, width: w - 4) } ?? []
        let message = error.map { Wrap.lines($0, width: w - 4) } ?? []
        let h = min(grid.height - 2, 4 + noteLines.count + (noteLines.isEmpty ? 0 : 1) + fields.count + 1 + max(1, preview.count + message.count))
        let box = Box.centered(in: grid, width: w, height: h)
        var footer = "Enter \(submitLabel) · Tab next field · Esc cancel"
        if let alternate { footer += " · \(alternate.key.label) \(alternate.label)" }
        box.draw(into: &grid, title: title, footer: footer)
        let x0 = box.rect.x + 2, bottom = box.rect.y + box.rect.height - 1
        var y = box.rect.y + 2
        for (line, role) in noteLines where y < bottom {
            grid.put(line, x: x0, y: y, role: role, maxWidth: w - 4)
            y += 1
        }
        if !noteLines.isEmpty { y += 1 }
        for (i, f) in fields.enumerated() where y < bottom {
            grid.put(Fit.text(f.name, labelWidth, .right), x: x0, y: y, role: i == focus ? .accent : .dim)
            let fieldX = x0 + labelWidth + 1, fieldWidth = max(2, w - labelWidth - 5)
            if f.editor.text.isEmpty && i != focus {
                grid.put(f.hint, x: fieldX, y: y, role: .dim, maxWidth: fieldWidth)
            } else {
                f.editor.draw(into: &grid, x: fieldX, y: y, width: fieldWidth, role: .normal, focused: i == focus)
                if i == focus && f.editor.text.isEmpty && !f.hint.isEmpty {
                    grid.put(f.hint, x: fieldX + 2, y: y, role: .dim, maxWidth: fieldWidth - 2)
                }
            }
            y += 1
        }
        y += 1
        for line in message where y < bottom { grid.put(line, x: x0, y: y, role: .error, maxWidth: w - 4); y += 1 }
        for line in preview where y < bottom { grid.put(line, x: x0, y: y, role: .good, maxWidth: w - 4); y += 1 }
    }
}
