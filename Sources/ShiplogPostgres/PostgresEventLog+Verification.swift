import Foundation
import PostgresNIO
import ShiplogModel
import ShiplogStore

/// Verification: the hash chain, the indexed columns, the chain head and the append-only
/// triggers.
extension PostgresEventLog {
    /// The periodic check of a server: one replica at a time walks the chain (an advisory
    /// lock); a replica that finds another walking waits for it and reports what it found.
    public func verify() async throws -> VerifyReport {
        let started = Timestamp.now().nanoseconds
        return try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(PostgresSchema.verificationLock))", logger: self.logger)
            do {
                var report: VerifyReport
                if let shared = try await Self.latestVerification(since: started, on: connection, logger: self.logger) {
                    report = shared
                } else {
                    report = try await self.verifyChain(pinned: nil)
                    try await Self.record(report, on: connection, logger: self.logger)
                }
                try await connection.query("SELECT pg_advisory_unlock(\(PostgresSchema.verificationLock))", logger: self.logger)
                return report
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(PostgresSchema.verificationLock))", logger: self.logger)
                throw self.explaining(error)
            }
        }
    }

    static func latestVerification(since: Int64, on connection: PostgresConnection, logger: Logger) async throws -> VerifyReport? {
        let rows = try await connection.query(
            """
            SELECT rows_checked, broken_seq, problems FROM verifications
            WHERE verified_ns >= \(since) ORDER BY verified_ns DESC LIMIT 1
            """,
            logger: logger
        )
        for try await (checked, broken, problems) in rows.decode((Int64, Int64?, String).self) {
            var report = VerifyReport(rowsChecked: checked)
            let lines = problems.split(separator: "\n").map(String.init)
            if let broken {
                report.brokenSequence = broken
                report.brokenReason = lines.first
                report.schemaProblems = Array(lines.dropFirst())
            } else {
                report.schemaProblems = lines
            }
            return report
        }
        return nil
    }

    static func record(_ report: VerifyReport, on connection: PostgresConnection, logger: Logger) async throws {
        let problems = ((report.brokenReason.map { [$0] } ?? []) + report.schemaProblems).joined(separator: "\n")
        try await connection.query(
            """
            INSERT INTO verifications (verified_ns, rows_checked, broken_seq, problems)
            VALUES (\(Timestamp.now().nanoseconds), \(report.rowsChecked), \(report.brokenSequence), \(problems))
            """,
            logger: logger
        )
    }

    /// Walks the whole chain from row 1 through the head recorded when the walk began.
    public func verifyChain(pinned: (sequence: Int64, hash: String)?) async throws -> VerifyReport {
        var report = VerifyReport(schemaProblems: try await schemaProblems())
        let head = try await bounded("reading the chain head") {
            try await self.client.query("SELECT seq, hash FROM chain_head").decode((Int64, ByteBuffer).self).first { _ in true }
        }
        guard let head else {
            report.schemaProblems.append("the chain_head table is empty")
            return report
        }
        let headHash = Array(buffer: head.1)
        var walk = HashChain.Walk()
        var after: Int64 = 0
        var lastHash: [UInt8] = []
        while true {
            let batch = try await bounded("reading rows to verify") { [after] in
                var rows: [HashChain.Row] = []
                let query: PostgresQuery = """
                    SELECT seq, event_id, type, service, environment, time_ns, event, hash, chain::bigint,
                           received_ns, format, content_digest, raw
                    FROM events WHERE seq > \(after) ORDER BY seq LIMIT 5000
                    """
                let decoded = try await self.client.query(query).decode(
                    (Int64, String, String, String, String?, Int64, String, ByteBuffer, Int64, Int64, String, String, ByteBuffer).self
                )
                for try await r in decoded {
                    rows.append(
                        HashChain.Row(
                            sequence: r.0,
                            eventID: r.1,
                            type: r.2,
                            service: r.3,
                            environment: r.4,
                            timeNs: r.5,
                            canonical: r.6,
                            hash: Array(buffer: r.7),
                            chain: Int(r.8),
                            receivedNs: r.9,
                            format: r.10,
                            contentDigest: r.11,
                            raw: Array(buffer: r.12)
                        )
                    )
                }
                return rows
            }
            for row in batch {
                if let reason = walk.check(row) {
                    report.brokenSequence = row.sequence
                    report.brokenReason = reason
                    return report
                }
                report.rowsChecked += 1
                lastHash = row.hash
            }
            guard let last = batch.last else { break }
            after = last.sequence
        }
        // Rows committed during the walk are past the head read before it: only a head
        // beyond the last row, or one whose hash is not that row's, is wrong.
        if head.0 > report.rowsChecked {
            report.brokenSequence = report.rowsChecked + 1
            report.brokenReason = "the chain head is row \(head.0), but the log ends at row \(report.rowsChecked): rows were cut from its end"
            return report
        }
        if head.0 == report.rowsChecked, head.0 > 0, headHash != lastHash {
            report.brokenSequence = head.0
            report.brokenReason = "the chain head's hash is not row \(head.0)'s: the head or the row was changed"
            return report
        }
        if let pinned {
            report.check(pinned: pinned, stored: try await rowHash(pinned.sequence))
        }
        if report.rowsChecked > 0 { report.head = (report.rowsChecked, hex(lastHash)) }
        return report
    }

    /// What is wrong with the append-only triggers and their function: missing, disabled,
    /// of another kind, changed, or joined by triggers that are not shiplog's.
    func schemaProblems() async throws -> [String] {
        let found = try await bounded("reading the schema") {
            var found: [(name: String, enabled: String, type: Int16, body: String, function: String)] = []
            let rows = try await self.client.query(
                """
                SELECT t.tgname::text, t.tgenabled::text, t.tgtype, p.prosrc, p.proname::text
                FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                WHERE t.tgrelid = 'events'::regclass AND NOT t.tgisinternal
                """
            )
            for try await row in rows.decode((String, String, Int16, String, String).self) {
                found.append(row)
            }
            return found
        }
        var problems: [String] = []
        for trigger in PostgresSchema.appendOnlyTriggers {
            guard let row = found.first(where: { $0.name == trigger.name }) else {
                problems.append("trigger \(trigger.name) is missing: the log is not append-only")
                continue
            }
            if row.enabled == "D" {
                problems.append("trigger \(trigger.name) is disabled: the log is not append-only")
            } else if row.enabled != "O" && row.enabled != "A" {
                problems.append("trigger \(trigger.name) fires only in replica sessions (enabled = \(row.enabled)): it may not refuse changes")
            }
            if row.type != trigger.type {
                problems.append(
                    "trigger \(trigger.name) was altered (type \(row.type), expected \(trigger.type)): it may no longer refuse every change"
                )
            }
            if row.function != "shiplog_refuse_change"
                || PostgresSchema.normalized(row.body) != PostgresSchema.normalized(PostgresSchema.refuseChangeBody)
            {
                problems.append("trigger \(trigger.name) calls a changed function (\(row.function)): it may no longer refuse every change")
            }
        }
        for row in found where !PostgresSchema.appendOnlyTriggers.contains(where: { $0.name == row.name }) {
            problems.append("trigger \(row.name) on events is not shiplog's")
        }
        return problems
    }
}
