/// Key actions on the simulation, following the contract's rules (docs/actions.md): a create adds
/// an active key, a rotation needs an active unexpired key and makes its successor, a revocation
/// ends a key. Secrets are real (`APIKeySecret`) and, as everywhere, never kept: only the prefix and
/// the digest are.
extension DemoGateway: KeyWatching {
    public func expiringKeys(within seconds: Double) async throws(BackendError) -> [ExpiringKey] {
        let now = clock.now(), o = currentOverrides()
        var out: [ExpiringKey] = []
        for t in tenants {
            for k in keys(of: t, o) {
                let state = k.state(at: now)
                guard ExpiringKey.isDue(state: state, expiresAt: k.expiresAt, now: now, within: seconds) else { continue }
                out.append(ExpiringKey(tenant: t.id, key: k.id, state: state, expiresAt: k.expiresAt, graceUntil: k.graceUntil))
            }
        }
        return out.sorted { ($0.due, $0.tenant, $0.key) < ($1.due, $1.tenant, $1.key) }
    }

    func keyAction(_ request: ActionRequest, by op: Operator, now: Int64) throws(BackendError) -> ActionOutcome {
        switch request {
        case .keyCreate(let t, let label, let scopes, let expiresIn):
            let tenant = try simulated(t)
            let id = APIKeySecret.newKeyID()
            let secret = APIKeySecret(tenant: t, key: id)
            let key = APIKey(id: id, label: label, prefix: secret.prefix, state: .active, createdAt: now, createdBy: op.name,
                             expiresAt: expiresIn > 0 ? now + expiresIn : 0, scopes: scopes)
            changeKeys { $0.keys[tenant.id, default: [:]][id] = key }
            return ActionOutcome(before: [:], after: ["key_id": id.rawValue, "label": label, "prefix": secret.prefix], newKey: id, secret: secret)
        case .keyRotate(let t, let oldID, let grace, let expiresIn):
            let tenant = try simulated(t)
            guard let old = keys(of: tenant, currentOverrides()).first(where: { $0.id == oldID }) else { throw .notFound("key \(oldID)") }
            guard old.problem == nil else { throw .conflict("key \(oldID) breaks the contract: \(old.problem!)") }
            guard old.state == .active else { throw .conflict("key \(oldID) is \(old.state.rawValue), not active") }
            guard !(old.expiresAt > 0 && now >= old.expiresAt) else { throw .conflict("key \(oldID) is expired") }
            let id = APIKeySecret.newKeyID()
            let secret = APIKeySecret(tenant: t, key: id)
            let expires = expiresIn.map { $0 > 0 ? now + $0 : 0 } ?? old.expiresAt
            let successor = APIKey(id: id, label: old.label, prefix: secret.prefix, state: .active, createdAt: now, createdBy: op.name,
                                   expiresAt: expires, scopes: old.scopes, replaces: oldID)
            let retired = APIKey(id: old.id, label: old.label, prefix: old.prefix, state: grace == 0 ? .revoked : .rotating, createdAt: old.createdAt,
                                 createdBy: old.createdBy, expiresAt: old.expiresAt, lastUsedAt: old.lastUsedAt, scopes: old.scopes,
                                 graceUntil: grace == 0 ? nil : now + grace, replacedBy: id, replaces: old.replaces,
                                 revokedAt: grace == 0 ? now : nil, revokedBy: grace == 0 ? op.name : nil)
            changeKeys { o in
                o.keys[tenant.id, default: [:]][id] = successor
                o.keys[tenant.id, default: [:]][oldID] = retired
            }
            var after = grace == 0 ? ["state": "revoked", "revoked_at": String(now)] : ["state": "rotating", "grace_until": String(now + grace)]
            after["new_key_id"] = id.rawValue
            after["new_expires_at"] = String(expires)
            return ActionOutcome(before: ["key_id": oldID.rawValue, "state": "active"], after: after, newKey: id, secret: secret)
        case .keyRevoke(let t, let keyID, _):
            let tenant = try simulated(t)
            guard let k = keys(of: tenant, currentOverrides()).first(where: { $0.id == keyID }) else { throw .notFound("key \(keyID)") }
            guard k.state != .revoked else { throw .conflict("the key is already revoked") }
            let revoked = APIKey(id: k.id, label: k.label, prefix: k.prefix, state: .revoked, createdAt: k.createdAt, createdBy: k.createdBy,
                                 expiresAt: k.expiresAt, lastUsedAt: k.lastUsedAt, scopes: k.scopes, graceUntil: k.graceUntil,
                                 replacedBy: k.replacedBy, replaces: k.replaces, revokedAt: now, revokedBy: op.name)
            changeKeys { $0.keys[tenant.id, default: [:]][keyID] = revoked }
            return ActionOutcome(before: ["key_id": keyID.rawValue, "state": k.state.rawValue],
                                 after: ["state": "revoked", "revoked_at": String(now), "revoked_by": op.name])
        default:
            throw .failed("not a key action")
        }
    }
}
