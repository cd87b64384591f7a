import Backends

/// The whole console state, updated by messages: `update(msg) -> [Effect]`. Pure: no I/O.
/// Keys go to the overlay first, then to the current screen's bindings, then to the global ones.
public struct AppModel: Sendable {
    public private(set) var nav: Navigation
    public private(set) var overlay: Overlay?
    public private(set) var session: SessionInfo
    /// The newest fleet digest, from whichever screen last needed the fleet: command-mode
    /// completion and `:tenant` look tenants up in it.
    public private(set) var fleet: FleetDigest?
    public private(set) var feeds: [Feed: FeedStatus] = [:]
    /// One line in the footer until the next key: an action's outcome, why a key did nothing.
    public private(set) var flash: (text: String, failed: Bool)?
    /// Command-mode history, oldest first.
    public private(set) var history: [String] = []
    public private(set) var width: Int
    public private(set) var height: Int
    public private(set) var now: Double

    public static let minWidth = 80
    public static let minHeight = 24
    static let historyDepth = 100

    public init(width: Int, height: Int, now: Double, session: SessionInfo, root: any Screen = FleetScreen.overview) {
        self.width = width
        self.height = height
        self.now = now
        self.session = session
        nav = Navigation(root)
    }

    public var tooSmall: Bool { width < Self.minWidth || height < Self.minHeight }

    /// The live reads the current screen needs, of the stores this session has, that its policy
    /// allows (a viewer's tenant detail reads no audit events; the pane says why).
    public var needs: Set<Feed> {
        nav.current.needs.filter { session.has($0.store) && session.policy.refusal($0.access.kind, tenant: $0.access.tenant) == nil }
    }

    /// Two header lines above the screen, the footer below it.
    public var screenArea: Rect { Rect(x: 0, y: 2, width: width, height: max(1, height - 3)) }

    public var env: ScreenEnv { ScreenEnv(now: now, session: session, fleet: fleet, feeds: feeds, area: screenArea) }

    public mutating func update(_ msg: Msg) -> [Effect] {
        switch msg {
        case .key(let key):
            return press(key)
        case .tick(let t):
            now = max(now, t)
        case .resize(let w, let h):
            width = w
            height = h
        case .loaded(let feed, let data):
            var status = feeds[feed] ?? FeedStatus()
            status.lastOK = max(status.lastOK ?? 0, Self.time(of: data))
            if let f = status.failure, f.at <= status.lastOK! { status.failure = nil }
            feeds[feed] = status
            if case .fleet(let d) = data, d.generation > (fleet?.generation ?? 0) { fleet = d }
            let env = self.env
            return apply(nav.current.receive(feed, data, env))
        case .failed(let feed, let message, let at):
            feeds[feed, default: FeedStatus()].failure = (message, at)
            now = max(now, at)
        case .arranged(let a):
            let env = self.env
            nav.current.receive(a, env)
        case .actionFinished(let request, let result):
            return finished(request, result)
        case .themeChanged(let name):
            flash = ("theme \(name)", false)
        case .contextChanged(let info):
            session = info
            nav = Navigation(FleetScreen.overview)
            overlay = nil
            fleet = nil
            feeds = [:]
            flash = ("context \(info.context ?? "-"): \(info.source)", false)
        case .refused(let message):
            flash = (message, true)
        }
        return []
    }

    private static func time(of data: Loaded) -> Double {
        switch data {
        case .fleet(let d): d.takenAt
        case .tenant(let d): d.takenAt
        case .keys(_, let at), .audit(_, let at), .usage(_, let at), .expiring(_, let at), .auditTail(_, _, let at), .identity(_, let at): at
        }
    }

    // MARK: Keys

