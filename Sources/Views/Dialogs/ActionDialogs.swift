import Backends

/// The dialogs of the operator actions, each a form over its request builder in Backends.
public enum ActionDialogs {
    /// Throttle one route or all of them (`_all`); shows the throttles in force and offers to
    /// clear the one on the route in the field.
    public static func throttle(_ t: TenantState, route: Route?, now: Double) -> FormDialog {
        let id = t.id
        var notes: [(String, Role)] = []
        let live = t.throttles.filter { $0.isLive(at: now) }
        for th in live {
            notes.append(("in force on \(th.route): limit \(th.limit), \(Format.duration(Double(th.expiresAt) - now)) left "
                          + "(until \(Format.when(th.expiresAt, now: now))), set by \(th.actor): \(th.reason)", .warn))
        }
        if live.isEmpty { notes.append(("no throttle in force on \(id)", .dim)) }
        let policies = t.routes.compactMap { r in r.state.value.map { "\(r.route) \($0.policy.text)" } }
        if !policies.isEmpty { notes.append(("policies: " + policies.joined(separator: ", "), .dim)) }
        let states = Dictionary(t.routes.compactMap { r in r.state.value.map { (r.route, $0) } }, uniquingKeysWith: { a, _ in a })
        return FormDialog(
            title: "throttle \(id)", submitLabel: "throttle", notes: notes,
            fields: [FormDialog.Field("route", route?.rawValue ?? Route.all.rawValue, hint: "a route, or _all for every route"),
                     FormDialog.Field("limit", hint: "requests per window, e.g. 50 or 2k"),
                     FormDialog.Field("for", "30m", hint: "30m, 2h, 1d"),
                     FormDialog.Field("reason", hint: "why: goes to the audit log", limit: 500)],
            alternate: live.isEmpty ? nil : FormDialog.Alternate(key: .ctrl("x"), label: "clear the throttle on the route") { v throws(ValidationError) in
                try ActionRequest.throttleClear(id, route: v[0])
            },
            build: { v throws(ValidationError) in try ActionRequest.throttle(id, route: v[0], limit: v[1], for: v[2], reason: v[3]) },
            explain: { v in (try? ActionRequest.throttle(id, route: v[0], limit: v[1], for: v[2], reason: v[3])).map { explainThrottle($0, states: states, now: now) } })
    }

    static func explainThrottle(_ request: ActionRequest, states: [Route: WindowState], now: Double) -> String {
        guard case .throttleSet(let t, let route, let limit, let duration, _) = request else { return "" }
        let until = Format.when(Int64(now) + duration, now: now)
        if route == .all {
            return "every route of \(t) is held to at most \(limit) requests per window until \(until), then back to its policy"
        }
        let policy = states[route].map { " (its policy is \($0.policy.limit) per \($0.policy.window) s)" } ?? " (no policy of that route is known)"
        return "\(route) of \(t) is held to \(limit) requests per window\(policy) until \(until)"
    }

    /// A temporary budget limit for the current month.
    public static func budget(_ t: TenantState, now: Double) -> FormDialog {
        let id = t.id
        var notes: [(String, Role)] = []
        if let b = t.budget?.value {
            let used = Format.count(b.budget.used), limit = Format.count(b.effectiveLimit)
            notes.append(("used \(used) of \(limit) tokens (\(b.percentUsed.map(Format.percent) ?? "-")), "
                          + "\(b.budget.hard ? "hard: blocks at the limit" : "alert-only"), resets in \(Format.duration(b.resetIn))", .normal))
            if b.tempRaiseActive, let exp = b.budget.tempExpiresAt {
                notes.append(("a raise to \(Format.count(b.effectiveLimit)) is in force until \(Format.when(exp, now: now)); the plan's limit is \(Format.count(b.budget.limit))", .warn))
            }
        } else {
            notes.append(("\(id) has no budget for this month: a raise has nothing to raise", .warn))
        }
        let base = t.budget?.value?.budget.limit, effective = t.budget?.value?.effectiveLimit
        return FormDialog(
            title: "raise the budget of \(id)", submitLabel: "raise", notes: notes,
            fields: [FormDialog.Field("limit", hint: "tokens, e.g. 75M"),
                     FormDialog.Field("for", "24h", hint: "24h, 3d"),
                     FormDialog.Field("reason", hint: "why: goes to the audit log", limit: 500)],
            build: { v throws(ValidationError) in try ActionRequest.budgetRaise(id, limit: v[0], for: v[1], reason: v[2], above: effective) },
            explain: { v in
                guard case .budgetRaise(_, let limit, let duration, _)? = try? ActionRequest.budgetRaise(id, limit: v[0], for: v[1], reason: v[2], above: effective)
                else { return nil }
                let until = Format.when(Int64(now) + duration, now: now)
                return "the budget limit of \(id) becomes \(Format.count(limit)) tokens until \(until)"
                    + (base.map { ", then \(Format.count($0)) again" } ?? "")
            })
    }
}
