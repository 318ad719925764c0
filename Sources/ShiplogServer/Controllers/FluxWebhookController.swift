import Hummingbird
import ShiplogModel
import ShiplogSources

/// `POST /api/v1/webhooks/flux`: the events of Flux's notification-controller (`generic` and
/// `generic-hmac` providers). With a secret (`--flux-secret`), every body must carry a
/// matching `X-Signature`, which then stands in for the write token.
struct FluxWebhookController<Context: RequestContext> {
    let ingest: Ingest
    let secret: String?
    let environmentFrom: FluxSource.EnvironmentSource

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post(use: post)
        return routes
    }

    @Sendable func post(_ request: Request, context: Context) async throws -> Response {
        try ingest.requireJSON(request, sender: "Flux")
        let body = try await ingest.readBody(request)
        if let secret {
            try ingest.requireHeader(
                FluxSource.signatureHeader,
                of: request,
                source: .flux,
                missing:
                    "the \(FluxSource.signatureHeader) header is missing; use a generic-hmac Provider whose secret's token is shiplog's --flux-secret",
                mismatch: "the \(FluxSource.signatureHeader) signature does not match the body (sha256, sha384 or sha512); check the Provider's token"
            ) { FluxSource.verifySignature($0, body: body, secret: secret) }
        }
        return try await ingest.append(FluxSource.decode(body, environmentFrom: environmentFrom, receivedAt: .now()), format: .flux)
    }
}
