import ArgumentParser
import Backends

/// Where live data comes from. One factory builds every capability of a context.
struct SourceOptions: ParsableArguments {
    @Flag(help: "Use the embedded demo gateway (simulated tenants, no services needed).")
    var demo = false

    @Option(help: "Seed of the demo gateway: the same seed gives the same fleet.")
    var seed: UInt64 = 42

    func makeBackend(clock: any Clock) throws -> Backend {
        if demo {
            let gateway = DemoGateway(seed: seed, clock: clock)
            return Backend(label: "demo (seed \(seed))", fleet: gateway, tenants: gateway, audit: gateway)
        }
        throw CLIFailure(.usage, "no backend configured: pass --demo for the embedded demo gateway")
    }
}

/// The capabilities of one context.
struct Backend: Sendable {
    let label: String
    let fleet: any FleetReading
    let tenants: any TenantReading
    let audit: any AuditReading
}

/// A failure with one of the documented exit codes and a message for stderr.
struct CLIFailure: Error, CustomStringConvertible {
    enum Code: Int32 {
        case failure = 1, usage = 2, conflict = 3, denied = 4, unavailable = 5
    }
    let code: Code
    let message: String
    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    var description: String { message }
}
