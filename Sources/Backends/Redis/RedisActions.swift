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
        }
    }

    private func exists(_ t: TenantID) async throws(BackendError) -> Bool {
        try await redis.pipeline([["EXISTS", KeySchema.meta(t)]])[0] == .integer(1)
    }

    private func check(_ replies: [RedisValue]) throws(BackendError) {
        if let e = replies.compactMap(\.errorMessage).first { throw .failed("redis: \(SafeText.clean(e))") }
    }
}
