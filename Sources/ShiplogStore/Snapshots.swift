import Foundation
import GRDB
import ShiplogModel

/// Derived state saved beside the log (a projection, say): opaque bytes that hold everything
/// derived from rows 1…`sequence`. The hash of that row is saved with it, so a snapshot is
/// only used with the log it was taken from.
public struct StateSnapshot: Sendable {
    /// What the bytes hold and how they are encoded; a reader asks for exactly one kind.
    public var kind: String
    public var sequence: Int64
    public var bytes: [UInt8]
    public var createdAt: Timestamp
}

/// The result of looking for a snapshot.
public enum SnapshotLookup: Sendable {
    case none
    /// There is one, but it must not be used (the reason says why).
    case unusable(String)
    case found(StateSnapshot)
}

/// Where derived state is saved; the SQLite log keeps it in its own file.
public protocol SnapshotStore: Sendable {
    /// Saves `bytes` as the one snapshot, replacing any other. Fails when row `sequence`
    /// does not exist.
    func saveSnapshot(kind: String, sequence: Int64, bytes: [UInt8]) async throws

    /// The snapshot of `kind`, if there is one that fits this log.
    func loadSnapshot(kind: String) throws -> SnapshotLookup
}

extension SQLiteEventLog: SnapshotStore {
    public func saveSnapshot(kind: String, sequence: Int64, bytes: [UInt8]) async throws {
        let time = Timestamp.now()
        try await pool.write { db in
            guard let hash = try Data.fetchOne(db, sql: "SELECT hash FROM events WHERE seq = ?", arguments: [sequence]) else {
                throw StoreError.corruptRow(sequence: sequence, reason: "a snapshot cannot cover a row that does not exist")
            }
            try db.execute(sql: "DELETE FROM snapshots")
            // Bound without a copy: snapshots of large logs are tens of megabytes.
            try bytes.withUnsafeBytes { buffer in
                let data = buffer.baseAddress.map {
                    Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: $0), count: buffer.count, deallocator: .none)
                } ?? Data()
                try db.execute(
                    sql: "INSERT INTO snapshots (kind, seq, chain_hash, created_ns, data) VALUES (?, ?, ?, ?, ?)",
                    arguments: [kind, sequence, hash, time.nanoseconds, data])
            }
        }
    }

    public func loadSnapshot(kind: String) throws -> SnapshotLookup {
        try pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT kind, seq, chain_hash, created_ns, data FROM snapshots") else { return .none }
            let storedKind: String = row[0]
            let sequence: Int64 = row[1]
            guard storedKind == kind else { return .unusable("it holds \(storedKind), this shiplog needs \(kind)") }
            let hash = try Data.fetchOne(db, sql: "SELECT hash FROM events WHERE seq = ?", arguments: [sequence])
            guard let hash, hash == (row[2] as Data) else {
                return .unusable("row \(sequence) of the log is not the one the snapshot was taken after")
            }
            let data: Data = row[4]
            return .found(StateSnapshot(kind: storedKind, sequence: sequence, bytes: Array(data), createdAt: Timestamp(nanoseconds: row[3])))
        }
    }

    /// Removes any snapshot (the next start-up replays the whole log).
    public func dropSnapshots() throws {
        try pool.write { db in try db.execute(sql: "DELETE FROM snapshots") }
    }

    /// Events `after` < sequence ≤ `through`, in sequence order (decoded on every core).
    public func eventsNow(after: Int64, through: Int64) throws -> [StoredEvent] {
        let rows = try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT seq, event, received_ns, format FROM events WHERE seq > ? AND seq <= ? ORDER BY seq",
                arguments: [after, through])
        }
        return try Self.decodeInParallel(rows)
    }

    /// Synchronous form of `lastSequence()`.
    public func lastSequenceNow() throws -> Int64 {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM events") ?? 0 }
    }
}
