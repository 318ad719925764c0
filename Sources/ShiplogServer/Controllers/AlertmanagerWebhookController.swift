import Hummingbird
import ShiplogModel
import ShiplogSources

/// `POST /api/v1/webhooks/alertmanager`: firing alerts open incidents, resolved alerts resolve them.
struct AlertmanagerWebhookController<Context: RequestContext> {
    let ingest: Ingest
    let labels: AlertmanagerSource.LabelNames

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post(use: post)
        return routes
    }

    @Sendable func post(_ request: Request, context: Context) async throws -> Response {
        if case .other(let type) = MediaKind(request.headers[.contentType]) {
            throw APIError(.unsupportedMediaType, "Content-Type \(type) is not accepted; Alertmanager sends application/json", field: "Content-Type")
        }
        let body = try await ingest.readBody(request)
        return try await ingest.append(AlertmanagerSource.decode(body, labels: labels, receivedAt: .now()), format: .alertmanager)
    }
}
