import Foundation
import GRDB
import ShiplogModel

/// The embedded event log: one SQLite file in WAL mode, written through group commit.
public final class SQLiteEventLog: EventLog {
    public struct Options: Sendable {
        /// Share one transaction among concurrent appends (off only to measure what it buys).
        public var groupCommit = true
        /// How long a writer waits for another process's write lock before failing.
        public var busyTimeout: TimeInterval = 30
        /// Refuse to create the file when it does not exist (for read-only commands).
        public var mustExist = false
        /// Open for reading only: no migration, no PRAGMA that writes, nothing written to the
        /// file (a command that only reads must not change a log it was pointed at). Implies
        /// `mustExist`. A file whose schema lacks migrations this binary has is refused.
        public var readOnly = false

        /// How the WAL file is synced (`fdatasync`); tests make it fail.
        var syncFile: WALSync.SyncFile = { fdatasync($0) }

        public init(groupCommit: Bool = true, busyTimeout: TimeInterval = 30, mustExist: Bool = false, readOnly: Bool = false) {
            self.groupCommit = groupCommit
            self.busyTimeout = busyTimeout
            self.mustExist = mustExist || readOnly
            self.readOnly = readOnly
        }
    }

    public let path: String
    /// A pool of connections (one writer, concurrent readers) for a log that is written; one
    /// connection for a read-only log, which a command opens to read once and exit, and
    /// which a pool would cost a second connection and a schema check on every read.
    let database: any DatabaseWriter
    public let committed: SequenceSignal
    /// Rows this process wrote lately, as written: the metrics read them from here instead of
    /// decoding them again.
    let recent: RecentRows
    let clock: StampClock
    private let committer: GroupCommitter
    let walSync: WALSync
    let busyTimeout: TimeInterval
    let readOnly: Bool

    public init(path: String, options: Options = Options()) throws {
        if options.mustExist, !FileManager.default.fileExists(atPath: path) {
            throw StoreError.missingDatabase(path: path)
        }
        var config = Configuration()
        config.busyMode = .timeout(options.busyTimeout)
        config.readonly = options.readOnly
        self.path = path
        self.busyTimeout = options.busyTimeout
        self.readOnly = options.readOnly
        let database: any DatabaseWriter = try Self.retryingWhileBusy(for: options.busyTimeout) {
            if options.readOnly { return try DatabaseQueue(path: path, configuration: config) }
            return try DatabasePool(path: path, configuration: config)
        }
        // Durable before acknowledged, without making the writer wait for the disk: commits
        // do not sync (`synchronous = NORMAL`, which alone would sync only at checkpoints),
        // and every write path syncs the WAL through `walSync` before it reports success.
        // Set after the pool opens: opening switches the writer to WAL mode after
        // `prepareDatabase` and sets `synchronous` while doing so.
        if !options.readOnly {
            try database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        }
        self.database = database
        let walSync = WALSync(walPath: path + "-wal", syncFile: options.syncFile)
        self.walSync = walSync
        let migrator = Schema.migrator
        let state = try database.read(Schema.State.init)
        let unknown = state.applied.subtracting(migrator.migrations)
        if !unknown.isEmpty { throw StoreError.newerSchema(path: path, unknown: unknown.sorted()) }
        let current = state.applied.isSuperset(of: migrator.migrations)
        if options.readOnly {
            guard state.hasEvents else { throw StoreError.notAnEventLog(path: path) }
            guard current else { throw StoreError.olderSchema(path: path) }
        } else if !current {
            try Self.migrate(database, with: migrator, busyTimeout: options.busyTimeout)
        }
        let committed = SequenceSignal(try database.read(Self.lastSequence))
        let recent = RecentRows(capacity: 4096)
        let clock = StampClock()
        self.committed = committed
        self.recent = recent
        self.clock = clock
        committer = GroupCommitter(
            enabled: options.groupCommit,
            writer: { submissions in
                do {
                    try walSync.checkHealthy()
                    let written = try database.writeWithoutTransaction { db in
                        try Self.writeGroup(submissions, clock: clock, db: db)
                    }
                    recent.append(written.created)
                    return (written.outcomes, written.committedThrough)
                } catch {
                    let explained = StoreError.explaining(error, path: path, busyTimeout: options.busyTimeout)
                    return (submissions.map { _ in .failure(explained) }, nil)
                }
            },
            durability: { acknowledge in walSync.afterNextSync(acknowledge) },
            published: { committed.publish($0) }
        )
    }

