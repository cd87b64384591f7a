import Foundation
import Testing
@testable import Backends

@Suite struct ActionLayerTests {
    final class FakeWriter: GatewayWriting, @unchecked Sendable {
        var applied: [ActionRequest] = []
        var failure: BackendError?
        func apply(_ request: ActionRequest, by op: Operator, now: Int64, requestID: String) async throws(BackendError) -> ActionOutcome {
            if let failure { throw failure }
            applied.append(request)
            return ActionOutcome(before: ["limit": "600"], after: ["limit": "5"])
        }
    }

    static func layer(role: Operator.Role = .admin, readonly: Bool = false, scope: TenantID? = nil, writer: FakeWriter) -> ActionLayer {
        let spool = AuditSpool(path: FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-act-\(UUID().uuidString)/s.jsonl").path)
        return ActionLayer(op: Operator(name: "ops:test", role: role, tenant: scope, authenticated: false), readonly: readonly,
                           writer: writer, spool: spool, clock: FixedClock(1_795_800_000.5))
    }

    let request = ActionRequest.throttleSet(try! TenantID("acme"), .all, limit: 5, duration: 600, reason: "noisy")

    @Test func successIsAuditedWithBeforeAndAfter() async throws {
        let writer = FakeWriter()
        let layer = Self.layer(writer: writer)
        _ = try await layer.perform(request)
        #expect(writer.applied == [request])
        let events = try layer.spool.pending()
        #expect(events.count == 1)
        #expect(events[0].action == "throttle.set" && events[0].outcome == "success" && events[0].actorType == "operator")
        #expect(events[0].detail.contains("\"before\":{\"limit\":\"600\"}") && events[0].detail.contains("\"after\":{\"limit\":\"5\"}"))
        #expect(events[0].ts == 1_795_800_000 && events[0].tsMs == 500)
        #expect(events[0].detail.contains("\"request\":{\"for_seconds\":600,\"limit\":5,\"reason\":\"noisy\"}"))
    }

    @Test func refusalsHappenInOnePlaceAndAreAudited() async throws {
        for (layer, words) in [(Self.layer(readonly: true, writer: FakeWriter()), "read-only"),
                               (Self.layer(role: .support, writer: FakeWriter()), "operator role"),
                               (Self.layer(scope: try TenantID("globex"), writer: FakeWriter()), "confined to tenant globex")] {
            #expect(layer.refusal(request)?.contains(words) == true)
            await #expect(throws: BackendError.self) { _ = try await layer.perform(request) }
            let events = try layer.spool.pending()
            #expect(events.count == 1 && events[0].outcome == "denied" && events[0].detail.contains(words))
            #expect((layer.writer as! FakeWriter).applied.isEmpty)
        }
    }

    @Test func failuresAreAudited() async throws {
        let writer = FakeWriter()
        writer.failure = .unavailable("redis down")
        let layer = Self.layer(writer: writer)
        await #expect(throws: BackendError.unavailable("redis down")) { _ = try await layer.perform(request) }
        #expect(try layer.spool.pending().map(\.outcome) == ["error"])
    }

    @Test func anActionIsNotReportedDoneWhenItsAuditCannotBeMadeDurable() async throws {
        let layer = ActionLayer(op: Operator(name: "ops:test", role: .admin, authenticated: false), readonly: false, writer: FakeWriter(),
                                spool: AuditSpool(path: "/proc/no-such-place/s.jsonl"))
        await #expect(throws: BackendError.self) { _ = try await layer.perform(request) }
    }
}
