import Crypto
import Foundation
import PostgresNIO
import ShiplogModel
import ShiplogStore

/// Backfills, exports and snapshots.
extension PostgresEventLog {
    public func firstConflict(in events: [PreparedEvent], exactRows: Set<Int>) async throws -> AppendError? {
        var start = 0
        while start < events.count {
            let chunk = events[start..<min(events.count, start + 10_000)]
            let ids = chunk.map(\.id)
            let stored = try await bounded("looking up ids") {
                var stored: [String: (sequence: Int64, digest: String, event: String)] = [:]
                let rows = try await self.client.query("SELECT event_id, seq, content_digest, event FROM events WHERE event_id = ANY(\(ids))")
                for try await (id, sequence, digest, event) in rows.decode((String, Int64, String, String).self) {
                    stored[id] = (sequence, digest, event)
                }
                return stored
            }
            for (index, event) in zip(chunk.indices, chunk) {
                if let row = stored[event.id], row.digest != event.contentDigest || (exactRows.contains(index) && row.event != event.canonical) {
                    return AppendError.conflict(index: index, id: event.id, existing: row.sequence)
                }
            }
            start += chunk.count
        }
        return nil
    }

    public func importEvents(_ events: [PreparedEvent], transactionSize: Int, progress: @Sendable (Int) -> Void) async throws -> ImportResult {
        var result = ImportResult()
        var start = 0
        // One statement binds every column of its rows: keep each to a few thousand rows.
        let statementRows = 2_000
        while start < events.count {
            let end = min(start + max(1, transactionSize), events.count)
            var submissions: [[PreparedEvent]] = []
            var at = start
            while at < end {
                submissions.append(Array(events[at..<min(end, at + statementRows)]))
                at += statementRows
            }
            let outcomes = await importTransaction(submissions)
            do {
                for (offset, outcome) in outcomes.enumerated() {
                    switch outcome {
                    case .success(let o): result.count(o)
                    case .failure(AppendError.conflict(let index, let id, let existing)):
                        throw AppendError.conflict(index: start + offset * statementRows + index, id: id, existing: existing)
                    case .failure(let error): throw error
                    }
                }
            } catch {
                if start == 0 { throw error }
                throw StoreError.importStopped(imported: start, of: events.count, reason: error)
            }
            start = end
            progress(end)
        }
        return result
    }

    /// One import transaction of several statements: all or nothing.
    private func importTransaction(_ submissions: [[PreparedEvent]]) async -> [Result<[AppendOutcome], any Error>] {
        do {
            let written = try await bounded("importing") {
                try await self.client.withTransaction(logger: self.logger) { tx in
                    var all = WrittenGroup()
                    for submission in submissions {
                        let written = try await Self.write([submission], clock: self.clock, writer: self.writer, on: tx, logger: self.logger)
                        if case .failure(let error) = written.outcomes[0] { throw error }
                        all.outcomes += written.outcomes
                        all.created += written.created
                        all.committedThrough = written.committedThrough
                    }
                    return all
                }
            }
            recent.append(written.created)
            committed.publish(written.committedThrough)
            return written.outcomes
        } catch {
            return submissions.map { _ in .failure(error) }
        }
    }

    public func exportRows(after sequence: Int64, limit: Int) async throws -> [ExportedRow] {
        try await bounded("exporting") {
            var rows: [ExportedRow] = []
            let query: PostgresQuery = """
                SELECT seq, received_ns, format, content_digest, event, raw, hash FROM events
                WHERE seq > \(sequence) ORDER BY seq LIMIT \(limit)
                """
            for try await r in try await self.client.query(query).decode((Int64, Int64, String, String, String, ByteBuffer, ByteBuffer).self) {
                rows.append(
                    ExportedRow(
                        sequence: r.0,
                        receivedAt: Timestamp(nanoseconds: r.1),
                        format: SourceFormat(rawValue: r.2) ?? .native,
                        contentDigest: r.3,
                        canonical: r.4,
                        raw: Array(buffer: r.5),
                        hash: hex(Array(buffer: r.6))
                    )
                )
            }
            return rows
        }
    }

    // MARK: Snapshots

    /// A replica keeps its snapshot in a file of its own (`snapshotPath`, in its emptyDir or
    /// volume), not in the database: saving one never writes to the shared database, its WAL
    /// or its backups, and each replica restores from its own.
    public func saveSnapshot(kind: String, sequence: Int64, bytes: [UInt8]) async throws {
        guard let snapshotPath else { return }
        guard let hash = try await storedHash(sequence) else {
            throw StoreError.corruptRow(sequence: sequence, reason: "a snapshot cannot cover a row that does not exist")
        }
        let key = try await snapshotKey()
        try await Task.detached {
            try SnapshotFile(path: snapshotPath).save(kind: kind, sequence: sequence, hash: Data(hash), bytes: bytes, key: key)
        }.value
    }

    public func loadSnapshot(kind: String) async throws -> SnapshotLookup {
        guard let snapshotPath, FileManager.default.fileExists(atPath: snapshotPath) else { return .none }
        return try await SnapshotFile(path: snapshotPath).load(
            kind: kind,
            key: { try await self.snapshotKey() },
            storedHash: { try await self.storedHash($0).map { Data($0) } }
        )
    }

    func snapshotKey() async throws -> SymmetricKey {
        let key = try await bounded("reading the snapshot key") {
            try await self.client.query("SELECT key FROM snapshot_key LIMIT 1").decode(ByteBuffer.self).first { _ in true }
        }
        guard let key, key.readableBytes >= 32 else {
            throw StoreError.corruptRow(sequence: 0, reason: "the database has no snapshot key")
        }
        return SymmetricKey(data: Array(buffer: key))
    }
}
