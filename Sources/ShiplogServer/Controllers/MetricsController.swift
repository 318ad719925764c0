import Hummingbird
import ShiplogAPI
import ShiplogMetrics
import ShiplogModel
import ShiplogStore

/// `GET /metrics` (Prometheus text 0.0.4, or OpenMetrics when asked), `GET /api/v1/status` and `GET /api/v1/report`.
struct MetricsController<Context: RequestContext> {
    let metrics: LiveMetrics

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("metrics", use: scrape)
        routes.get("api/v1/status", use: status)
        routes.get("api/v1/report", use: report)
        return routes
    }

    @Sendable func scrape(_ request: Request, context: Context) async throws -> Response {
        let format = ExpositionFormat(accept: request.headers[.accept])
        let text = try await offloaded { [metrics] in metrics.render(format: format) }
        return Response(status: .ok, headers: [.contentType: format.contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// `?environment=production&window=30d&service=S`: the DORA table as JSON.
    @Sendable func report(_ request: Request, context: Context) async throws -> Response {
        let q = request.uri.queryParameters
        let projection = try await offloaded { [metrics] in metrics.projection }
        let environment = q.get("environment") ?? projection.pipeline.production
        guard Event.isValidName(environment) else { throw APIError(.badRequest, "not a valid environment name", field: "environment") }
        let windowText = q.get("window") ?? "30d"
        guard let window = Window(parsing: windowText) else {
            throw APIError(.badRequest, "window must be a span from 1s to \(Window.longest.label), like 7d, 30d or 12h", field: "window")
        }
        let rows = projection.report(
            environment: environment,
            window: window,
            service: q.get("service"),
            now: Timestamp.now().nanoseconds
        )
        return .json(.object([("rows", .array(rows.map(\.jsonValue)))]))
    }

    @Sendable func status(_ request: Request, context: Context) async throws -> Response {
        .json(try await offloaded { [metrics] in metrics.projection }.status(now: Timestamp.now().nanoseconds))
    }
}