    /// Applies the migrations this file lacks. Another process creating the same file at
    /// once may apply a migration between this one's look and its write (each migration is
    /// its own transaction, so the loser's is rolled back whole): look again, until every
    /// migration is in or the busy timeout has passed.
    static func migrate(_ database: any DatabaseWriter, with migrator: DatabaseMigrator, busyTimeout: TimeInterval) throws {
        let deadline = Date().addingTimeInterval(busyTimeout)
        while true {
            do {
                try migrator.migrate(database)
                return
            } catch {
                if try database.read(migrator.hasCompletedMigrations) { return }
                guard Date() < deadline else { throw error }
                usleep(UInt32.random(in: 1_000..<20_000))
            }
        }
    }

    /// Runs `open` again while it fails with SQLITE_BUSY, for up to `seconds`: a process
    /// that creates a new database switches it to WAL mode, and another opening it at that
    /// moment is refused at once (`PRAGMA journal_mode = WAL`), whatever its busy timeout.
    static func retryingWhileBusy<T>(for seconds: TimeInterval, _ open: () throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(seconds)
        var pause: UInt32 = 1_000
        while true {
            do {
                return try open()
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && Date() < deadline {
                usleep(pause + UInt32.random(in: 0..<pause))
                pause = min(pause * 2, 50_000)
            }
        }
    }

    /// The writer's `PRAGMA synchronous` (1 = NORMAL: commits do not wait for the disk; the
    /// WAL is synced before anything is acknowledged).
    public func synchronousMode() throws -> Int {
        try database.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// Closes every connection; later calls fail. A process that could write first folds the
    /// write-ahead log into the file and empties it, if no other process is reading it right
    /// now: the pool's last connection to close is a read-only reader, which cannot, and a
    /// WAL left behind costs every later read-only process a scan of it.
    public func close() throws {
        if !readOnly {
            try? database.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA busy_timeout = 100")
                _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
        }
        try database.close()
    }

    // MARK: Appending

    public func append(_ events: [PreparedEvent]) async throws -> [AppendOutcome] {
        try await committer.submit(events).get()
    }

    /// Statistics of group commit so far: transactions written and the largest group.
    public func groupCommitStatistics() async -> (transactions: Int, largestGroup: Int) {
        committer.counts()
    }

    /// How many times the WAL file has been synced.
    public var walSyncs: Int { walSync.completedSyncs }

    public var writeFailure: (any Error)? { walSync.failure }

    /// What one group's transaction did: an outcome per submission, the rows it created (as
    /// stored), and the newest row of the log after it.
    struct WrittenGroup {
        var outcomes: [Result<[AppendOutcome], any Error>] = []
        var created: [StoredEvent] = []
        var committedThrough: Int64 = 0
    }

    /// One transaction holding every submission. Conflicts are rare, so the group is first
    /// written without savepoints; if any submission conflicts, that attempt is rolled back
    /// and the group is written again with a savepoint per submission, so that the
    /// conflicting one fails alone.
    static func writeGroup(_ submissions: [[PreparedEvent]], clock: StampClock, db: Database) throws -> WrittenGroup {
        do {
            var written = WrittenGroup()
            try db.inTransaction(.immediate) {
                var tip = try ChainTip.read(db)
                for submission in submissions {
                    var outcomes: [AppendOutcome] = []
                    for (index, event) in submission.enumerated() {
                        outcomes.append(try insert(event, index: index, tip: &tip, clock: clock, created: &written.created, db: db))
                    }
                    written.outcomes.append(.success(outcomes))
                }
                written.committedThrough = tip.sequence
                return .commit
            }
            return written
        } catch is AppendError {
            return try writeGroupIsolated(submissions, clock: clock, db: db)
        }
    }

    /// The group with a savepoint per submission.
    static func writeGroupIsolated(_ submissions: [[PreparedEvent]], clock: StampClock, db: Database) throws -> WrittenGroup {
        var written = WrittenGroup()
        try db.inTransaction(.immediate) {
            var tip = try ChainTip.read(db)
            for submission in submissions {
                let saved = tip
                var outcomes: [AppendOutcome] = []
                var created: [StoredEvent] = []
                do {
                    try db.inSavepoint {
                        for (index, event) in submission.enumerated() {
                            outcomes.append(try insert(event, index: index, tip: &tip, clock: clock, created: &created, db: db))
                        }
                        return .commit
                    }
                    written.outcomes.append(.success(outcomes))
                    written.created += created
                } catch let error as AppendError {
                    tip = saved
                    written.outcomes.append(.failure(error))
                }
            }
            written.committedThrough = tip.sequence
            return .commit
        }
        return written
    }

    /// The newest row's sequence and hash; each new row chains onto it.
    struct ChainTip {
        var sequence: Int64
        var hash: [UInt8]

        static func read(_ db: Database) throws -> ChainTip {
            let newest = try db.cachedStatement(sql: "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
            if let row = try Row.fetchOne(newest) {
                let hash: Data = row["hash"]
                return ChainTip(sequence: row["seq"], hash: Array(hash))
            }
            return ChainTip(sequence: 0, hash: [])
        }
    }

    /// Inserts one event onto the chain; an id already in the log is a duplicate (same
    /// content) or a conflict. The insert itself finds a taken id (one index probe, not two).
    /// An event whose time shiplog fills in is stamped here, in write order (`clock`); each
    /// row created is added to `created` as stored.
    static func insert(
        _ event: PreparedEvent,
        index: Int,
        tip: inout ChainTip,
        clock: StampClock,
        created: inout [StoredEvent],
        db: Database
    ) throws -> AppendOutcome {
        let event = event.stampsTimeOnWrite ? event.stamped(at: clock.next()) : event
        let sequence = tip.sequence + 1
        let hash = HashChain.hash(previous: tip.hash, canonical: event.canonical, envelope: HashChain.Envelope(event))
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO events (seq, event_id, type, service, environment, time_ns, received_ns,
                                    format, content_digest, event, raw, hash, chain)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (event_id) DO NOTHING
                """
        )
        try insert.execute(arguments: [
            sequence, event.id, event.event.type.rawValue, event.event.service, event.event.environment,
            event.time.nanoseconds, event.receivedAt.nanoseconds, event.format.rawValue,
            event.contentDigest, event.canonical, Data(event.raw), Data(hash), HashChain.current,
        ])
        if db.changesCount == 0 {
            let lookup = try db.cachedStatement(sql: "SELECT seq, content_digest FROM events WHERE event_id = ?")
            guard let row = try Row.fetchOne(lookup, arguments: [event.id]) else {
                throw StoreError.corruptRow(sequence: sequence, reason: "the insert of id \"\(event.id)\" was ignored, but no row holds that id")
            }
            let existing: Int64 = row[0]
            let digest: String = row[1]
            guard digest == event.contentDigest else {
                throw AppendError.conflict(index: index, id: event.id, existing: existing)
            }
            return .duplicate(existing)
        }
        tip = ChainTip(sequence: sequence, hash: hash)
        created.append(StoredEvent(sequence: sequence, event: event.event, receivedAt: event.receivedAt, format: event.format))
        return .created(sequence)
    }
}
