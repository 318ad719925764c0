import Hummingbird
import ShiplogModel
import ShiplogSources

/// `POST /api/v1/webhooks/pagerduty`: PagerDuty V3 webhooks; triggered and reopened incidents
/// open incidents, resolved ones resolve them. With a secret (`--pagerduty-secret`), every body
/// must carry a matching `X-PagerDuty-Signature`, which then stands in for the write token.
struct PagerDutyWebhookController<Context: RequestContext> {
    let ingest: Ingest
    let secret: String?
    let services: PagerDutySource.ServiceMap

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post(use: post)
        return routes
    }

    @Sendable func post(_ request: Request, context: Context) async throws -> Response {
        try ingest.requireJSON(request, sender: "PagerDuty")
        let body = try await ingest.readBody(request)
        if let secret {
            let header = PagerDutySource.signatureHeader
            try ingest.requireHeader(
                header,
                of: request,
                source: .pagerduty,
                missing: "the \(header) header is missing; copy the webhook subscription's signing secret to shiplog's --pagerduty-secret",
                mismatch: "no v1 signature in \(header) matches the body; check the signing secret"
            ) { PagerDutySource.verifySignature($0, body: body, secret: secret) }
        }
        return try await ingest.append(PagerDutySource.decode(body, services: services, receivedAt: .now()), format: .pagerduty)
    }
}
