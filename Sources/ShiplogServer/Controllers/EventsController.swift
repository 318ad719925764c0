import Hummingbird
import ShiplogAPI
import ShiplogModel
import ShiplogSources
import ShiplogStore

/// `POST /api/v1/events` (native ingest) and `GET /api/v1/events` (history pages).
struct EventsController<Context: RequestContext> {
    let ingest: Ingest

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post(use: post)
        routes.get(use: list)
        routes.get(":sequence/raw", use: raw)
        return routes
    }

    @Sendable func post(_ request: Request, context: Context) async throws -> Response {
        let framing: NativeSource.Framing
        switch MediaKind(request.headers[.contentType]) {
        case .json, .missing: framing = .json
        case .ndjson: framing = .ndjson
        case .other(let type):
            throw APIError(
                .unsupportedMediaType,
                "Content-Type \(type) is not accepted here; send application/json (an event or an array) or application/x-ndjson",
                field: "Content-Type"
            )
        }
        let body = try await ingest.readBody(request)
        return try await ingest.append(NativeSource.decode(body, framing: framing, receivedAt: .now()), format: .native)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let query = try EventQuery(parameters: request.uri.queryParameters)
        let page = try await ingest.log.page(query)
        return .json(HistoryPage(events: page.events.map(EventRecord.init), next: page.next?.token))
    }
}

extension EventsController {
    /// `GET /api/v1/events/{sequence}/raw`: the body the row was received in, as stored. Shown
    /// as text and never interpreted by a browser (`nosniff`, a sandboxing policy).
    @Sendable func raw(_ request: Request, context: Context) async throws -> Response {
        guard let text = context.parameters.get("sequence"), let sequence = Int64(text), sequence > 0 else {
            throw APIError(.badRequest, "the sequence must be a positive whole number", field: "sequence")
        }
        guard let body = try await ingest.log.rawBody(sequence) else {
            throw APIError(.notFound, "no event with sequence \(sequence)", field: "sequence")
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/plain; charset=utf-8", .xContentTypeOptions: "nosniff",
                .contentSecurityPolicy: "default-src 'none'; sandbox", .contentDisposition: "inline",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}

extension EventQuery {
    /// Reads `environment`, `service`, `type`, `since`, `until`, `limit` and `cursor`.
    init(parameters: Parameters) throws {
        for (key, _) in parameters where !EventQuery.parameterNames.contains(String(key)) {
            throw APIError(.badRequest, "unknown query parameter \"\(key)\"", field: String(key))
        }
        do {
            try self.init(
                environment: parameters.get("environment") ?? parameters.get("env"),
                service: parameters.get("service"),
                type: parameters.get("type"),
                since: parameters.get("since"),
                until: parameters.get("until"),
                limit: parameters.get("limit"),
                cursor: parameters.get("cursor"),
                now: .now()
            )
        } catch {
            throw APIError(.badRequest, error.message, field: error.field)
        }
    }
}
