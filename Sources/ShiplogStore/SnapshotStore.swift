import Foundation
import ShiplogModel

/// Derived state saved beside the log (a projection, say): opaque bytes that hold everything
/// derived from rows 1…`sequence`. The hash of that row is saved with it, so a snapshot is
/// only used with the log it was taken from.
public struct StateSnapshot: Sendable {
    /// What the bytes hold and how they are encoded; a reader asks for exactly one kind.
    public var kind: String
    public var sequence: Int64
    /// The payload; for a snapshot read from a file, a slice of the file mapped into memory.
    public var bytes: Data
    public var createdAt: Timestamp
}

/// The result of looking for a snapshot.
public enum SnapshotLookup: Sendable {
    case none
    /// There is one, but it must not be used (the reason says why).
    case unusable(String)
    /// A sound snapshot of another kind (another format or pipeline), named.
    case otherKind(String)
    case found(StateSnapshot)
}

/// Where derived state is saved.
public protocol SnapshotStore: Sendable {
    /// Saves `bytes` as the one snapshot, replacing any other. Fails when row `sequence`
    /// does not exist.
    func saveSnapshot(kind: String, sequence: Int64, bytes: [UInt8]) async throws

    /// The snapshot of `kind`, if there is one that fits this log.
    func loadSnapshot(kind: String) async throws -> SnapshotLookup
}
