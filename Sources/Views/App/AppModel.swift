import Backends

/// The whole console state, updated by messages: `update(msg) -> [Effect]`. Pure: no I/O.
public struct AppModel: Sendable {
    public var overview = OverviewModel()
    public var width: Int
    public var height: Int
    public var now: Double
    /// Where the data comes from, e.g. `demo` or `redis://127.0.0.1:6379`.
    public var source: String
    /// Why the last refresh failed and when it did; cleared by the next good snapshot.
    public private(set) var lastError: (message: String, at: Double)?
    public var showHelp = false
    /// Why actions are refused (read-only, role), or nil: the footer greys them out and says why.
    public var actionsRefused: String?
    public var dialog: ThrottleDialog?
    /// The last action's outcome, shown in the footer until the next key.
    public private(set) var flash: (text: String, failed: Bool)?
    /// Text under the title, e.g. "read-only" or the operator; empty when nothing to say.
    public var badges: [String] = []

    public static let minWidth = 80
    public static let minHeight = 24

    public init(width: Int, height: Int, now: Double, source: String) {
        self.width = width
        self.height = height
        self.now = now
        self.source = source
    }

    public var tooSmall: Bool { width < Self.minWidth || height < Self.minHeight }
    /// Table body rows at the current size: header bar, column header, footer take three.
    public var tableRows: Int { max(1, height - 3) }

    public mutating func update(_ msg: Msg) -> [Effect] {
        switch msg {
        case .fleet(let snapshot):
            overview.visibleRows = tableRows
            overview.apply(snapshot)
            lastError = nil
            now = max(now, snapshot.takenAt)
        case .fleetFailed(let message, let at):
            lastError = (message, at)
            now = max(now, at)
        case .tick(let t):
            now = t
        case .resize(let w, let h):
            width = w
            height = h
            overview.visibleRows = tableRows
            overview.move(by: 0)
        case .actionFinished(let text, let failed):
            flash = (text, failed)
            return failed ? [] : [.refreshNow]
        case .key(let key):
            if var d = dialog {
                switch d.handle(key) {
                case .editing: dialog = d
                case .cancelled: dialog = nil
                case .submit(let request):
                    dialog = nil
                    flash = ("\(request.name) \(request.tenant): working…", false)
                    return [.perform(request)]
                }
                return []
            }
            flash = nil
            if showHelp, key != .char("q"), key != .ctrlC {
                showHelp = false
                return []
            }
            guard let action = Bindings.action(for: key, in: Bindings.overview) else { return [] }
            return perform(action)
        }
        return []
    }

    private mutating func perform(_ action: Action) -> [Effect] {
        overview.visibleRows = tableRows
        switch action {
        case .down: overview.move(by: 1)
        case .up: overview.move(by: -1)
        case .pageDown: overview.page(by: 1)
        case .pageUp: overview.page(by: -1)
        case .top: overview.home()
        case .bottom: overview.end()
        case .sortNext: overview.sortNext()
        case .sortReverse: overview.sortReverse()
        case .refresh: return [.refreshNow]
        case .throttle:
            if let why = actionsRefused {
                flash = ("throttle: \(why)", true)
            } else if let t = overview.selectedTenant {
                dialog = ThrottleDialog(tenant: t.id)
            }
        case .help: showHelp.toggle()
        case .quit: return [.quit]
        }
        return []
    }

    /// Seconds since the data on screen was read, or `nil` before the first snapshot.
    public var dataAge: Double? { overview.snapshot.map { max(0, now - $0.takenAt) } }
}
