import Foundation
import ShiplogModel

/// What an append answers for one event: where it is in the log and whether this request
/// wrote it. A lone object posted gets one of these; a batch gets `AppendAnswer`.
public struct AppendResult: Codable, Sendable, Hashable {
    public enum Status: String, Codable, Sendable {
        case created, duplicate
    }

    public var sequence: Int64
    public var id: String
    public var status: Status

    public init(sequence: Int64, id: String, status: Status) {
        self.sequence = sequence
        self.id = id
        self.status = status
    }
}

/// The answer to a batch (an array, NDJSON, a webhook's items): one result per event, in
/// order, and the items that map to no event.
public struct AppendAnswer: Codable, Sendable, Hashable {
    public var results: [AppendResult]
    /// Absent when nothing was skipped (but for a body whose every item was).
    public var skipped: [SkippedAnswer]?

    public init(results: [AppendResult], skipped: [SkippedAnswer]? = nil) {
        self.results = results
        self.skipped = skipped
    }
}

/// An item acknowledged and not stored, and why.
public struct SkippedAnswer: Codable, Sendable, Hashable {
    public var index: Int?
    public var reason: String

    public init(index: Int?, reason: String) {
        self.index = index
        self.reason = reason
    }
}

/// Every error's body: `{"error": "…", "field": "…", "limit": 10000, "events": [{"index": 2, "field": …, "message": …}]}`.
public struct ErrorAnswer: Codable, Sendable, Hashable {
    /// One problem of one event of a batch.
    public struct EventProblem: Codable, Sendable, Hashable {
        public var index: Int?
        public var field: String
        public var message: String

        public init(index: Int?, field: String, message: String) {
            self.index = index
            self.field = field
            self.message = message
        }
    }

    public var error: String
    public var field: String?
    /// The limit a refused request went beyond (`--max-pairs`), when one did.
    public var limit: Int?
    public var events: [EventProblem]?

    public init(error: String, field: String? = nil, limit: Int? = nil, events: [EventProblem]? = nil) {
        self.error = error
        self.field = field
        self.limit = limit
        self.events = events
    }

    /// The answer as a CLI prints it: the message, then a line per problem.
    public func text(status: Int) -> String {
        var text = "server answered \(status): \(error)"
        for problem in events ?? [] {
            text += "\n  " + (problem.index.map { "event \($0): " } ?? "") + problem.field + ": " + problem.message
        }
        return text
    }
}

/// How the answers are written and read: compact JSON, keys sorted (so answers are the same
/// bytes every time).
public enum APIBodies {
    public static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // The types above hold only strings, numbers and arrays of them: encoding cannot fail.
        return Array((try? encoder.encode(value)) ?? Data("{}".utf8))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) -> T? {
        try? JSONDecoder().decode(type, from: Data(bytes))
    }
}

/// One page of history (`GET /api/v1/events`): the rows, newest first, and where the next
/// page starts (absent on the last).
public struct HistoryPage: Codable, Sendable, Equatable {
    public var events: [EventRecord]
    public var next: String?

    public init(events: [EventRecord], next: String?) {
        self.events = events
        self.next = next
    }
}

/// A row of the log as the API shows it.
public struct EventRecord: Codable, Sendable, Equatable {
    public var sequence: Int64
    public var receivedAt: String
    public var format: String
    public var event: JSONValue

    public init(_ stored: StoredEvent) {
        sequence = stored.sequence
        receivedAt = stored.receivedAt.rfc3339
        format = stored.format.rawValue
        event = stored.event.jsonValue
    }

    /// The row, when its fields are valid (a server of this version sends only such rows).
    public var stored: StoredEvent? {
        guard let received = Timestamp(rfc3339: receivedAt), let format = SourceFormat(rawValue: format),
            case .success(let event) = Event.validate(event, now: nil)
        else { return nil }
        return StoredEvent(sequence: sequence, event: event, receivedAt: received, format: format)
    }
}

/// The gate's answer (`GET /api/v1/gate`): 200 with the environments checked, or 412 naming
/// the first one the artifact has not passed (PRODUCT.md §3, *Passed*): never made live
/// there (`reason` "missing"), or its latest deployment there failed or was failed
/// (`reason` "failed", `failedBy` the event that failed it).
public struct GateAnswer: Codable, Sendable, Equatable {
    public var passed: Bool
    public var checked: [String]?
    public var missing: String?
    public var reason: String?
    public var failedBy: EventReference?

    public init(passed: Bool, checked: [String]? = nil, missing: String? = nil, reason: String? = nil, failedBy: EventReference? = nil) {
        self.passed = passed
        self.checked = checked
        self.missing = missing
        self.reason = reason
        self.failedBy = failedBy
    }
}

/// An event of the log as an answer names it.
public struct EventReference: Codable, Sendable, Equatable {
    public var id: String
    public var sequence: Int64
    public var type: String
    public var time: String
    public var environment: String?

    public init(id: String, sequence: Int64, type: String, time: String, environment: String? = nil) {
        self.id = id
        self.sequence = sequence
        self.type = type
        self.time = time
        self.environment = environment
    }
}
