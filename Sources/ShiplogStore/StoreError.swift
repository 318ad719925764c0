import Foundation
import GRDB

/// Why the store could not be opened or read.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    case newerSchema(path: String, unknown: [String])
    /// A read-only open of a file whose schema lacks migrations this binary would apply.
    case olderSchema(path: String)
    case missingDatabase(path: String)
    /// A SQLite file without shiplog's `events` table.
    case notAnEventLog(path: String)
    case corruptRow(sequence: Int64, reason: String)
    case walSyncFailed(path: String, reason: String)
    /// SQLite could not grow the database or its WAL: nothing of that transaction was written.
    case diskFull(path: String)
    /// Another process held the write lock for longer than the busy timeout.
    case locked(path: String, seconds: TimeInterval)
    /// An import failed part-way: the first `imported` events (in file order) are in the log.
    case importStopped(imported: Int, of: Int, reason: any Error)
    case backupFailed(destination: String, reason: String)
    /// The database server cannot be reached or did not answer in time (a restart, a
    /// failover, the network): nothing of the request was acknowledged; retry.
    case databaseUnavailable(location: String, reason: String)
    /// The database server refused a statement for another reason (its message says why).
    case databaseError(location: String, reason: String)

    public var description: String {
        switch self {
        case let .newerSchema(path, unknown):
            "\(path) was written by a newer shiplog (schema migrations \(unknown.joined(separator: ", ")) are unknown to this binary); upgrade shiplog to read it"
        case let .olderSchema(path):
            "\(path) was written by an older shiplog; a command that writes (or shiplog serve) migrates it first, this one only reads"
        case let .missingDatabase(path):
            "no event log at \(path) (set --db or SHIPLOG_DB, or record an event first)"
        case let .notAnEventLog(path):
            "\(path) is not a shiplog event log (it has no events table of shiplog's); nothing was changed"
        case let .corruptRow(sequence, reason):
            "row \(sequence) cannot be read: \(reason); run `shiplog verify`"
        case let .walSyncFailed(path, reason):
            "could not sync the write-ahead log \(path): \(reason); events acknowledged before are safe, later writes are refused until shiplog restarts"
        case let .diskFull(path):
            "the disk holding the event log \(path) is full; nothing was recorded. Free space or grow the volume, then retry"
        case let .locked(path, seconds):
            "another process has held the write lock of \(path) for more than \(Int(seconds)) s; nothing was recorded. Retry once it is done"
        case let .importStopped(imported, total, reason):
            "\(reason). The first \(imported) of \(total) events were imported; run the same import again once that is fixed (those come back as duplicates)"
        case let .backupFailed(destination, reason):
            "could not back up to \(destination): \(reason); \(destination) was not written"
        case let .databaseError(location, reason):
            "the database \(location) refused the request: \(reason)"
        case let .databaseUnavailable(location, reason):
            "the database \(location) is unavailable (\(reason)); nothing was recorded by this request. Retry shortly"
        }
    }

    /// The store's own error for SQLite results a user can act on (a full disk, a lock held
    /// too long); any other error unchanged.
    static func explaining(_ error: any Error, path: String, busyTimeout: TimeInterval) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        switch error.resultCode {
        case .SQLITE_FULL: return StoreError.diskFull(path: path)
        case .SQLITE_BUSY: return StoreError.locked(path: path, seconds: busyTimeout)
        default: return error
        }
    }
}
