import GRDB
import ShiplogModel

/// A row of `events` as the readers fetch it, by column name: `SELECT \(EventRow.columns)`.
struct EventRow: FetchableRecord, Sendable {
    /// The columns every read selects, in one place.
    static let columns = "seq, event, received_ns, format"

    var sequence: Int64
    /// The canonical event (the text the hash chain covers).
    var event: String
    var receivedNs: Int64
    var format: String

    init(row: Row) {
        sequence = row["seq"]
        event = row["event"]
        receivedNs = row["received_ns"]
        format = row["format"]
    }

    /// The stored event; a row whose event does not parse and validate is corrupt.
    func decoded() throws -> StoredEvent {
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
}
