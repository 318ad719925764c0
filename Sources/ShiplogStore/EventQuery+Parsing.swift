import ShiplogModel

/// A filter of a history query that cannot be used, and why: the HTTP route answers 400 with
/// `field`, the CLI names its option.
public struct QueryProblem: Error, Sendable, Equatable {
    /// `environment`, `service`, `type`, `since`, `until`, `limit` or `cursor`.
    public var field: String
    /// What is wrong, after the field's name: `must be a whole number from 1 to 1000`.
    public var detail: String

    /// The problem as a sentence of its own.
    public var message: String {
        ["environment", "service", "type"].contains(field) ? detail : "\(field) \(detail)"
    }

    init(field: String, message detail: String) {
        self.field = field
        self.detail = detail
    }
}

extension EventQuery {
    /// The names a query takes; `env` is another name for `environment`.
    public static let parameterNames: Set<String> = ["environment", "env", "service", "type", "since", "until", "limit", "cursor"]

    /// A query from text values, each checked the same way wherever it comes from (the
    /// history route's parameters, `events list`'s options): spans are back from `now`.
    public init(
        environment: String? = nil,
        service: String? = nil,
        type: String? = nil,
        since: String? = nil,
        until: String? = nil,
        limit: String? = nil,
        cursor: String? = nil,
        now: Timestamp
    ) throws(QueryProblem) {
        self.init()
        if let environment {
            guard Event.isValidName(environment) else { throw QueryProblem(field: "environment", message: "not a valid environment name") }
            self.environment = environment
        }
        if let service {
            guard Event.isValidName(service) else { throw QueryProblem(field: "service", message: "not a valid service name") }
            self.service = service
        }
        if let type {
            guard let t = EventType(rawValue: type) else {
                throw QueryProblem(
                    field: "type",
                    message: "unknown type \"\(type)\"; expected one of \(EventType.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            self.type = t
        }
        for (name, text) in [("since", since), ("until", until)] {
            guard let text else { continue }
            guard let bound = Timestamp.parseBound(text, now: now) else {
                throw QueryProblem(field: name, message: "must be \(TimeSpan.expected) or an RFC 3339 time (years 1970–2261)")
            }
            if name == "since" { self.since = bound } else { self.until = bound }
        }
        if let limit {
            guard let n = Int(limit), n >= 1, n <= EventQuery.maxLimit else {
                throw QueryProblem(field: "limit", message: "must be a whole number from 1 to \(EventQuery.maxLimit)")
            }
            self.limit = n
        }
        if let cursor {
            guard let c = EventCursor(token: cursor) else {
                throw QueryProblem(field: "cursor", message: "is not one this server handed out (use the \"next\" value of the previous page)")
            }
            self.cursor = c
        }
    }
}
