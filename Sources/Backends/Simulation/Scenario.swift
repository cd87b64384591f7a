/// The stories an on-call shift meets, each on a tenant chosen by its Zipf rank so the same seed
/// gives the same subject (`tollgate simulate --scenario NAME`, repeatable).
public enum Scenario: String, CaseIterable, Sendable, Comparable {
    /// The third busiest tenant bursts to 20x its usual rate for 30 s every 90 s.
    case noisyNeighbour = "noisy-neighbour"
    /// The fifth busiest tenant has a hard budget with about three minutes of tokens left.
    case budgetRunsOut = "budget-runs-out"
    /// A key of the 6th, 7th and 8th busiest tenants expires within 1, 3 and 6 days.
    case keysExpiring = "keys-expiring"
    /// The tenth busiest tenant gets requests with wrong secrets, 5% of the fleet's rate (at least 50/s).
    case authStorm = "auth-storm"
    /// One gateway node of four runs 10 minutes ahead: its counters, audit rows and usage rows are
    /// stamped with its clock.
    case clockAhead = "clock-ahead"

    public static let names = allCases.map(\.rawValue).joined(separator: ", ")

    public static func < (a: Scenario, b: Scenario) -> Bool { a.rawValue < b.rawValue }

    /// A name typed by a person; a `ValidationError` naming the value and the choices otherwise.
    public init(parsing text: String) throws(ValidationError) {
        guard let s = Scenario(rawValue: text) else { throw ValidationError(field: "scenario", value: text, rule: "must be one of \(Self.names)") }
        self = s
    }

    static let burstPeriod: Int64 = 90
    static let burstLength: Int64 = 30
    static let burstFactor = 20.0
    static let clockOffset: Int64 = 600
    static let gatewayNodes = 4

    /// How many times its usual rate the noisy neighbour sends at `now` (its bursts start 10 s
    /// after the run does).
    static func noisyFactor(at now: Double, startedAt: Int64) -> Double {
        let t = Int64(now) - startedAt - 10
        return t >= 0 && t % burstPeriod < burstLength ? burstFactor : 1
    }

    /// The Zipf ranks of the scenarios' subjects.
    static let noisyRank = 2, budgetRank = 4, stormRank = 9

    static func noisySubject(in fleet: SimulatedFleet) -> SimulatedFleet.TenantPlan { fleet.tenant(rank: noisyRank) }
    static func budgetSubject(in fleet: SimulatedFleet) -> SimulatedFleet.TenantPlan { fleet.tenant(rank: budgetRank) }
    static func stormSubject(in fleet: SimulatedFleet) -> SimulatedFleet.TenantPlan { fleet.tenant(rank: stormRank) }
    static func stormRate(_ fleet: SimulatedFleet) -> Double { max(50, fleet.rate * 0.05) }

    /// The first key of each subject of `keys-expiring`, and when it expires.
    static func expiringKeys(in fleet: SimulatedFleet) -> [TenantID: Int64] {
        var out: [TenantID: Int64] = [:]
        for (rank, days) in [(5, 1), (6, 3), (7, 6)] {
            let t = fleet.tenant(rank: rank)
            if out[t.id] == nil { out[t.id] = fleet.startedAt + Int64(days) * 86_400 }
        }
        return out
    }

    /// What the scenario does, to whom, in a line for the operator.
    public func story(in fleet: SimulatedFleet) -> String {
        switch self {
        case .noisyNeighbour: "\(Self.noisySubject(in: fleet).id) bursts to 20x its rate for 30 s every 90 s"
        case .budgetRunsOut: "\(Self.budgetSubject(in: fleet).id) has about 3 minutes of its hard budget left"
        case .keysExpiring:
            "a key of " + Self.expiringKeys(in: fleet).sorted { $0.value < $1.value }
                .map { "\($0.key) expires in \(($0.value - fleet.startedAt) / 86_400) d" }.joined(separator: ", ")
        case .authStorm: "\(Self.stormSubject(in: fleet).id) gets \(Int(Self.stormRate(fleet))) requests/s with wrong secrets"
        case .clockAhead: "gateway node 4 of 4 runs 10 minutes ahead (a quarter of the requests)"
        }
    }
}
