import Hummingbird
import ShiplogModel
import ShiplogSources

/// `POST /api/v1/webhooks/github`: `deployment` and `deployment_status` webhooks. With a
/// secret (`--github-secret`), every body must carry a valid `X-Hub-Signature-256`; the write
/// token is then not asked for, since GitHub cannot send one.
struct GitHubWebhookController<Context: RequestContext> {
    let ingest: Ingest
    let secret: String?

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post(use: post)
        return routes
    }

    @Sendable func post(_ request: Request, context: Context) async throws -> Response {
        if let type = request.headers[.contentType].map(MediaKind.baseType), type != "application/json" {
            throw APIError(
                .unsupportedMediaType,
                "Content-Type \(type) is not accepted; set the webhook's content type to application/json",
                field: "Content-Type"
            )
        }
        let body = try await ingest.readBody(request)
        if let secret {
            let header = GitHubSource.signatureHeader
            try ingest.requireHeader(
                header,
                of: request,
                source: .github,
                missing: "the \(header) header is missing; set the webhook's secret to shiplog's --github-secret",
                mismatch: "the \(header) signature does not match the body; check the webhook's secret"
            ) { GitHubSource.verifySignature($0, body: body, secret: secret) }
        }
        let event = request.header(named: "X-GitHub-Event")
        if event == "ping" {
            return .json(.object([("status", .string("pong"))]))
        }
        let delivery = request.header(named: "X-GitHub-Delivery")
        return try await ingest.append(GitHubSource.decode(body, event: event, delivery: delivery, receivedAt: .now()), format: .github)
    }
}
