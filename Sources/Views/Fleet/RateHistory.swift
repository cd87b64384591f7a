import Backends

/// The console's own samples of each tenant's request rate since it started: for the tenant
/// detail's sparkline. Samples fall into fixed buckets of `step` seconds (the mean of the samples
/// in each), the last `buckets` of them kept per tenant; a tenant gets its ring with its first
/// sample that saw traffic, so quiet tenants cost nothing.
public struct RateHistory: Sendable {
    public static let step = 5.0
    public static let buckets = 120

    struct Ring: Sendable {
        var newest: Int64          // bucket number (time / step) of the last sample
        var sums: [Float]
        var counts: [UInt8]
    }

    private var rings: [TenantID: Ring] = [:]

    public init() {}

    public var tenants: Int { rings.count }

    public mutating func record(_ id: TenantID, requestsPerSecond rate: Double, at t: Double) {
        let bucket = Int64((t / Self.step).rounded(.down))
        if rings[id] == nil {
            guard rate > 0 else { return }
            rings[id] = Ring(newest: bucket, sums: .init(repeating: 0, count: Self.buckets), counts: .init(repeating: 0, count: Self.buckets))
        }
        // Mutated in place through the subscript: no copy of the ring's arrays.
        rings[id]?.add(rate, at: bucket)
    }

    /// The samples of `id` up to `now`, oldest first.
    public func series(_ id: TenantID, now: Double) -> RateSeries {
        let last = Int64((now / Self.step).rounded(.down))
        var values = [Double?](repeating: nil, count: Self.buckets)
        if let ring = rings[id] {
            for k in 0..<Self.buckets {
                let bucket = last - Int64(Self.buckets - 1 - k)
                guard bucket <= ring.newest, bucket > ring.newest - Int64(Self.buckets) else { continue }
                let slot = Ring.slot(bucket)
                if ring.counts[slot] > 0 { values[k] = Double(ring.sums[slot]) / Double(ring.counts[slot]) }
            }
        }
        return RateSeries(step: Self.step, end: Double(last + 1) * Self.step, values: values)
    }
}

extension RateHistory.Ring {
    static func slot(_ bucket: Int64) -> Int { Int(((bucket % Int64(RateHistory.buckets)) + Int64(RateHistory.buckets)) % Int64(RateHistory.buckets)) }

    mutating func advance(to bucket: Int64) {
        if bucket - newest >= Int64(RateHistory.buckets) {
            for i in sums.indices { sums[i] = 0; counts[i] = 0 }
        } else if bucket > newest {
            for b in (newest + 1)...bucket { sums[Self.slot(b)] = 0; counts[Self.slot(b)] = 0 }
        }
        newest = max(newest, bucket)
    }

    /// A sample older than the ring's newest bucket is dropped.
    mutating func add(_ rate: Double, at bucket: Int64) {
        guard bucket >= newest else { return }
        advance(to: bucket)
        let s = Self.slot(bucket)
        guard counts[s] < UInt8.max else { return }
        sums[s] += Float(rate)
        counts[s] += 1
    }
}

/// Evenly spaced samples for a sparkline: `values[i]` covers the `step` seconds that end at
/// `end - step * (count - 1 - i)`; nil where nothing was sampled.
public struct RateSeries: Sendable, Equatable {
    public let step: Double
    public let end: Double
    public let values: [Double?]

    public init(step: Double, end: Double, values: [Double?]) {
        self.step = step
        self.end = end
        self.values = values
    }

    public static let empty = RateSeries(step: RateHistory.step, end: 0, values: [])

    /// The newest `n` values.
    public func suffix(_ n: Int) -> RateSeries {
        RateSeries(step: step, end: end, values: Array(values.suffix(n)))
    }

    /// How far back the first sampled value lies, in seconds; nil when nothing was sampled.
    public var sampledSpan: Double? {
        values.firstIndex { $0 != nil }.map { Double(values.count - $0) * step }
    }
}
