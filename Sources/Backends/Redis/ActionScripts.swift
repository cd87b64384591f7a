/// The operator actions as Lua scripts: Redis runs each atomically, and since every key it
/// touches carries the tenant's hash tag, each is legal on Redis Cluster too.
///
/// Every script's first key is the request's marker (`KeySchema.actionMarker`). A script checks
/// everything first and changes nothing when a check fails (`CONFLICT ...`, `NOTFOUND ...`); when
/// the checks pass it writes the marker as `applied` together with its effect. `readBack` settles a
/// request whose reply was lost: it answers `applied` when the marker says so, and otherwise writes
/// `cancelled`, after which the request, should it still arrive, changes nothing (`CANCELLED`).
enum ActionScripts {
    /// How long a marker is kept: long enough to settle any lost reply.
    static let markerSeconds = 86_400

    /// The guard every script starts with. ARGV[1] is the marker's lifetime.
    private static let decided = "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('CANCELLED request already settled') end\n"
    private static let mark = "redis.call('SET', KEYS[1], 'applied', 'EX', ARGV[1])\n"

    /// KEYS: marker. ARGV: lifetime.
    static let readBack = """
    local m = redis.call('GET', KEYS[1])
    if m then return m end
    redis.call('SET', KEYS[1], 'cancelled', 'EX', ARGV[1])
    return 'cancelled'
    """

    /// KEYS: marker, meta, throttle. ARGV: lifetime, limit, reason, actor, set_at, expires_at.
    /// Answers the throttle's fields before.
    static let throttleSet = decided + """
    if redis.call('EXISTS', KEYS[2]) == 0 then return redis.error_reply('NOTFOUND tenant: no ' .. KEYS[2]) end
    local before = redis.call('HGETALL', KEYS[3])
    \(mark)redis.call('HSET', KEYS[3], 'limit', ARGV[2], 'reason', ARGV[3], 'actor', ARGV[4], 'set_at', ARGV[5], 'expires_at', ARGV[6])
    redis.call('EXPIREAT', KEYS[3], ARGV[6])
    return before
    """

    /// KEYS: marker, throttle. ARGV: lifetime. Answers the throttle's fields before.
    static let throttleClear = decided + """
    local before = redis.call('HGETALL', KEYS[2])
    if #before == 0 then return redis.error_reply('NOTFOUND no throttle ' .. KEYS[2]) end
    \(mark)redis.call('DEL', KEYS[2])
    return before
    """

    /// KEYS: marker, budget. ARGV: lifetime, temp_limit, temp_expires_at, now. Refuses a limit at
    /// or below the effective one: a raise never lowers a budget. Answers the fields before.
    static let budgetRaise = decided + """
    local before = redis.call('HGETALL', KEYS[2])
    if #before == 0 then return redis.error_reply('NOTFOUND no budget this month: ' .. KEYS[2]) end
    local h = {}
    for i = 1, #before, 2 do h[before[i]] = before[i + 1] end
    local limit = tonumber(h['limit'])
    if not limit then return redis.error_reply('CONFLICT the budget limit is not a number') end
    local effective = limit
    local temp, tempUntil = tonumber(h['temp_limit'] or ''), tonumber(h['temp_expires_at'] or '')
    if temp and tempUntil and tonumber(ARGV[4]) < tempUntil then effective = temp end
    if tonumber(ARGV[2]) <= effective then
      return redis.error_reply('CONFLICT a raise must be above the effective limit, ' .. tostring(effective) .. ' tokens now')
    end
    \(mark)redis.call('HSET', KEYS[2], 'temp_limit', ARGV[2], 'temp_expires_at', ARGV[3])
    return before
    """

    /// KEYS: marker, meta, new key hash, key index. ARGV: lifetime, key id, then field/value pairs.
    static let keyCreate = decided + """
    if redis.call('EXISTS', KEYS[2]) == 0 then return redis.error_reply('NOTFOUND tenant: no ' .. KEYS[2]) end
    if redis.call('EXISTS', KEYS[3]) == 1 then return redis.error_reply('CONFLICT key id ' .. ARGV[2] .. ' already exists') end
    \(mark)redis.call('HSET', KEYS[3], unpack(ARGV, 3))
    redis.call('SADD', KEYS[4], ARGV[2])
    return 'OK'
    """

    /// KEYS: marker, old key hash, new key hash, key index.
    /// ARGV: lifetime, now, grace seconds, new id, old id, new prefix, new sha256, actor, new expiry
    /// (`inherit`, or epoch seconds, 0 for never). The contract's rotation: one succeeds, a
    /// concurrent one gets a conflict and nothing changes.
    static let keyRotate = decided + """
    local state = redis.call('HGET', KEYS[2], 'state')
    if not state then return redis.error_reply('NOTFOUND key ' .. ARGV[5]) end
    if state ~= 'active' then return redis.error_reply('CONFLICT key ' .. ARGV[5] .. ' is ' .. state .. ', not active') end
    local expires = tonumber(redis.call('HGET', KEYS[2], 'expires_at') or '0')
    if not expires then return redis.error_reply('CONFLICT key ' .. ARGV[5] .. ' has an expires_at that is not a number') end
    local now = tonumber(ARGV[2])
    if expires > 0 and now >= expires then return redis.error_reply('CONFLICT key ' .. ARGV[5] .. ' is expired') end
    if redis.call('EXISTS', KEYS[3]) == 1 then return redis.error_reply('CONFLICT key id ' .. ARGV[4] .. ' already exists') end
    local newExpires = tostring(expires)
    if ARGV[9] ~= 'inherit' then newExpires = ARGV[9] end
    local label = redis.call('HGET', KEYS[2], 'label') or ''
    local scopes = redis.call('HGET', KEYS[2], 'scopes') or ''
    \(mark)redis.call('HSET', KEYS[3], 'label', label, 'prefix', ARGV[6], 'sha256', ARGV[7], 'state', 'active', 'created_at', ARGV[2],
               'created_by', ARGV[8], 'expires_at', newExpires, 'scopes', scopes, 'replaces', ARGV[5])
    redis.call('SADD', KEYS[4], ARGV[4])
    if tonumber(ARGV[3]) == 0 then
      redis.call('HSET', KEYS[2], 'state', 'revoked', 'revoked_at', ARGV[2], 'revoked_by', ARGV[8], 'replaced_by', ARGV[4])
    else
      redis.call('HSET', KEYS[2], 'state', 'rotating', 'grace_until', tostring(now + tonumber(ARGV[3])), 'replaced_by', ARGV[4])
    end
    return newExpires
    """

    /// KEYS: marker, key hash. ARGV: lifetime, now, actor. Answers the state the key had.
    static let keyRevoke = decided + """
    local state = redis.call('HGET', KEYS[2], 'state')
    if not state then return redis.error_reply('NOTFOUND key ' .. KEYS[2]) end
    if state == 'revoked' then return redis.error_reply('CONFLICT the key is already revoked') end
    \(mark)redis.call('HSET', KEYS[2], 'state', 'revoked', 'revoked_at', ARGV[2], 'revoked_by', ARGV[3])
    return state
    """
}
