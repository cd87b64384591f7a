import Backends
import Foundation
import Testing

/// The contract's role table for reads and actions, and the read guard: refusals audited, a
/// tenant-scoped operator's fleet holding their tenant alone.
@Suite struct AccessPolicyTests {
    let acme = try! TenantID("acme"), globex = try! TenantID("globex")

    func policy(_ role: Operator.Role, scope: TenantID? = nil) -> AccessPolicy {
        AccessPolicy(op: Operator(name: "ops:test", role: role, tenant: scope, authenticated: true), readonly: false)
    }

    @Test func eachRoleReadsAndDoesWhatTheContractSays() {
        // role -> (reads allowed, actions allowed)
        let table: [(Operator.Role, Set<ReadKind>, Set<ActionKind>)] = [
            (.viewer, [.tenants], []),
            (.support, [.tenants, .audit, .usage, .sessions], []),
            (.operator, [.tenants, .audit, .usage, .sessions], [.throttleSet, .throttleClear, .budgetRaise, .sessionsLogout]),
            (.admin, Set(ReadKind.allCases), Set(ActionKind.allCases)),
        ]
        for (role, reads, actions) in table {
            let p = policy(role)
            for kind in ReadKind.allCases { #expect((p.refusal(kind, tenant: acme) == nil) == reads.contains(kind), "\(role) reading \(kind)") }
            for kind in ActionKind.allCases { #expect((p.refusal(kind, tenant: acme) == nil) == actions.contains(kind), "\(role) doing \(kind)") }
        }
        #expect(policy(.viewer).refusal(.audit, tenant: acme) == "audit events need the support role; ops:test has viewer")
    }

    @Test func aScopedOperatorIsConfinedToTheirTenant() {
        let p = policy(.admin, scope: acme)
        for kind in ReadKind.allCases {
            #expect(p.refusal(kind, tenant: acme) == nil)
            #expect(p.refusal(kind, tenant: globex) == "ops:test is confined to tenant acme")
        }
        #expect(p.refusal(.keyRevoke, tenant: globex) == "ops:test is confined to tenant acme")
        #expect(p.sees(acme) && !p.sees(globex))
    }

    @Test func theGuardRefusesAuditsAndFiltersTheFleet() async throws {
        let spool = AuditSpool(path: FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-guard-\(UUID().uuidString)/s.jsonl").path)
        let demo = DemoGateway(seed: 42, clock: SystemClock())
        let scoped = ReadGuard(policy: policy(.support, scope: acme), spool: spool)
        let fleet = try await scoped.fleet(demo).fleet()
        #expect(fleet.tenants.map(\.id) == [acme] && fleet.malformedTenantIDs == 0)
        #expect(try await scoped.keyWatch(demo).expiringKeys(within: 7 * 86_400).allSatisfy { $0.tenant == acme })
        _ = try await scoped.tenants(demo).tenant(acme)
        await #expect(throws: BackendError.denied("ops:test is confined to tenant acme")) { _ = try await scoped.tenants(demo).tenant(globex) }
        await #expect(throws: BackendError.denied("ops:test is confined to tenant acme")) { _ = try await scoped.audit(demo).audit(AuditQuery(tenant: globex)) }
        let viewer = ReadGuard(policy: policy(.viewer), spool: spool)
        await #expect(throws: BackendError.self) { _ = try await viewer.usage(demo).usage(tenant: acme, key: nil) }
        #expect(try await viewer.fleet(demo).fleet().tenants.count == 40, "an unscoped operator sees the whole fleet")

        let audited = try spool.pending()
        #expect(audited.map(\.action) == ["tenants.read", "audit.read", "usage.read"])
        #expect(audited.map(\.tenant) == [globex, globex, acme])
        #expect(audited.allSatisfy { $0.outcome == "denied" && $0.actor == "ops:test" && $0.actorType == "operator" })
    }
}
