import Crypto
import Foundation
import ShiplogModel

/// A snapshot kept in a file: a cache that never takes the database's write lock, never
/// grows its log, and can be deleted at any time (the next start-up then replays the log).
///
/// Layout: `SHIPLOG-SNAPSHOT\n`, the kind (UTF-8, length-prefixed), the sequence, the
/// created time (Int64 little-endian each), the 32-byte hash of row `sequence`, the
/// payload's length and the payload, then HMAC-SHA-256 of everything before it, keyed with
/// the database's own snapshot key (table `snapshot_key`, made with the database): a file
/// edited outside shiplog, or taken from another database, is refused and the log replayed.
package struct SnapshotFile: Sendable {
    static let magic = Array("SHIPLOG-SNAPSHOT\n".utf8)

    package var path: String

    package init(path: String) { self.path = path }

    /// Writes the snapshot of rows 1…`sequence` (whose row has `hash`) whole to a temporary
    /// file, syncs it, then renames it over the old one.
    package func save(kind: String, sequence: Int64, hash: Data, bytes: [UInt8], key: SymmetricKey) throws {
        var header = Self.magic
        func append(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { header.append(contentsOf: $0) } }
        append(Int64(kind.utf8.count))
        header.append(contentsOf: kind.utf8)
        append(sequence)
        append(Timestamp.now().nanoseconds)
        header.append(contentsOf: hash)
        append(Int64(bytes.count))
        var code = HMAC<SHA256>(key: key)
        code.update(data: header)
        code.update(data: bytes)
        let trailer = Array(code.finalize())

        let temporary = path + ".tmp"
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
        try renameDurably(temporary, to: path)
    }

    /// The snapshot of `kind` in the file, if it carries `key`'s code and row `sequence`'s
    /// hash is still the one it was taken after (`storedHash`).
    package func load(kind: String, key: () async throws -> SymmetricKey, storedHash: (Int64) async throws -> Data?) async throws -> SnapshotLookup {
        guard FileManager.default.fileExists(atPath: path) else { return .none }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            return .unusable("\(path) cannot be read: \(error.localizedDescription)")
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
        let damaged = SnapshotLookup.unusable("\(path) is damaged or not a snapshot")
        guard take(Self.magic.count).map(Array.init) == Self.magic,
            let kindLength = int(), let kindBytes = take(Int(clamping: kindLength)),
            let sequence = int(), let created = int(), let hash = take(32),
            let length = int(), let payload = take(Int(clamping: length)),
            let trailer = take(32), offset == data.endIndex
        else { return damaged }
        let signed = data[data.startIndex..<payload.endIndex]
        guard HMAC<SHA256>.isValidAuthenticationCode(trailer, authenticating: signed, using: try await key()) else {
            return .unusable(
                "\(path) does not carry this database's authentication code: it was changed outside shiplog, is damaged, or belongs to another database"
            )
        }
        let storedKind = String(decoding: kindBytes, as: UTF8.self)
        guard storedKind == kind else { return .otherKind(storedKind) }
        guard try await storedHash(sequence) == hash else {
            return .unusable("row \(sequence) of the log is not the one the snapshot was taken after")
        }
        return .found(StateSnapshot(kind: storedKind, sequence: sequence, bytes: payload, createdAt: Timestamp(nanoseconds: created)))
    }
}
