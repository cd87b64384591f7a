/// Operator actions on the gateway's Redis, through the key schema. Each change is one command on
/// one key, so it is atomic on standalone Redis and on a cluster alike.
public final class RedisActions: GatewayWriting {
    private let redis: any RedisCommands

    public init(redis: any RedisCommands) {
        self.redis = redis
    }

    public func apply(_ request: ActionRequest, by op: Operator, now: Int64) async throws(BackendError) -> ActionOutcome {
        switch request {
        case .throttleSet(let t, let route, let limit, let duration, let reason):
            let key = KeySchema.throttle(t, route)
            guard try await exists(t) else { throw .notFound("tenant \(t)") }
            let expires = now + duration
            let fields = ["limit": String(limit), "reason": reason, "actor": op.name, "set_at": String(now), "expires_at": String(expires)]
            let replies = try await redis.pipeline([
                ["HGETALL", key],
                ["HSET", key] + fields.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] },
                ["EXPIREAT", key, String(expires)],
            ])
            try check(replies)
            return ActionOutcome(before: replies[0].hash ?? [:], after: fields)
        case .throttleClear(let t, let route):
            let key = KeySchema.throttle(t, route)
            let replies = try await redis.pipeline([["HGETALL", key], ["DEL", key]])
            try check(replies)
            if replies[1] == .integer(0) { throw .notFound("no throttle on \(t) \(route)") }
            return ActionOutcome(before: replies[0].hash ?? [:], after: [:])
        case .budgetRaise(let t, let limit, let duration, _):
            let key = KeySchema.budget(t, month: YearMonth(containing: now))
            let before = try await redis.pipeline([["HGETALL", key]])[0]
            try check([before])
            guard let current = before.hash, !current.isEmpty else { throw .notFound("tenant \(t) has no budget this month (\(key))") }
            let after = ["temp_limit": String(limit), "temp_expires_at": String(now + duration)]
            try check(try await redis.pipeline([["HSET", key, "temp_limit", after["temp_limit"]!, "temp_expires_at", after["temp_expires_at"]!]]))
            return ActionOutcome(before: current, after: after)
        case .keyCreate(let t, let label, let scopes, let expiresIn):
            guard try await exists(t) else { throw .notFound("tenant \(t)") }
            let id = APIKeySecret.newKeyID()
            let secret = APIKeySecret(tenant: t, key: id)
            let expiresAt = expiresIn > 0 ? now + expiresIn : 0
            let fields = ["label": label, "prefix": secret.prefix, "sha256": secret.sha256, "state": "active", "created_at": String(now),
                          "created_by": op.name, "expires_at": String(expiresAt), "scopes": scopes.joined(separator: ",")]
            let reply = try await redis.pipeline([["EVAL", KeyScripts.create, "2", KeySchema.apiKey(t, id), KeySchema.apiKeys(t), id.rawValue]
                                                  + fields.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] }])[0]
            try check([reply])
            return ActionOutcome(before: [:], after: fields.filter { $0.key != "sha256" }.merging(["key_id": id.rawValue]) { a, _ in a },
                                 newKey: id, secret: secret)
        case .keyRotate(let t, let old, let grace):
            let id = APIKeySecret.newKeyID()
            let secret = APIKeySecret(tenant: t, key: id)
            let reply = try await redis.pipeline([["EVAL", KeyScripts.rotate, "3", KeySchema.apiKey(t, old), KeySchema.apiKey(t, id), KeySchema.apiKeys(t),
                                                   String(now), String(grace), id.rawValue, old.rawValue, secret.prefix, secret.sha256, op.name]])[0]
            try check([reply])
            let oldState = grace == 0 ? ["state": "revoked", "revoked_at": String(now), "replaced_by": id.rawValue]
                                      : ["state": "rotating", "grace_until": String(now + grace), "replaced_by": id.rawValue]
            return ActionOutcome(before: ["key_id": old.rawValue, "state": "active"],
                                 after: oldState.merging(["new_key_id": id.rawValue, "new_prefix": secret.prefix]) { a, _ in a },
                                 newKey: id, secret: secret)
        case .keyRevoke(let t, let key, _):
            let reply = try await redis.pipeline([["EVAL", KeyScripts.revoke, "1", KeySchema.apiKey(t, key), String(now), op.name]])[0]
            try check([reply])
            return ActionOutcome(before: ["key_id": key.rawValue, "state": reply.string ?? ""],
                                 after: ["state": "revoked", "revoked_at": String(now), "revoked_by": op.name])
        }
    }

    private func exists(_ t: TenantID) async throws(BackendError) -> Bool {
        try await redis.pipeline([["EXISTS", KeySchema.meta(t)]])[0] == .integer(1)
    }

    private func check(_ replies: [RedisValue]) throws(BackendError) {
        guard let e = replies.compactMap(\.errorMessage).first else { return }
        if e.hasPrefix("CONFLICT ") { throw .conflict(SafeText.clean(String(e.dropFirst(9)))) }
        if e.hasPrefix("NOTFOUND ") { throw .notFound(SafeText.clean(String(e.dropFirst(9)))) }
        throw .failed("redis: \(SafeText.clean(e))")
    }
}

