/// Operator actions on the gateway's Redis: each is one Lua script (`ActionScripts`) that writes
/// the request's marker with its effect. When the reply is lost, the marker is read back, which
/// also makes sure a request still on its way can no longer apply; only when Redis stays
/// unreachable is the outcome unknown.
public final class RedisActions: GatewayWriting {
    private let redis: any RedisCommands
    private let clock: any Clock
    /// How long to keep trying to read a lost reply's marker back.
    let settleSeconds: Double

    public init(redis: any RedisCommands, clock: any Clock = SystemClock(), settleSeconds: Double = 10) {
        self.redis = redis
        self.clock = clock
        self.settleSeconds = settleSeconds
    }

    /// One action: the script, and the outcome it has when it applies.
    private struct Plan {
        let script: String
        let keys: [String]
        let args: [String]
        /// The outcome from the script's reply; `nil` reply: read back after a lost reply.
        let outcome: @Sendable (RedisValue?) -> ActionOutcome
    }

    public func apply(_ request: ActionRequest, by op: Operator, now: Int64, requestID: String) async throws(BackendError) -> ActionOutcome {
        guard requestID.utf8.count == 36, requestID.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) || $0 == 0x2D }) else {
            throw .failed("request id \(SafeText.quoted(requestID)) is not a lowercase UUID")
        }
        let marker = KeySchema.actionMarker(request.tenant, requestID: requestID)
        let plan = Self.plan(request, by: op, now: now)
        let command = RedisCommand(["EVAL", plan.script, String(plan.keys.count + 1), marker] + plan.keys
                                   + [String(ActionScripts.markerSeconds)] + plan.args)
        let reply: RedisValue
        do throws(BackendError) {
            reply = try await redis.pipeline([command])[0]
        } catch {
            guard case .replyLost(let why) = error else { throw error }
            return try await settle(marker, plan, why: why)
        }
        try Self.check(reply)
        return plan.outcome(reply)
    }

    /// After a lost reply: `applied`, `cancelled` (it can no longer apply), or unreachable.
    private func settle(_ marker: String, _ plan: Plan, why: String) async throws(BackendError) -> ActionOutcome {
        let deadline = clock.now() + settleSeconds
        var last = why
        while true {
            let verdict: RedisValue
            do throws(BackendError) {
                verdict = try await redis.pipeline([["EVAL", ActionScripts.readBack, "1", marker, String(ActionScripts.markerSeconds)]])[0]
            } catch {
                guard error.isTransport else { throw error }
                last = error.message
                if clock.now() >= deadline { break }
                try? await Task.sleep(nanoseconds: 500_000_000)
                continue
            }
            try Self.check(verdict)
            guard verdict.string == "applied" else { throw .unavailable("\(why): no reply came; read back: not applied, nothing changed") }
            var outcome = plan.outcome(nil)
            outcome.verified = .readBack
            return outcome
        }
        var outcome = plan.outcome(nil)
        outcome.verified = .unknown("no reply came (\(why)), and reading back whether it applied failed for \(Int(settleSeconds)) s: \(last)")
        return outcome
    }

    private static func plan(_ request: ActionRequest, by op: Operator, now: Int64) -> Plan {
        switch request {
        case .throttleSet(let t, let route, let limit, let duration, let reason):
            let expires = now + duration
            let fields = ["limit": String(limit), "reason": reason, "actor": op.name, "set_at": String(now), "expires_at": String(expires)]
            return Plan(script: ActionScripts.throttleSet, keys: [KeySchema.meta(t), KeySchema.throttle(t, route)],
                        args: [fields["limit"]!, reason, op.name, String(now), String(expires)]) { reply in
                ActionOutcome(before: reply.map(Self.hash) ?? [:], after: fields)
            }
        case .throttleClear(let t, let route):
            return Plan(script: ActionScripts.throttleClear, keys: [KeySchema.throttle(t, route)], args: []) { reply in
                ActionOutcome(before: reply.map(Self.hash) ?? [:], after: [:])
            }
        case .budgetRaise(let t, let limit, let duration, _):
            let after = ["temp_limit": String(limit), "temp_expires_at": String(now + duration)]
            return Plan(script: ActionScripts.budgetRaise, keys: [KeySchema.budget(t, month: YearMonth(containing: now))],
                        args: [after["temp_limit"]!, after["temp_expires_at"]!, String(now)]) { reply in
                ActionOutcome(before: reply.map(Self.hash) ?? [:], after: after)
            }
        case .keyCreate(let t, let label, let scopes, let expiresIn):
            let id = APIKeySecret.newKeyID()
            let secret = APIKeySecret(tenant: t, key: id)
            let fields = ["label": label, "prefix": secret.prefix, "sha256": secret.sha256, "state": "active", "created_at": String(now),
                          "created_by": op.name, "expires_at": String(expiresIn > 0 ? now + expiresIn : 0), "scopes": scopes.joined(separator: ",")]
            let shown = fields.filter { $0.key != "sha256" }.merging(["key_id": id.rawValue]) { a, _ in a }
            return Plan(script: ActionScripts.keyCreate, keys: [KeySchema.meta(t), KeySchema.apiKey(t, id), KeySchema.apiKeys(t)],
                        args: [id.rawValue] + fields.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] }) { _ in
                ActionOutcome(before: [:], after: shown, newKey: id, secret: secret)
            }
        case .keyRotate(let t, let old, let grace, let expiresIn):
            let id = APIKeySecret.newKeyID()
            let secret = APIKeySecret(tenant: t, key: id)
            let newExpiry = expiresIn.map { $0 > 0 ? String(now + $0) : "0" } ?? "inherit"
            return Plan(script: ActionScripts.keyRotate, keys: [KeySchema.apiKey(t, old), KeySchema.apiKey(t, id), KeySchema.apiKeys(t)],
                        args: [String(now), String(grace), id.rawValue, old.rawValue, secret.prefix, secret.sha256, op.name, newExpiry]) { reply in
                var after = grace == 0 ? ["state": "revoked", "revoked_at": String(now)] : ["state": "rotating", "grace_until": String(now + grace)]
                after["replaced_by"] = id.rawValue
                after["new_key_id"] = id.rawValue
                after["new_prefix"] = secret.prefix
                if let expiry = reply?.string ?? (newExpiry == "inherit" ? nil : newExpiry) { after["new_expires_at"] = expiry }
                return ActionOutcome(before: ["key_id": old.rawValue, "state": "active"], after: after, newKey: id, secret: secret)
            }
        case .keyRevoke(let t, let key, _):
            return Plan(script: ActionScripts.keyRevoke, keys: [KeySchema.apiKey(t, key)], args: [String(now), op.name]) { reply in
                ActionOutcome(before: ["key_id": key.rawValue, "state": reply?.string ?? ""],
                              after: ["state": "revoked", "revoked_at": String(now), "revoked_by": op.name])
            }
        }
    }

    /// A flat field/value array (HGETALL's shape) as a dictionary.
    private static func hash(_ reply: RedisValue) -> [String: String] {
        guard let a = reply.array else { return [:] }
        var out: [String: String] = [:]
        var i = 0
        while i + 1 < a.count {
            if let k = a[i].string, let v = a[i + 1].string { out[k] = v }
            i += 2
        }
        return out
    }

    private static func check(_ reply: RedisValue) throws(BackendError) {
        guard let e = reply.errorMessage else { return }
        func after(_ word: String) -> String? { e.hasPrefix(word + " ") ? String(e.dropFirst(word.count + 1)) : nil }
        if let m = after("CONFLICT") { throw .conflict(SafeText.clean(m)) }
        if let m = after("NOTFOUND") { throw .notFound(SafeText.clean(m)) }
        if let m = after("CANCELLED") { throw .conflict("the request was settled as not applied before it arrived: \(SafeText.clean(m))") }
        throw .failed("redis: \(SafeText.clean(e))")
    }
}
