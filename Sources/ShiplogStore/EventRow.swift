import Foundation
import GRDB
import ShiplogModel

/// A row of `events` as the readers fetch it, by column name: `SELECT \(EventRow.columns)`.
package struct EventRow: FetchableRecord, Sendable {
    /// The columns every read selects, in one place.
    package static let columns = "seq, event, received_ns, format"

    var sequence: Int64
    /// The canonical event (the text the hash chain covers).
    var event: String
    var receivedNs: Int64
    var format: String

    package init(sequence: Int64, event: String, receivedNs: Int64, format: String) {
        self.sequence = sequence
        self.event = event
        self.receivedNs = receivedNs
        self.format = format
    }

    package init(row: Row) {
        sequence = row["seq"]
        event = row["event"]
        receivedNs = row["received_ns"]
        format = row["format"]
    }

    /// The stored event; a row whose event does not parse and validate is corrupt.
    package func decoded() throws -> StoredEvent {
        let parsed: Event
        do {
            parsed = try Event.validate(try JSONValue.parse(event), now: nil).get()
        } catch {
            throw StoreError.corruptRow(sequence: sequence, reason: "\(error)")
        }
        return StoredEvent(
            sequence: sequence,
            event: parsed,
            receivedAt: Timestamp(nanoseconds: receivedNs),
            format: SourceFormat(rawValue: format) ?? .native
        )
    }

    /// Decodes rows on every core: parsing the stored JSON is most of a replay's work.
    package static func decodeInParallel(_ rows: [EventRow]) throws -> [StoredEvent] {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, rows.count / 1000))
        if workers == 1 { return try rows.map { try $0.decoded() } }
        nonisolated(unsafe) var results = [Result<StoredEvent, any Error>?](repeating: nil, count: rows.count)
        let input = rows
        results.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let chunk = (input.count + workers - 1) / workers
                for i in (w * chunk)..<min(input.count, (w + 1) * chunk) {
                    out[i] = Result { try input[i].decoded() }
                }
            }
        }
        return try results.map { try $0!.get() }
    }
}
