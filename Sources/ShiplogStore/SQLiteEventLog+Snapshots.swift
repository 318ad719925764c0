import Crypto
import Foundation
import GRDB
import ShiplogModel

/// The SQLite log keeps its snapshot in a file beside the database, `<database>.snapshot`:
/// a cache that never takes the database's write lock, never grows its WAL, and can be
/// deleted at any time (the next start-up then replays the whole log).
///
/// Layout: `SHIPLOG-SNAPSHOT\n`, the kind (UTF-8, length-prefixed), the sequence, the
/// created time (Int64 little-endian each), the 32-byte hash of row `sequence`, the
/// payload's length and the payload, then HMAC-SHA-256 of everything before it, keyed with
/// the database's own snapshot key (table `snapshot_key`, made with the database): a file
/// edited outside shiplog, or taken from another database, is refused and the log replayed.
extension SQLiteEventLog: SnapshotStore {
    static let snapshotMagic = Array("SHIPLOG-SNAPSHOT\n".utf8)

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
        var header = Self.snapshotMagic
        func append(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { header.append(contentsOf: $0) } }
        append(Int64(kind.utf8.count))
        header.append(contentsOf: kind.utf8)
        append(sequence)
        append(Timestamp.now().nanoseconds)
        header.append(contentsOf: hash)
        append(Int64(bytes.count))
        var code = HMAC<SHA256>(key: try snapshotKey())
        code.update(data: header)
        code.update(data: bytes)
        let trailer = Array(code.finalize())

        // Written whole to a temporary file, synced, then renamed over the old one.
        let temporary = snapshotPath + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        do {
            try file.write(contentsOf: header)
            try bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let end = min(buffer.count, offset + (1 << 20))
                    try file.write(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[offset..<end]))
                    offset = end
                }
            }
            try file.write(contentsOf: trailer)
            try file.synchronize()
            try file.close()
        } catch {
            try? file.close()
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        try renameDurably(temporary, to: snapshotPath)
    }

    public func loadSnapshot(kind: String) throws -> SnapshotLookup {
        guard FileManager.default.fileExists(atPath: snapshotPath) else { return .none }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: snapshotPath), options: .alwaysMapped)
        } catch {
            return .unusable("\(snapshotPath) cannot be read: \(error.localizedDescription)")
        }
        var offset = data.startIndex
        func take(_ n: Int) -> Data? {
            guard n >= 0, data.endIndex - offset >= n else { return nil }
            defer { offset += n }
            return data[offset..<offset + n]
        }
        func int() -> Int64? {
            take(8).map { Int64(littleEndian: $0.withUnsafeBytes { $0.loadUnaligned(as: Int64.self) }) }
        }
        let damaged = SnapshotLookup.unusable("\(snapshotPath) is damaged or not a snapshot")
        guard take(Self.snapshotMagic.count).map(Array.init) == Self.snapshotMagic,
            let kindLength = int(), let kindBytes = take(Int(clamping: kindLength)),
            let sequence = int(), let created = int(), let hash = take(32),
            let length = int(), let payload = take(Int(clamping: length)),
            let trailer = take(32), offset == data.endIndex
        else { return damaged }
        let signed = data[data.startIndex..<payload.endIndex]
        guard HMAC<SHA256>.isValidAuthenticationCode(trailer, authenticating: signed, using: try snapshotKey()) else {
            return .unusable(
                "\(snapshotPath) does not carry this database's authentication code: it was changed outside shiplog, is damaged, or belongs to another database"
            )
        }
        let storedKind = String(decoding: kindBytes, as: UTF8.self)
        guard storedKind == kind else { return .unusable("it holds \(storedKind), this shiplog needs \(kind)") }
        guard try storedHash(sequence) == hash else {
            return .unusable("row \(sequence) of the log is not the one the snapshot was taken after")
        }
        return .found(StateSnapshot(kind: storedKind, sequence: sequence, bytes: payload, createdAt: Timestamp(nanoseconds: created)))
    }

    /// The key snapshots of this database are authenticated with.
    func snapshotKey() throws -> SymmetricKey {
        guard let key = try pool.read({ db in try Data.fetchOne(db, sql: "SELECT key FROM snapshot_key LIMIT 1") }), key.count >= 32 else {
            throw StoreError.corruptRow(sequence: 0, reason: "the database has no snapshot key")
        }
        return SymmetricKey(data: key)
    }

    /// The chain hash stored with row `sequence`; nil when there is no such row.
    func storedHash(_ sequence: Int64) throws -> Data? {
        try pool.read { db in try Self.rowHash(db, sequence) }
    }

    static func rowHash(_ db: Database, _ sequence: Int64) throws -> Data? {
        try Data.fetchOne(db, sql: "SELECT hash FROM events WHERE seq = ?", arguments: [sequence])
    }

    /// Synchronous form of `lastSequence()`.
    public func lastSequenceNow() throws -> Int64 {
        try pool.read(Self.lastSequence)
    }
}
