import Hummingbird
import ShiplogModel
import ShiplogStore

/// `/healthz` (the process answers and can still write) and `/readyz` (the event log can be
/// read). A log that refuses writes until a restart (a failed sync) fails both, so that the
/// liveness probe restarts the process; a full disk fails neither (a restart would not help).
struct HealthController<Context: RequestContext> {
    let log: any EventLog

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("healthz", use: health)
        routes.get("readyz", use: ready)
        return routes
    }

    @Sendable func health(_ request: Request, context: Context) async throws -> Response {
        if let failing = writeFailing() { return failing }
        return .json(.object([("status", .string("ok"))]))
    }

    func writeFailing() -> Response? {
        guard let failure = log.writeFailure else { return nil }
        return .json(.object([("status", .string("failing")), ("error", .string("\(failure)"))]), status: .serviceUnavailable)
    }

    @Sendable func ready(_ request: Request, context: Context) async throws -> Response {
        if let failing = writeFailing() { return failing }
        do {
            let last = try await log.lastSequence()
            return .json(.object([("status", .string("ready")), ("lastSequence", .number(String(last)))]))
        } catch {
            return .json(.object([("status", .string("not ready")), ("error", .string("\(error)"))]), status: .serviceUnavailable)
        }
    }
}
