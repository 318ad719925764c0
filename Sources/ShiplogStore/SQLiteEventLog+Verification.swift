import Crypto
import Foundation
import GRDB
import ShiplogModel

/// Verification: the hash chain, the indexed columns and the append-only schema.
extension SQLiteEventLog {
    public func verify() async throws -> VerifyReport {
        try await pool.read { db in try Self.verify(db) }
    }

    /// Verifies the log at `path` through a read-only connection, changing nothing: a file
    /// that is not a shiplog event log is refused (`StoreError.notAnEventLog`), and one written
    /// before the chain covered every column is checked as it is. With `head` (a row and the
    /// hash recorded for it elsewhere), a log whose row there is missing or different fails:
    /// a prefix of a chain is a valid chain, so only a pinned head reveals a cut tail.
    public static func verifyFile(path: String, head: (sequence: Int64, hash: String)? = nil) throws -> VerifyReport {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError.missingDatabase(path: path) }
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(30)
        let queue = try DatabaseQueue(path: path, configuration: config)
        defer { try? queue.close() }
        return try queue.read { db in
            let tables = try String.fetchSet(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
            let columns = tables.contains("events") ? try db.columns(in: "events").map(\.name) : []
            let expected = [
                "seq", "event_id", "type", "service", "environment", "time_ns", "received_ns", "format", "content_digest", "event", "raw", "hash",
            ]
            guard tables.contains("grdb_migrations"), Array(columns.prefix(expected.count)) == expected else {
                throw StoreError.notAnEventLog(path: path)
            }
            var report = try verify(db, hasChainColumn: columns.contains("chain"))
            if let head, report.isIntact {
                let stored = try rowHash(db, head.sequence).map { hex($0) }
                if stored == nil {
                    report.brokenSequence = head.sequence
                    report.brokenReason =
                        "the pinned head is row \(head.sequence), but the log ends at row \(report.rowsChecked): rows were cut from its end"
                } else if stored != head.hash.lowercased() {
                    report.brokenSequence = head.sequence
                    report.brokenReason = "row \(head.sequence) has hash \(stored!), not the pinned \(head.hash): the log was rewritten up to there"
                }
            }
            let tip = try ChainTip.read(db)
            report.head = tip.sequence > 0 ? (tip.sequence, hex(tip.hash)) : nil
            return report
        }
    }

    /// Synchronous form of `verify()` for the CLI.
    public func verifyNow() throws -> VerifyReport {
        try pool.read { db in try Self.verify(db) }
    }

    /// The hash of the newest row: record it somewhere else to detect a truncated tail later.
    public func headHash() throws -> String? {
        try pool.read(Self.headHash)
    }

    static func headHash(_ db: Database) throws -> String? {
        try Data.fetchOne(db, sql: "SELECT hash FROM events ORDER BY seq DESC LIMIT 1").map { hex($0) }
    }

    static func verify(_ db: Database, hasChainColumn: Bool = true) throws -> VerifyReport {
        var report = VerifyReport()
        let triggers = try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'")
        for trigger in Schema.appendOnlyTriggers {
            guard let row = triggers.first(where: { ($0["name"] as String) == trigger.name }) else {
                report.schemaProblems.append("trigger \(trigger.name) is missing: the log is not append-only")
                continue
            }
            let sql: String = row["sql"] ?? ""
            if Schema.normalized(sql) != Schema.normalized(trigger.sql) {
                report.schemaProblems.append(
                    "trigger \(trigger.name) was altered (\(Schema.normalized(sql).prefix(200))): it may no longer refuse every change"
                )
            }
        }
        for row in triggers where !Schema.appendOnlyTriggers.contains(where: { $0.name == (row["name"] as String) }) {
            report.schemaProblems.append("trigger \(row["name"] as String) on events is not shiplog's")
        }
        var previous: [UInt8] = []
        var expected: Int64 = 1
        var chainSeen = 1
        let cursor = try Row.fetchCursor(
            db,
            sql: """
                SELECT seq, event_id, type, service, environment, time_ns, event, hash, \(hasChainColumn ? "chain" : "1"),
                       received_ns, format, content_digest, raw
                FROM events ORDER BY seq
                """
        )
        while let row = try cursor.next() {
            let sequence: Int64 = row[0]
            func broken(_ reason: String) -> VerifyReport {
                report.brokenSequence = sequence
                report.brokenReason = reason
                return report
            }
            if sequence != expected {
                return broken("expected sequence \(expected) here: rows \(expected)…\(sequence - 1) are missing")
            }
            let canonical: String = row[6]
            let stored: Data = row[7]
            let chain: Int = row[8]
            guard chain == 1 || chain == 2 else { return broken("unknown chain version \(chain)") }
            if chain < chainSeen {
                return broken("chain version \(chain) after rows of version \(chainSeen): the row was rewritten to escape the newer hash")
            }
            chainSeen = chain
            let raw: Data = row[12]
            let envelope =
                chain == 2
                ? Envelope(receivedNs: row[9], format: row[10], contentDigest: row[11], raw: Array(raw)) : nil
            let hash = chainHash(previous: previous, canonical: canonical, envelope: envelope)
            if Array(stored) != hash {
                return broken(
                    chain == 2
                        ? "hash does not match SHA-256(previous hash ‖ event ‖ receive time, format, digest, raw body): the row or one before it was changed"
                        : "hash does not match SHA-256(previous hash ‖ event): the row or one before it was changed"
                )
            }
            if chain == 1, SourceFormat(rawValue: row[10] as String) == nil {
                return broken("the format column holds no known format")
            }
            guard let json = try? JSONValue.parse(canonical), case .success(let event) = Event.validate(json, now: nil) else {
                return broken("the stored event is not a valid event")
            }
            if event.canonicalJSON != canonical {
                return broken("the stored event is not in canonical form")
            }
            let environment: String? = row[4]
            if event.id != row[1] || event.type.rawValue != (row[2] as String) || event.service != (row[3] as String)
                || event.environment != environment || event.time?.nanoseconds != (row[5] as Int64)
            {
                return broken("the indexed columns (id, type, service, environment, time) disagree with the hashed event")
            }
            previous = hash
            expected += 1
            report.rowsChecked += 1
        }
        return report
    }
}
