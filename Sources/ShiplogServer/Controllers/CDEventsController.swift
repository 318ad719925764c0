import Hummingbird
import ShiplogModel
import ShiplogSources

/// `POST /api/v1/cdevents`: CDEvents over CloudEvents HTTP, in binary, structured or batch mode.
struct CDEventsController<Context: RequestContext> {
    let ingest: Ingest

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post(use: post)
        return routes
    }

    @Sendable func post(_ request: Request, context: Context) async throws -> Response {
        let mode: CDEventsSource.Mode
        let type = request.headers[.contentType].map(MediaKind.baseType) ?? ""
        switch type {
        case "application/cloudevents+json": mode = .structured
        case "application/cloudevents-batch+json": mode = .batch
        case "", "application/json", "text/json":
            var ce: [String: String] = [:]
            for field in request.headers where field.name.canonicalName.hasPrefix("ce-") {
                ce[field.name.canonicalName] = field.value
            }
            mode = .binary(headers: ce)
        default:
            throw APIError(
                .unsupportedMediaType,
                "Content-Type \(type) is not accepted here; send a CDEvent as application/json with ce-* headers (binary mode), application/cloudevents+json or application/cloudevents-batch+json",
                field: "Content-Type"
            )
        }
        let body = try await ingest.readBody(request)
        return try await ingest.append(CDEventsSource.decode(body, mode: mode, receivedAt: .now()), format: .cdevents)
    }
}
