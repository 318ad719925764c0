import Hummingbird
import ShiplogModel
import ShiplogSources

/// `POST /api/v1/webhooks/argocd`: the body of shiplog's Argo CD notification template
/// (`deploy/argocd/`). Any Content-Type, or none: Argo CD's webhook service sends none unless
/// configured to.
struct ArgoCDWebhookController<Context: RequestContext> {
    let ingest: Ingest

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post(use: post)
        return routes
    }

    @Sendable func post(_ request: Request, context: Context) async throws -> Response {
        let body = try await ingest.readBody(request)
        return try await ingest.append(ArgoCDSource.decode(body, receivedAt: .now()), format: .argocd)
    }
}