    private mutating func press(_ key: Key) -> [Effect] {
        flash = nil
        if tooSmall { return key == .char("q") || key == .ctrl("c") ? [.quit] : [] }
        if let overlay { return press(key, on: overlay) }
        let env = self.env
        let screen = nav.current.bindings(env)
        let global = Bindings.global(nav)
        guard let binding = Bindings.find(key, in: screen) ?? Bindings.find(key, in: global) else {
            flash = ("\(key.label) does nothing here; ? shows this screen's keys", true)
            return []
        }
        if let why = binding.disabled {
            flash = ("\(binding.description): \(why)", true)
            return []
        }
        switch binding.action {
        case .filter: overlay = .filter(FilterPrompt(nav.current.filter ?? "", searching: nav.current.textFilter == .search))
        case .command: overlay = .command(CommandPrompt())
        case .help: overlay = .help
        case .quit: return [.quit]
        case .refresh: return [.refresh]
        case .repaint: return [.repaint]
        case .back:
            if nav.current.filter != nil { return apply(nav.current.setFilter(nil, env)) }
            if nav.goBack() { return appear() }
        case .historyBack: if nav.goBack() { return appear() }
        case .historyForward: if nav.goForward() { return appear() }
        default: return apply(nav.current.perform(binding.action, env))
        }
        return []
    }

    private mutating func press(_ key: Key, on overlay: Overlay) -> [Effect] {
        switch overlay {
        case .help, .notice:
            self.overlay = nil   // any key closes it, q included
        case .secret(var s):
            if key == .char("y") {
                s.markCopied()
                self.overlay = .secret(s)
                return [.copy(s.plaintext)]
            }
            // Closed: the secret leaves the model, and the terminal is painted again from nothing.
            self.overlay = nil
            flash = ("the secret of \(s.key) is gone from the screen; it cannot be shown again", false)
            return [.repaint]
        case .form(var dialog):
            switch dialog.handle(key) {
            case .editing: self.overlay = .form(dialog)
            case .cancelled:
                self.overlay = nil
                flash = ("\(dialog.title): cancelled, nothing changed", false)
            case .submit(.action(let request)):
                self.overlay = nil
                flash = ("\(request.name) \(request.tenant): working…", false)
                return [.perform(request)]
            case .submit(let result):
                self.overlay = nil
                let env = self.env
                return apply(nav.current.submitted(result, env))
            }
        case .command(var prompt):
            switch prompt.handle(key, history: history, sources: Commands.Sources(fleet: fleet, themes: session.themes, contexts: session.contexts)) {
            case .editing: self.overlay = .command(prompt)
            case .cancelled: self.overlay = nil
            case .run(let text): return run(text, prompt)
            }
        case .filter(var prompt):
            let env = self.env
            switch prompt.handle(key) {
            case .editing(let changed):
                self.overlay = .filter(prompt)
                if changed { return apply(nav.current.setFilter(prompt.editor.text, env)) }
            case .keep:
                self.overlay = nil
                if prompt.editor.text.isEmpty { return apply(nav.current.setFilter(nil, env)) }
            case .clear:
                self.overlay = nil
                return apply(nav.current.setFilter(nil, env))
            }
        }
        return []
    }

    // MARK: Command mode

