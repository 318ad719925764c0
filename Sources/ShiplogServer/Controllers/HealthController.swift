import Hummingbird
import ShiplogModel
import ShiplogStore

/// `/healthz` (the process answers) and `/readyz` (the event log can be read).
struct HealthController<Context: RequestContext> {
    let log: any EventLog

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("healthz") { _, _ in Response.json(.object([("status", .string("ok"))])) }
        routes.get("readyz", use: ready)
        return routes
    }

    @Sendable func ready(_ request: Request, context: Context) async throws -> Response {
        do {
            let last = try await log.lastSequence()
            return .json(.object([("status", .string("ready")), ("lastSequence", .number(String(last)))]))
        } catch {
            return .json(.object([("status", .string("not ready")), ("error", .string("\(error)"))]), status: .serviceUnavailable)
        }
    }
}
