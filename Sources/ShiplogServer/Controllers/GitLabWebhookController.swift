import Hummingbird
import ShiplogModel
import ShiplogSources

/// `POST /api/v1/webhooks/gitlab`: Deployment and Merge Request hooks. With a secret token
/// (`--gitlab-token`), every request must carry it in `X-Gitlab-Token` (GitLab sends the plain
/// token; there is no signature of the body), which then stands in for the write token.
struct GitLabWebhookController<Context: RequestContext> {
    let ingest: Ingest
    let token: String?
    let services: GitLabSource.ServiceMap

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post(use: post)
        return routes
    }

    @Sendable func post(_ request: Request, context: Context) async throws -> Response {
        if let token {
            try ingest.requireHeader(
                GitLabSource.tokenHeader,
                of: request,
                source: .gitlab,
                missing: "the \(GitLabSource.tokenHeader) header is missing; set the webhook's secret token to shiplog's --gitlab-token",
                mismatch: "the \(GitLabSource.tokenHeader) header is not this shiplog's --gitlab-token"
            ) { constantTimeEquals($0, token) }
        }
        try ingest.requireJSON(request, sender: "GitLab")
        let body = try await ingest.readBody(request)
        let batch = GitLabSource.decode(body, idempotencyKey: request.header(named: "Idempotency-Key"), services: services, receivedAt: .now())
        return try await ingest.append(batch, format: .gitlab)
    }
}
