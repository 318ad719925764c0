import Crypto
import Foundation
import GRDB
import ShiplogModel

/// The SQLite log keeps its snapshot in a file beside the database, `<database>.snapshot`
/// (`SnapshotFile`), keyed with the database's own snapshot key.
extension SQLiteEventLog: SnapshotStore {
    /// Where the snapshot of this log lives.
    public var snapshotPath: String { path + ".snapshot" }

    public func saveSnapshot(kind: String, sequence: Int64, bytes: [UInt8]) async throws {
        // Tens of megabytes written and synced: off the threads that serve requests.
        try await offloaded { try self.saveSnapshotNow(kind: kind, sequence: sequence, bytes: bytes) }
    }

    func saveSnapshotNow(kind: String, sequence: Int64, bytes: [UInt8]) throws {
        guard let hash = try storedHash(sequence) else {
            throw StoreError.corruptRow(sequence: sequence, reason: "a snapshot cannot cover a row that does not exist")
        }
        try SnapshotFile(path: snapshotPath).save(kind: kind, sequence: sequence, hash: hash, bytes: bytes, key: try snapshotKey())
    }

    public func loadSnapshot(kind: String) async throws -> SnapshotLookup {
        try await SnapshotFile(path: snapshotPath).load(kind: kind, key: snapshotKey, storedHash: storedHash)
    }

    /// The key snapshots of this database are authenticated with.
    func snapshotKey() throws -> SymmetricKey {
        guard let key = try database.read({ db in try Data.fetchOne(db, sql: "SELECT key FROM snapshot_key LIMIT 1") }), key.count >= 32 else {
            throw StoreError.corruptRow(sequence: 0, reason: "the database has no snapshot key")
        }
        return SymmetricKey(data: key)
    }

    /// The chain hash stored with row `sequence`; nil when there is no such row.
    func storedHash(_ sequence: Int64) throws -> Data? {
        try database.read { db in try Self.rowHash(db, sequence) }
    }

    static func rowHash(_ db: Database, _ sequence: Int64) throws -> Data? {
        try Data.fetchOne(db, sql: "SELECT hash FROM events WHERE seq = ?", arguments: [sequence])
    }

    /// Synchronous form of `lastSequence()`.
    public func lastSequenceNow() throws -> Int64 {
        try database.read(Self.lastSequence)
    }
}