/// The key transactions as Lua scripts: each runs atomically, and since every key it touches
/// carries the tenant's hash tag, it is legal on Redis Cluster too. A script that finds the key in
/// the wrong state changes nothing and answers `CONFLICT ...`.
enum KeyScripts {
    /// KEYS: new key hash, key index. ARGV: key id, then field/value pairs.
    static let create = """
    if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('CONFLICT key id ' .. ARGV[1] .. ' already exists') end
    redis.call('HSET', KEYS[1], unpack(ARGV, 2))
    redis.call('SADD', KEYS[2], ARGV[1])
    return 'OK'
    """

    /// KEYS: old key hash, new key hash, key index.
    /// ARGV: now, grace seconds, new id, old id, new prefix, new sha256, actor.
    static let rotate = """
    local state = redis.call('HGET', KEYS[1], 'state')
    if not state then return redis.error_reply('NOTFOUND key ' .. ARGV[4]) end
    if state ~= 'active' then return redis.error_reply('CONFLICT key ' .. ARGV[4] .. ' is ' .. state .. ', not active') end
    local expires = tonumber(redis.call('HGET', KEYS[1], 'expires_at') or '0') or 0
    local now = tonumber(ARGV[1])
    if expires > 0 and now >= expires then return redis.error_reply('CONFLICT key ' .. ARGV[4] .. ' is expired') end
    if redis.call('EXISTS', KEYS[2]) == 1 then return redis.error_reply('CONFLICT key id ' .. ARGV[3] .. ' already exists') end
    local label = redis.call('HGET', KEYS[1], 'label') or ''
    local scopes = redis.call('HGET', KEYS[1], 'scopes') or ''
    redis.call('HSET', KEYS[2], 'label', label, 'prefix', ARGV[5], 'sha256', ARGV[6], 'state', 'active', 'created_at', ARGV[1],
               'created_by', ARGV[7], 'expires_at', tostring(expires), 'scopes', scopes, 'replaces', ARGV[4])
    redis.call('SADD', KEYS[3], ARGV[3])
    if tonumber(ARGV[2]) == 0 then
      redis.call('HSET', KEYS[1], 'state', 'revoked', 'revoked_at', ARGV[1], 'revoked_by', ARGV[7], 'replaced_by', ARGV[3])
    else
      redis.call('HSET', KEYS[1], 'state', 'rotating', 'grace_until', tostring(now + tonumber(ARGV[2])), 'replaced_by', ARGV[3])
    end
    return 'OK'
    """

    /// KEYS: key hash. ARGV: now, actor. Answers the state the key had.
    static let revoke = """
    local state = redis.call('HGET', KEYS[1], 'state')
    if not state then return redis.error_reply('NOTFOUND key ' .. KEYS[1]) end
    if state == 'revoked' then return redis.error_reply('CONFLICT the key is already revoked') end
    redis.call('HSET', KEYS[1], 'state', 'revoked', 'revoked_at', ARGV[1], 'revoked_by', ARGV[2])
    return state
    """
}
