import Hummingbird
import ShiplogModel
import ShiplogStore

/// The one append path every ingest route shares: body limits, durable append, the answer.
public struct Ingest: Sendable {
    public let log: any EventLog
    public let maxBodyBytes: Int

    public init(log: any EventLog, maxBodyBytes: Int) {
        self.log = log
        self.maxBodyBytes = maxBodyBytes
    }

    /// Reads the body, refusing with 413 as soon as it is known to exceed the limit
    /// (from Content-Length before reading, or while streaming).
    func readBody(_ request: Request) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            throw APIError(.contentTooLarge, "the body is \(length) bytes; this server accepts at most \(maxBodyBytes) (--max-body)")
        }
        do {
            let buffer = try await request.body.collect(upTo: maxBodyBytes)
            return Array(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "the body is larger than \(maxBodyBytes) bytes (--max-body)")
        }
    }

    /// Appends durably and answers: 201 when anything was written, 200 when every event was
    /// a duplicate, 409 on a conflicting id. A lone object gets a lone result.
    func append(_ events: [PreparedEvent], format: SourceFormat, single: Bool) async throws -> Response {
        let outcomes: [AppendOutcome]
        do {
            outcomes = try await log.append(events)
        } catch let error as AppendError {
            switch error {
            case let .conflict(index, id, existing):
                var e = APIError(.conflict, "id \"\(id)\" is already recorded (sequence \(existing)) with different content", field: "id")
                if !single { e.events = [EventValidationError(index: index, errors: [FieldError(field: "id", message: "already recorded with different content")])] }
                throw e
            }
        }
        let results: [JSONValue] = zip(events, outcomes).map { event, outcome in
            .object([
                ("sequence", .number(String(outcome.sequence))),
                ("id", .string(event.id)),
                ("status", .string(outcome.isDuplicate ? "duplicate" : "created")),
            ])
        }
        let status: HTTPResponse.Status = outcomes.allSatisfy(\.isDuplicate) ? .ok : .created
        if single, let only = results.first { return .json(only, status: status) }
        return .json(.object([("results", .array(results))]), status: status)
    }
}
