import Hummingbird
import ShiplogAPI
import ShiplogMetrics
import ShiplogModel
import ShiplogSources
import ShiplogStore

/// The one append path every ingest route shares: body limits, durable append, the answer.
public struct Ingest: Sendable {
    public let log: any EventLog
    public let metrics: LiveMetrics
    public let maxBodyBytes: Int
    /// How long an answer waits for the metrics to apply its rows.
    let applyTimeout: Duration
    let notApplied: @Sendable (Int64) -> Void

    /// - Parameter onNotApplied: told when the metrics had not applied an acknowledged row
    ///   within `applyTimeout` (the row itself is durable either way).
    public init(
        log: any EventLog,
        metrics: LiveMetrics,
        maxBodyBytes: Int,
        applyTimeout: Duration = .seconds(5),
        onNotApplied: @escaping @Sendable (Int64) -> Void
    ) {
        self.log = log
        self.metrics = metrics
        self.maxBodyBytes = maxBodyBytes
        self.applyTimeout = applyTimeout
        self.notApplied = onNotApplied
    }

    /// Counts a refused body of `format` (400).
    func rejected(_ format: SourceFormat, count: Int = 1) {
        metrics.countIngest(source: format, outcome: .rejected, count: count)
    }

    /// Reads the body, refusing with 413 as soon as it is known to exceed the limit
    /// (from Content-Length before reading, or while streaming), and with 400 when it cannot
    /// be read (a malformed chunk). A leading UTF-8 byte order mark is dropped, one rule for
    /// every route and body shape: it is not part of the content.
    func readBody(_ request: Request) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            throw APIError(.contentTooLarge, "the body is \(length) bytes; this server accepts at most \(maxBodyBytes) (--max-body)")
        }
        do {
            let buffer = try await request.body.collect(upTo: maxBodyBytes)
            let bytes = buffer.readableBytesView
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return Array(bytes.dropFirst(3)) }
            return Array(bytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "the body is larger than \(maxBodyBytes) bytes (--max-body)")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw APIError(.badRequest, "the request body could not be read (\(error)); send a well-formed body")
        }
    }

    /// The route body of every source adapter: a refused body is counted and answered 400;
    /// otherwise the events are appended and the skipped items listed. A body whose every item
    /// was skipped gets 202 and writes nothing.
    func append(_ decoded: Result<SourceBatch, SourceError>, format: SourceFormat) async throws -> Response {
        let batch: SourceBatch
        switch decoded {
        case .success(let b): batch = b
        case .failure(let e):
            rejected(format)
            throw APIError(.badRequest, e.message, field: e.field, events: e.events)
        }
        metrics.countIngest(source: format, outcome: .skipped, count: batch.skipped.count)
        let skipped = batch.skipped.map { SkippedAnswer(index: $0.index, reason: $0.reason) }
        guard !batch.events.isEmpty else {
            return .json(AppendAnswer(results: [], skipped: skipped), status: .accepted)
        }
        return try await append(batch.events, format: format, single: batch.single, skipped: skipped)
    }

    /// Appends durably and answers: 201 when anything was written, 200 when every event was
    /// a duplicate, 409 on a conflicting id. A lone object gets a lone result.
    private func append(_ events: [PreparedEvent], format: SourceFormat, single: Bool, skipped: [SkippedAnswer]) async throws -> Response {
        let reservation: LiveMetrics.PairReservation
        do {
            reservation = try metrics.reservePairs(for: events.map(\.event))
        } catch let error as LiveMetrics.PairLimitExceeded {
            rejected(format, count: events.count)
            throw APIError(.unprocessableContent, error.description, field: "service", limit: error.limit)
        }
        let outcomes: [AppendOutcome]
        do {
            outcomes = try await log.append(events)
        } catch let error as AppendError {
            metrics.release(reservation)
            metrics.countIngest(source: format, outcome: .conflict, count: events.count)
            switch error {
            case let .conflict(index, id, existing):
                var e = APIError(.conflict, "id \"\(id)\" is already recorded (sequence \(existing)) with different content", field: "id")
                if !single {
                    e.events = [
                        EventValidationError(index: index, errors: [FieldError(field: "id", message: "already recorded with different content")])
                    ]
                }
                throw e
            }
        } catch {
            metrics.release(reservation)
            throw error
        }
        let created = outcomes.count(where: { !$0.isDuplicate })
        metrics.countIngest(source: format, outcome: .created, count: created)
        metrics.countIngest(source: format, outcome: .duplicate, count: events.count - created)
        // The rows are durable; the answer also waits until the metrics show them.
        let newest = outcomes.map(\.sequence).max() ?? 0
        if await !metrics.waitUntilApplied(newest, timeout: applyTimeout) { notApplied(newest) }
        let results = zip(events, outcomes).map { event, outcome in
            AppendResult(sequence: outcome.sequence, id: event.id, status: outcome.isDuplicate ? .duplicate : .created)
        }
        let status: HTTPResponse.Status = outcomes.allSatisfy(\.isDuplicate) ? .ok : .created
        if single, let only = results.first { return .json(only, status: status) }
        return .json(AppendAnswer(results: results, skipped: skipped.isEmpty ? nil : skipped), status: status)
    }
}