    private mutating func run(_ text: String, _ prompt: CommandPrompt) -> [Effect] {
        let line = text.split(separator: " ").joined(separator: " ")
        guard !line.isEmpty else { overlay = nil; return [] }
        var prompt = prompt
        let command: ConsoleCommand
        switch Commands.parse(line) {
        case .failure(let e):
            prompt.error = e.description
            overlay = .command(prompt)
            return []
        case .success(let c): command = c
        }
        var named: TenantID?
        switch command {
        case .tenant(let id): named = id
        case .keys(let id?), .audit(let id?), .usage(let id?, _): named = id
        case .keys(nil), .audit(nil), .usage(nil, _):
            guard let current = nav.current.subject else {
                let name = line.split(separator: " ").first.map(String.init) ?? "keys"
                prompt.error = ":\(name) needs a tenant id on this screen, e.g. :\(name) acme"
                overlay = .command(prompt)
                return []
            }
            named = current
        default: break
        }
        if let id = named {
            let kind: ReadKind = switch command { case .audit: .audit; case .usage: .usage; default: .tenants }
            if let why = session.policy.refusal(kind, tenant: id) {
                prompt.error = why
                overlay = .command(prompt)
                return [.auditRefusal(kind, id)]
            }
        }
        if let id = named, let fleet, fleet.index(of: id) == nil {
            prompt.error = "no tenant \(SafeText.quoted(id.rawValue)) among the \(fleet.count) tenants of this fleet"
            overlay = .command(prompt)
            return []
        }
        if history.last != line { history.append(line) }
        if history.count > Self.historyDepth { history.removeFirst() }
        overlay = nil
        switch command {
        case .tenant(let id):
            if (nav.current as? TenantDetailScreen)?.tenant != id { return open(TenantDetailScreen(id)) }
        case .keys:
            if let id = named, (nav.current as? KeysScreen)?.tenant != id { return open(KeysScreen(id)) }
        case .audit:
            if let id = named, (nav.current as? AuditScreen)?.tenant != id { return open(AuditScreen(id)) }
        case .usage(_, let key):
            if let id = named { return open(UsageScreen(id, key: key)) }
        case .expiring:
            if !(nav.current is ExpiringScreen) { return open(ExpiringScreen()) }
        case .noisy:
            if (nav.current as? FleetScreen)?.kind != .noisy { return open(FleetScreen(.noisy)) }
        case .overview:
            if (nav.current as? FleetScreen)?.kind != .overview { return open(FleetScreen.overview) }
        case .theme(let name): return [.theme(name)]
        case .context(let name): return [.context(name)]
        case .help: overlay = .help
        case .quit: return [.quit]
        }
        return []
    }

    // MARK: Replies and outcomes

    private mutating func open(_ screen: any Screen) -> [Effect] {
        nav.push(screen)
        return appear()
    }

    private mutating func appear() -> [Effect] {
        let env = self.env
        return apply(nav.current.appear(env))
    }

    private mutating func apply(_ replies: [ScreenReply]) -> [Effect] {
        var effects: [Effect] = []
        for reply in replies {
            switch reply {
            case .effect(let e): effects.append(e)
            case .open(let s): effects += open(s)
            case .dialog(let d): overlay = .form(d)
            case .notice(let n): overlay = .notice(n)
            }
        }
        return effects
    }

    private mutating func finished(_ request: ActionRequest, _ result: Result<ActionOutcome, BackendError>) -> [Effect] {
        let what = "\(request.name) \(request.tenant) \(request.resource)"
        switch result {
        case .success(let outcome):
            var text = "\(what): done"
            if let limit = outcome.after["limit"] ?? outcome.after["temp_limit"] { text += ", limit \(limit)" }
            if let exp = outcome.after["expires_at"].flatMap({ Int64($0) }) { text += " until \(Format.when(exp, now: now))" }
            var unconfirmed: String?
            switch outcome.verified {
            case .replied: break
            case .readBack: text += " (the reply was lost; reading back showed it applied)"
            case .unknown(let why):
                unconfirmed = why
                text = "\(what): OUTCOME UNKNOWN (\(why)); check before repeating it"
            }
            flash = (text, unconfirmed != nil)
            if let key = outcome.newKey, let secret = outcome.secret {
                var replaced: String?
                if case .keyRotate(_, let old, let grace, _) = request {
                    replaced = grace == 0 ? "\(old) was revoked at once."
                        : "\(old) keeps working until \(Format.when(Int64(now) + grace, now: now)), then is retired."
                }
                overlay = .secret(SecretNotice(tenant: request.tenant, key: key, secret: secret, replaced: replaced, unconfirmed: unconfirmed))
            } else if let unconfirmed {
                overlay = .notice(Notice(title: "\(request.name): outcome unknown", lines: [unconfirmed, "tenant \(request.tenant), \(request.resource)",
                                                                                       "Check what the screens show before doing it again."], failed: true))
            }
            return [.refresh]
        case .failure(let error):
            flash = nil
            overlay = .notice(Notice(title: "\(request.name) failed", lines: [error.description, "tenant \(request.tenant), \(request.resource)"], failed: true))
            return []
        }
    }
}
