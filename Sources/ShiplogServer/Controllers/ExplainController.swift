import Hummingbird
import ShiplogMetrics
import ShiplogModel
import ShiplogStore

/// `GET /api/v1/explain?service=S&environment=E&window=30d`: the events behind each figure
/// of one service and environment (`Explanation`).
struct ExplainController<Context: RequestContext> {
    let log: any EventLog
    let pipeline: Pipeline

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get(use: explain)
        return routes
    }

    @Sendable func explain(_ request: Request, context: Context) async throws -> Response {
        let q = request.uri.queryParameters
        for (key, _) in q where !["service", "environment", "env", "window"].contains(String(key)) {
            throw APIError(.badRequest, "unknown query parameter \"\(key)\"", field: String(key))
        }
        guard let service = q.get("service") else { throw APIError(.badRequest, "service is required", field: "service") }
        guard Event.isValidName(service) else { throw APIError(.badRequest, "not a valid service name", field: "service") }
        guard let environment = q.get("environment") ?? q.get("env") else {
            throw APIError(.badRequest, "environment is required", field: "environment")
        }
        guard Event.isValidName(environment) else { throw APIError(.badRequest, "not a valid environment name", field: "environment") }
        let windowText = q.get("window") ?? "30d"
        guard let window = Window(parsing: windowText) else {
            throw APIError(.badRequest, "window must be a span from 1s to \(Window.longest.label), like 7d, 30d or 12h", field: "window")
        }
        let events = try await log.serviceEvents(service)
        guard events.contains(where: { $0.event.environment == environment }) else {
            throw APIError(.notFound, "no events for service \(service) in environment \(environment)", field: "environment")
        }
        let explanation = Explanation(
            service: service,
            environment: environment,
            window: window,
            now: .now(),
            pipeline: pipeline,
            serviceEvents: events
        )
        return .json(explanation.jsonValue)
    }
}
