import Hummingbird
import ShiplogAPI
import ShiplogModel

/// An error answered as JSON: `{"error": "…", "field": "…", "limit": 10000, "events": [{"index": 2, "field": …, "message": …}]}`.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    public var field: String?
    public var events: [EventValidationError]
    public var headers: HTTPFields
    /// The limit a refused request went beyond (`--max-pairs`), when one did.
    public var limit: Int?

    public init(
        _ status: HTTPResponse.Status,
        _ message: String,
        field: String? = nil,
        events: [EventValidationError] = [],
        headers: HTTPFields = [:],
        limit: Int? = nil
    ) {
        self.status = status
        self.message = message
        self.field = field
        self.limit = limit
        self.events = events
        self.headers = headers
    }

    /// The body of the answer.
    public var answer: ErrorAnswer {
        let problems = events.flatMap { event in
            event.errors.map { ErrorAnswer.EventProblem(index: event.index, field: $0.field, message: $0.message) }
        }
        return ErrorAnswer(error: message, field: field, limit: limit, events: problems.isEmpty ? nil : problems)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Response.json(answer, status: status)
        response.headers.append(contentsOf: headers)
        return response
    }
}

extension Request {
    /// The first value of a header, by case-insensitive name.
    func header(named name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.canonicalName == lowered }?.value
    }
}
