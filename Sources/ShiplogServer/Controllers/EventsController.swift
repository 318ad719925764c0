import Hummingbird
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
        return routes
    }

    @Sendable func post(_ request: Request, context: Context) async throws -> Response {
        let framing: NativeSource.Framing
        switch MediaKind(request.headers[.contentType]) {
        case .json, .missing: framing = .json
        case .ndjson: framing = .ndjson
        case .other(let type):
            throw APIError(.unsupportedMediaType, "Content-Type \(type) is not accepted here; send application/json (an event or an array) or application/x-ndjson", field: "Content-Type")
        }
        let body = try await ingest.readBody(request)
        let now = Timestamp.now()
        let events: [PreparedEvent]
        switch NativeSource.decode(body, framing: framing, receivedAt: now) {
        case .success(let e): events = e
        case .failure(let e):
            ingest.rejected(.native)
            throw APIError(.badRequest, e.message, field: e.field, events: e.events)
        }
        let single = framing == .json && body.first(where: { $0 > 0x20 }) == UInt8(ascii: "{")
        return try await ingest.append(events, format: .native, single: single)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let query = try EventQuery(parameters: request.uri.queryParameters)
        let page = try await ingest.log.page(query)
        var members: [(String, JSONValue)] = [("events", .array(page.events.map(\.jsonValue)))]
        if let next = page.next { members.append(("next", .string(next.token))) }
        return .json(.object(members))
    }
}

extension EventQuery {
    /// Reads `environment`, `service`, `type`, `since`, `until`, `limit` and `cursor`.
    init(parameters: Parameters) throws {
        self.init()
        let known: Set<String> = ["environment", "env", "service", "type", "since", "until", "limit", "cursor"]
        for (key, _) in parameters where !known.contains(String(key)) {
            throw APIError(.badRequest, "unknown query parameter \"\(key)\"", field: String(key))
        }
        if let env = parameters.get("environment") ?? parameters.get("env") {
            guard Event.isValidName(env) else { throw APIError(.badRequest, "not a valid environment name", field: "environment") }
            environment = env
        }
        if let service = parameters.get("service") {
            guard Event.isValidName(service) else { throw APIError(.badRequest, "not a valid service name", field: "service") }
            self.service = service
        }
        if let type = parameters.get("type") {
            guard let t = EventType(rawValue: type) else {
                throw APIError(.badRequest, "unknown type \"\(type)\"; expected one of \(EventType.allCases.map(\.rawValue).joined(separator: ", "))", field: "type")
            }
            self.type = t
        }
        let now = Timestamp.now()
        for name in ["since", "until"] {
            guard let text = parameters.get(name) else { continue }
            guard let bound = Timestamp.parseBound(text, now: now) else {
                throw APIError(.badRequest, "\(name) must be \(TimeSpan.expected) or an RFC 3339 time (years 1970–2261)", field: name)
            }
            if name == "since" { since = bound } else { until = bound }
        }
        if let text = parameters.get("limit") {
            guard let n = Int(text), n >= 1, n <= EventQuery.maxLimit else {
                throw APIError(.badRequest, "limit must be a whole number from 1 to \(EventQuery.maxLimit)", field: "limit")
            }
            limit = n
        }
        if let text = parameters.get("cursor") {
            guard let c = EventCursor(token: text) else {
                throw APIError(.badRequest, "cursor is not one this server handed out (use the \"next\" value of the previous page)", field: "cursor")
            }
            cursor = c
        }
    }
}

/// What a Content-Type header says about the body.
enum MediaKind: Equatable {
    case json, ndjson, missing
    case other(String)

    /// The media type without parameters, lowercased: `Application/JSON; charset=utf-8` → `application/json`.
    static func baseType(_ header: String) -> String {
        var bytes = header.utf8.prefix { $0 != UInt8(ascii: ";") }[...]
        let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        while let b = bytes.first, blank(b) { bytes.removeFirst() }
        while let b = bytes.last, blank(b) { bytes.removeLast() }
        return String(decoding: bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    init(_ header: String?) {
        guard let header else {
            self = .missing
            return
        }
        let type = Self.baseType(header)
        switch type {
        case "application/json", "text/json": self = .json
        case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines": self = .ndjson
        case "": self = .missing
        default: self = .other(type)
        }
    }
}
