import Crypto
import Foundation
import GRDB
import ShiplogModel

/// Verification: the hash chain, the indexed columns and the append-only schema.
extension SQLiteEventLog {
    public func verify() async throws -> VerifyReport {
        try await database.read { db in try Self.verify(db) }
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
            if let head {
                report.check(pinned: head, stored: try rowHash(db, head.sequence).map { hex($0) })
            }
            let tip = try ChainTip.read(db)
            report.head = tip.sequence > 0 ? (tip.sequence, hex(tip.hash)) : nil
            return report
        }
    }

    /// Synchronous form of `verify()` for the CLI.
    public func verifyNow() throws -> VerifyReport {
        try database.read { db in try Self.verify(db) }
    }

    /// The hash of the newest row: record it somewhere else to detect a truncated tail later.
    public func headHash() throws -> String? {
        try database.read(Self.headHash)
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
        var walk = HashChain.Walk()
        let cursor = try Row.fetchCursor(
            db,
            sql: """
                SELECT seq, event_id, type, service, environment, time_ns, event, hash, \(hasChainColumn ? "chain" : "1"),
                       received_ns, format, content_digest, raw
                FROM events ORDER BY seq
                """
        )
        while let row = try cursor.next() {
            let stored: Data = row[7]
            let raw: Data = row[12]
            let checked = HashChain.Row(
                sequence: row[0],
                eventID: row[1],
                type: row[2],
                service: row[3],
                environment: row[4],
                timeNs: row[5],
                canonical: row[6],
                hash: Array(stored),
                chain: row[8],
                receivedNs: row[9],
                format: row[10],
                contentDigest: row[11],
                raw: Array(raw)
            )
            if let reason = walk.check(checked) {
                report.brokenSequence = checked.sequence
                report.brokenReason = reason
                return report
            }
            report.rowsChecked += 1
        }
        return report
    }
}
