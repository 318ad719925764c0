import ShiplogModel

/// A whole event log as the CLI and the server open it: appends and reads, snapshots, and
/// what backfills, exports and verification need. SQLite (`SQLiteEventLog`) and PostgreSQL
/// (`PostgresEventLog`) implement it.
public protocol EventDatabase: EventLog, SnapshotStore {
    /// Where the log is, for messages: a path, or a URL without its password.
    var location: String { get }

    /// The first event that reuses an id the log holds with other content, written nowhere.
    /// For the events `exactRows` names (rows of an export, which carry their own content
    /// digest), other content is also a stored event that differs.
    func firstConflict(in events: [PreparedEvent], exactRows: Set<Int>) async throws -> AppendError?

    /// Writes already validated events in large transactions (for `events import`). Check
    /// `firstConflict` first: a conflict found here stops the import after the transactions
    /// already committed (`StoreError.importStopped`).
    func importEvents(_ events: [PreparedEvent], transactionSize: Int, progress: @Sendable (Int) -> Void) async throws -> ImportResult

    /// Up to `limit` rows after `sequence`, in sequence order, as an export writes them.
    func exportRows(after sequence: Int64, limit: Int) async throws -> [ExportedRow]

    /// The hash of the newest row (hex), nil for an empty log.
    func headHash() async throws -> String?

    /// Walks the whole chain and checks the schema, here and now; with `pinned` (a row and
    /// the hash recorded for it elsewhere), a log whose row there is missing or different fails.
    func verifyChain(pinned: (sequence: Int64, hash: String)?) async throws -> VerifyReport

    /// Releases connections and files; later calls fail.
    func close() async throws
}

/// Totals of a bulk import.
public struct ImportResult: Sendable, Hashable {
    public var created = 0
    public var duplicates = 0

    public init(created: Int = 0, duplicates: Int = 0) {
        self.created = created
        self.duplicates = duplicates
    }

    public mutating func count(_ outcomes: [AppendOutcome]) {
        for o in outcomes {
            if o.isDuplicate { duplicates += 1 } else { created += 1 }
        }
    }
}

extension SQLiteEventLog: EventDatabase {
    public var location: String { path }

    public func firstConflict(in events: [PreparedEvent], exactRows: Set<Int>) async throws -> AppendError? {
        try firstConflict(in: events, exact: { exactRows.contains($0) })
    }

    public func importEvents(_ events: [PreparedEvent], transactionSize: Int, progress: @Sendable (Int) -> Void) async throws -> ImportResult {
        try importEventsNow(events, transactionSize: transactionSize, progress: { progress($0) })
    }

    public func exportRows(after sequence: Int64, limit: Int) async throws -> [ExportedRow] {
        try exportPage(after: sequence, limit: limit)
    }

    public func verifyChain(pinned: (sequence: Int64, hash: String)?) async throws -> VerifyReport {
        try Self.verifyFile(path: path, head: pinned)
    }
}
