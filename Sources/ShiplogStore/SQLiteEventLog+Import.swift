import Foundation
import GRDB
import ShiplogModel

/// Bulk import: large transactions for `shiplog events import`.
extension SQLiteEventLog {
    /// Checks, without writing, that no event reuses an id the log holds with other content.
    /// For the events `exact` names (rows of an export, which carry their own content digest),
    /// other content is also a stored event that differs.
    public func firstConflict(in events: [PreparedEvent], exact: (Int) -> Bool = { _ in false }) throws -> AppendError? {
        try database.read { db in
            let lookup = try db.cachedStatement(sql: "SELECT seq, content_digest, event FROM events WHERE event_id = ?")
            for (index, event) in events.enumerated() {
                if let row = try Row.fetchOne(lookup, arguments: [event.id]) {
                    let digest: String = row[1]
                    let stored: String = row[2]
                    if digest != event.contentDigest || (exact(index) && stored != event.canonical) {
                        return AppendError.conflict(index: index, id: event.id, existing: row[0])
                    }
                }
            }
            return nil
        }
    }

    /// Writes already validated events in large transactions (for `events import`).
    /// Call `firstConflict(in:)` first: a conflict found here stops the import after the
    /// transactions already committed.
    public func importEventsNow(
        _ events: [PreparedEvent],
        transactionSize: Int = 50_000,
        progress: (Int) -> Void = { _ in }
    ) throws -> ImportResult {
        var result = ImportResult()
        var start = 0
        while start < events.count {
            let end = min(start + transactionSize, events.count)
            let chunk = events[start..<end]
            let outcomes: [AppendOutcome]
            do {
                outcomes = try importChunk(chunk, at: start)
            } catch {
                let explained = StoreError.explaining(error, path: path, busyTimeout: busyTimeout)
                if start == 0 { throw explained }
                throw StoreError.importStopped(imported: start, of: events.count, reason: explained)
            }
            result.count(outcomes)
            start = end
            progress(end)
        }
        return result
    }

    /// One import transaction, synced before it returns.
    private func importChunk(_ chunk: ArraySlice<PreparedEvent>, at start: Int) throws -> [AppendOutcome] {
        var last: Int64 = 0
        var created: [StoredEvent] = []
        let outcomes: [AppendOutcome] = try database.writeWithoutTransaction { db in
            var outcomes: [AppendOutcome] = []
            outcomes.reserveCapacity(chunk.count)
            try db.inTransaction(.immediate) {
                var tip = try ChainTip.read(db)
                for (offset, event) in chunk.enumerated() {
                    outcomes.append(try Self.insert(event, index: start + offset, tip: &tip, clock: clock, created: &created, db: db))
                }
                last = tip.sequence
                return .commit
            }
            return outcomes
        }
        try walSync.syncNow()
        recent.append(created)
        committed.publish(last)
        return outcomes
    }
}
