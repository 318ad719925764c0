import Foundation
import GRDB

/// What `SQLiteEventLog.backup(to:)` copied.
public struct BackupResult: Sendable, Hashable {
    /// Rows in the copy: every row committed when the backup began.
    public var events: Int64
    /// The copy's newest row hash (nil for an empty log); the same as the log's row `events`.
    public var headHash: String?
}

extension SQLiteEventLog {
    /// Copies the database (events, schema, append-only triggers) to a new file with SQLite's
    /// online backup. The copy is read in one read transaction, so it holds exactly the rows
    /// committed when it began while appends go on. It is written to
    /// `<destination>.partial`, its hash chain and schema verified, synced, and only then
    /// renamed to `destination`, so `destination` is never a torn or broken copy. Refuses to
    /// replace an existing file.
    public func backup(to destination: String) throws -> BackupResult {
        if FileManager.default.fileExists(atPath: destination) {
            throw StoreError.backupFailed(destination: destination, reason: "the file exists; choose a new name")
        }
        let partial = destination + ".partial"
        do {
            try? FileManager.default.removeItem(atPath: partial)
            let copy = try DatabaseQueue(path: partial)
            try database.backup(to: copy)
            let (result, check) = try copy.read { db in
                (BackupResult(events: try Self.lastSequence(db), headHash: try Self.headHash(db)), try Self.verify(db))
            }
            try copy.close()
            guard check.isIntact else {
                let reason = check.brokenReason.map { "row \(check.brokenSequence ?? 0): \($0)" } ?? check.schemaProblems.joined(separator: "; ")
                throw StoreError.backupFailed(
                    destination: destination,
                    reason: "the copy does not verify (\(reason)); run `shiplog verify` on \(path)"
                )
            }
            try synchronizeFile(atPath: partial)
            try renameDurably(partial, to: destination)
            return result
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error as? StoreError ?? StoreError.backupFailed(destination: destination, reason: "\(error)")
        }
    }
}

/// Flushes a file's data to the disk.
func synchronizeFile(atPath path: String) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.synchronize()
}

/// Renames `source` to `destination` and syncs their directory, so that the rename survives
/// a crash.
func renameDurably(_ source: String, to destination: String) throws {
    guard rename(source, destination) == 0 else {
        throw CocoaError(
            .fileWriteUnknown,
            userInfo: [NSFilePathErrorKey: destination, NSUnderlyingErrorKey: POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)]
        )
    }
    let directory = URL(fileURLWithPath: destination).deletingLastPathComponent().path
    if let handle = FileHandle(forReadingAtPath: directory) {
        try? handle.synchronize()
        try? handle.close()
    }
}
