import Crypto
import Foundation
import GRDB
import ShiplogModel

/// Why the store could not be opened or read.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    case newerSchema(path: String, unknown: [String])
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

    public var description: String {
        switch self {
        case let .newerSchema(path, unknown):
            "\(path) was written by a newer shiplog (schema migrations \(unknown.joined(separator: ", ")) are unknown to this binary); upgrade shiplog to read it"
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

/// The embedded event log: one SQLite file in WAL mode, written through group commit.
public final class SQLiteEventLog: EventLog {
    public struct Options: Sendable {
        /// Share one transaction among concurrent appends (off only to measure what it buys).
        public var groupCommit = true
        /// How long a writer waits for another process's write lock before failing.
        public var busyTimeout: TimeInterval = 30
        /// Refuse to create the file when it does not exist (for read-only commands).
        public var mustExist = false

        /// How the WAL file is synced (`fdatasync`); tests make it fail.
        var syncFile: WALSync.SyncFile = { fdatasync($0) }

        public init(groupCommit: Bool = true, busyTimeout: TimeInterval = 30, mustExist: Bool = false) {
            self.groupCommit = groupCommit
            self.busyTimeout = busyTimeout
            self.mustExist = mustExist
        }
    }

    public let path: String
    let pool: DatabasePool
    public let committed: SequenceSignal
    /// Rows this process wrote lately, as written: the metrics read them from here instead of
    /// decoding them again.
    private let recent: RecentRows
    private let clock: StampClock
    private let committer: GroupCommitter
    private let walSync: WALSync
    private let busyTimeout: TimeInterval

    public init(path: String, options: Options = Options()) throws {
        if options.mustExist, !FileManager.default.fileExists(atPath: path) {
            throw StoreError.missingDatabase(path: path)
        }
        var config = Configuration()
        config.busyMode = .timeout(options.busyTimeout)
        self.path = path
        self.busyTimeout = options.busyTimeout
        let pool = try DatabasePool(path: path, configuration: config)
        // Durable before acknowledged, without making the writer wait for the disk: commits
        // do not sync (`synchronous = NORMAL`, which alone would sync only at checkpoints),
        // and every write path syncs the WAL through `walSync` before it reports success.
        // Set after the pool opens: opening switches the writer to WAL mode after
        // `prepareDatabase` and sets `synchronous` while doing so.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        self.pool = pool
        let walSync = WALSync(walPath: path + "-wal", syncFile: options.syncFile)
        self.walSync = walSync
        let migrator = Schema.migrator
        try pool.read { db in
            if try migrator.hasBeenSuperseded(db) {
                let unknown = try migrator.appliedIdentifiers(db).subtracting(migrator.migrations).sorted()
                throw StoreError.newerSchema(path: path, unknown: unknown)
            }
        }
        try migrator.migrate(pool)
        let committed = SequenceSignal(try pool.read(Self.lastSequence))
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
                    let written = try pool.writeWithoutTransaction { db in
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

    /// The writer's `PRAGMA synchronous` (1 = NORMAL: commits do not wait for the disk; the
    /// WAL is synced before anything is acknowledged).
    public func synchronousMode() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// Closes every connection; later calls fail.
    public func close() throws {
        try pool.close()
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

    /// What a chain-2 hash covers besides the canonical event: every other stored column.
    struct Envelope {
        var receivedNs: Int64
        var format: String
        var contentDigest: String
        var raw: [UInt8]
    }

    /// Chain 1: `SHA-256(previous hash ‖ canonical event)`. Chain 2: `SHA-256(previous hash ‖
    /// canonical event ‖ 0x00 ‖ "received_ns=…\nformat=…\ncontent_digest=…\nraw_sha256=" ‖
    /// SHA-256(raw))`. The first row's previous hash is empty.
    static func chainHash(previous: [UInt8], canonical: String, envelope: Envelope?) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        var text = canonical
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        if let envelope {
            hasher.update(data: [0])
            var fields = "received_ns=\(envelope.receivedNs)\nformat=\(envelope.format)\ncontent_digest=\(envelope.contentDigest)\nraw_sha256="
            fields.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
            hasher.update(data: Array(SHA256.hash(data: envelope.raw)))
        }
        return Array(hasher.finalize())
    }

    /// Inserts one event onto the chain; an id already in the log is a duplicate (same
    /// content) or a conflict. The insert itself finds a taken id (one index probe, not two).
    /// An event whose time shiplog fills in is stamped here, in write order (`clock`); each
    /// row created is added to `created` as stored.
    static func insert(
        _ event: PreparedEvent, index: Int, tip: inout ChainTip, clock: StampClock, created: inout [StoredEvent], db: Database
    ) throws -> AppendOutcome {
        let event = event.stampsTimeOnWrite ? event.stamped(at: clock.next()) : event
        let sequence = tip.sequence + 1
        let envelope = Envelope(receivedNs: event.receivedAt.nanoseconds, format: event.format.rawValue,
                                contentDigest: event.contentDigest, raw: event.raw)
        let hash = chainHash(previous: tip.hash, canonical: event.canonical, envelope: envelope)
        let insert = try db.cachedStatement(sql: """
            INSERT INTO events (seq, event_id, type, service, environment, time_ns, received_ns,
                                format, content_digest, event, raw, hash, chain)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (event_id) DO NOTHING
            """)
        try insert.execute(arguments: [
            sequence, event.id, event.event.type.rawValue, event.event.service, event.event.environment,
            event.time.nanoseconds, event.receivedAt.nanoseconds, event.format.rawValue,
            event.contentDigest, event.canonical, Data(event.raw), Data(hash), Schema.currentChain,
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

    // MARK: Bulk import

    /// Totals of a bulk import.
    public struct ImportResult: Sendable, Hashable {
        public var created = 0
        public var duplicates = 0
    }

    /// Checks, without writing, that no event reuses an id the log holds with other content.
    /// For the events `exact` names (rows of an export, which carry their own content digest),
    /// other content is also a stored event that differs.
    public func firstConflict(in events: [PreparedEvent], exact: (Int) -> Bool = { _ in false }) throws -> AppendError? {
        try pool.read { db in
            let lookup = try db.cachedStatement(sql: "SELECT seq, content_digest, event FROM events WHERE event_id = ?")
            for (index, event) in events.enumerated() {
                if let row = try Row.fetchOne(lookup, arguments: [event.id]) {
                    let digest: String = row[1]
                    let stored: String = row[2]
                    if digest != event.contentDigest || (exact(index) && stored != event.canonical) {
                        return AppendError.conflict(index: index, id: event.id, existing: row[0])
                    }
                }
            }
            return nil
        }
    }

    /// Writes already validated events in large transactions (for `events import`).
    /// Call `firstConflict(in:)` first: a conflict found here stops the import after the
    /// transactions already committed.
    public func importEvents(
        _ events: [PreparedEvent], transactionSize: Int = 50_000, progress: (Int) -> Void = { _ in }
    ) throws -> ImportResult {
        var result = ImportResult()
        var start = 0
        while start < events.count {
            let end = min(start + transactionSize, events.count)
            let chunk = events[start..<end]
            let outcomes: [AppendOutcome]
            do {
                outcomes = try importChunk(chunk, at: start)
            } catch {
                let explained = StoreError.explaining(error, path: path, busyTimeout: busyTimeout)
                if start == 0 { throw explained }
                throw StoreError.importStopped(imported: start, of: events.count, reason: explained)
            }
            for o in outcomes {
                if o.isDuplicate { result.duplicates += 1 } else { result.created += 1 }
            }
            start = end
            progress(end)
        }
        return result
    }

    /// One import transaction, synced before it returns.
    private func importChunk(_ chunk: ArraySlice<PreparedEvent>, at start: Int) throws -> [AppendOutcome] {
        var last: Int64 = 0
        var created: [StoredEvent] = []
        let outcomes: [AppendOutcome] = try pool.writeWithoutTransaction { db in
            var outcomes: [AppendOutcome] = []
            outcomes.reserveCapacity(chunk.count)
            try db.inTransaction(.immediate) {
                var tip = try ChainTip.read(db)
                for (offset, event) in chunk.enumerated() {
                    outcomes.append(try Self.insert(event, index: start + offset, tip: &tip, clock: clock, created: &created, db: db))
                }
                last = tip.sequence
                return .commit
            }
            return outcomes
        }
        try walSync.syncNow()
        recent.append(created)
        committed.publish(last)
        return outcomes
    }

    // MARK: Reading

    public func lastSequence() async throws -> Int64 {
        try await pool.read(Self.lastSequence)
    }

    static func lastSequence(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM events") ?? 0
    }

    public func page(_ query: EventQuery) async throws -> EventPage {
        try await pool.read { db in try Self.page(query, db: db) }
    }

    /// Synchronous form of `page(_:)` for the CLI.
    public func pageNow(_ query: EventQuery) throws -> EventPage {
        try pool.read { db in try Self.page(query, db: db) }
    }

    static func page(_ query: EventQuery, db: Database) throws -> EventPage {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let env = query.environment {
            conditions.append("environment = ?")
            arguments += [env]
        }
        if let service = query.service {
            conditions.append("service = ?")
            arguments += [service]
        }
        if let type = query.type {
            conditions.append("type = ?")
            arguments += [type.rawValue]
        }
        if let since = query.since {
            conditions.append("time_ns >= ?")
            arguments += [since.nanoseconds]
        }
        if let until = query.until {
            conditions.append("time_ns < ?")
            arguments += [until.nanoseconds]
        }
        if let cursor = query.cursor {
            conditions.append("(time_ns < ? OR (time_ns = ? AND seq < ?))")
            arguments += [cursor.time.nanoseconds, cursor.time.nanoseconds, cursor.sequence]
        }
        let limit = max(1, min(query.limit, EventQuery.maxLimit))
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = """
            SELECT seq, event, received_ns, format, time_ns FROM events \(whereClause)
            ORDER BY time_ns DESC, seq DESC LIMIT \(limit + 1)
            """
        let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
        var events: [StoredEvent] = []
        for row in rows.prefix(limit) {
            events.append(try decode(row))
        }
        var next: EventCursor? = nil
        if rows.count > limit, let last = events.last {
            next = EventCursor(time: last.event.time!, sequence: last.sequence)
        }
        return EventPage(events: events, next: next)
    }

    public func events(after sequence: Int64, limit: Int) async throws -> [StoredEvent] {
        if let cached = recent.rows(after: sequence, limit: limit) { return cached }
        return try await pool.read { db in
            try Self.decodeInParallel(Row.fetchAll(
                db, sql: "SELECT seq, event, received_ns, format FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [sequence, limit]))
        }
    }

    public func pairEvents(service: String, environment: String, after position: LogPosition?, through: Int64) async throws -> [StoredEvent] {
        let after = position ?? LogPosition(time: .min, sequence: .min)
        return try await pool.read { db in
            try Self.decodeInParallel(Row.fetchAll(
                db, sql: """
                    SELECT seq, event, received_ns, format FROM events
                    WHERE service = ? AND environment = ? AND seq <= ? AND (time_ns > ? OR (time_ns = ? AND seq > ?))
                    ORDER BY time_ns, seq
                    """, arguments: [service, environment, through, after.time, after.time, after.sequence]))
        }
    }

    public func serviceEvents(_ service: String) async throws -> [StoredEvent] {
        try await pool.read { db in
            try Self.decodeInParallel(Row.fetchAll(
                db, sql: "SELECT seq, event, received_ns, format FROM events WHERE service = ? ORDER BY time_ns, seq", arguments: [service]))
        }
    }

    public func rowHash(_ sequence: Int64) async throws -> String? {
        try await pool.read { db in try Self.rowHash(db, sequence) }.map { hex($0) }
    }

    /// Decodes rows on every core: parsing the stored JSON is most of a replay's work.
    static func decodeInParallel(_ rows: [Row]) throws -> [StoredEvent] {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, rows.count / 1000))
        if workers == 1 { return try rows.map(decode) }
        nonisolated(unsafe) var results = [Result<StoredEvent, any Error>?](repeating: nil, count: rows.count)
        nonisolated(unsafe) let input = rows
        results.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let chunk = (input.count + workers - 1) / workers
                for i in (w * chunk)..<min(input.count, (w + 1) * chunk) {
                    out[i] = Result { try decode(input[i]) }
                }
            }
        }
        return try results.map { try $0!.get() }
    }

    static func decode(_ row: Row) throws -> StoredEvent {
        let sequence: Int64 = row[0]
        let text: String = row[1]
        let event: Event
        do {
            let json = try JSONValue.parse(text)
            event = try Event.validate(json, now: nil).get()
        } catch {
            throw StoreError.corruptRow(sequence: sequence, reason: "\(error)")
        }
        let format = SourceFormat(rawValue: row[3]) ?? .native
        return StoredEvent(sequence: sequence, event: event, receivedAt: Timestamp(nanoseconds: row[2]), format: format)
    }

    // MARK: Verification

    public func verify() async throws -> VerifyReport {
        try await pool.read { db in try Self.verify(db) }
    }

    /// Verifies the log at `path` through a read-only connection, changing nothing: a file
    /// that is not a shiplog event log is refused (`StoreError.notAnEventLog`), and one written
    /// before the chain covered every column is checked as it is. With `head` (a row and the
    /// hash recorded for it elsewhere), a log whose row there is missing or different fails:
    /// a prefix of a chain is a valid chain, so only a pinned head reveals a cut tail.
    public static func verifyFile(path: String, head: (sequence: Int64, hash: String)? = nil) throws -> VerifyReport {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError.missingDatabase(path: path) }
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(30)
        let queue = try DatabaseQueue(path: path, configuration: config)
        defer { try? queue.close() }
        return try queue.read { db in
            let tables = try String.fetchSet(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
            let columns = tables.contains("events") ? try db.columns(in: "events").map(\.name) : []
            let expected = ["seq", "event_id", "type", "service", "environment", "time_ns", "received_ns", "format", "content_digest", "event", "raw", "hash"]
            guard tables.contains("grdb_migrations"), Array(columns.prefix(expected.count)) == expected else {
                throw StoreError.notAnEventLog(path: path)
            }
            var report = try verify(db, hasChainColumn: columns.contains("chain"))
            if let head, report.isIntact {
                let stored = try rowHash(db, head.sequence).map { hex($0) }
                if stored == nil {
                    report.brokenSequence = head.sequence
                    report.brokenReason = "the pinned head is row \(head.sequence), but the log ends at row \(report.rowsChecked): rows were cut from its end"
                } else if stored != head.hash.lowercased() {
                    report.brokenSequence = head.sequence
                    report.brokenReason = "row \(head.sequence) has hash \(stored!), not the pinned \(head.hash): the log was rewritten up to there"
                }
            }
            let tip = try ChainTip.read(db)
            report.head = tip.sequence > 0 ? (tip.sequence, hex(tip.hash)) : nil
            return report
        }
    }

    /// Synchronous form of `verify()` for the CLI.
    public func verifyNow() throws -> VerifyReport {
        try pool.read { db in try Self.verify(db) }
    }

    /// The hash of the newest row: record it somewhere else to detect a truncated tail later.
    public func headHash() throws -> String? {
        try pool.read(Self.headHash)
    }

    static func headHash(_ db: Database) throws -> String? {
        try Data.fetchOne(db, sql: "SELECT hash FROM events ORDER BY seq DESC LIMIT 1").map { hex($0) }
    }

    static func verify(_ db: Database, hasChainColumn: Bool = true) throws -> VerifyReport {
        var report = VerifyReport()
        let triggers = try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'")
        for trigger in Schema.appendOnlyTriggers {
            guard let row = triggers.first(where: { ($0["name"] as String) == trigger.name }) else {
                report.schemaProblems.append("trigger \(trigger.name) is missing: the log is not append-only")
                continue
            }
            let sql: String = row["sql"] ?? ""
            if Schema.normalized(sql) != Schema.normalized(trigger.sql) {
                report.schemaProblems.append("trigger \(trigger.name) was altered (\(Schema.normalized(sql).prefix(200))): it may no longer refuse every change")
            }
        }
        for row in triggers where !Schema.appendOnlyTriggers.contains(where: { $0.name == (row["name"] as String) }) {
            report.schemaProblems.append("trigger \(row["name"] as String) on events is not shiplog's")
        }
        var previous: [UInt8] = []
        var expected: Int64 = 1
        var chainSeen = 1
        let cursor = try Row.fetchCursor(
            db, sql: """
                SELECT seq, event_id, type, service, environment, time_ns, event, hash, \(hasChainColumn ? "chain" : "1"),
                       received_ns, format, content_digest, raw
                FROM events ORDER BY seq
                """)
        while let row = try cursor.next() {
            let sequence: Int64 = row[0]
            func broken(_ reason: String) -> VerifyReport {
                report.brokenSequence = sequence
                report.brokenReason = reason
                return report
            }
            if sequence != expected {
                return broken("expected sequence \(expected) here: rows \(expected)…\(sequence - 1) are missing")
            }
            let canonical: String = row[6]
            let stored: Data = row[7]
            let chain: Int = row[8]
            guard chain == 1 || chain == 2 else { return broken("unknown chain version \(chain)") }
            if chain < chainSeen {
                return broken("chain version \(chain) after rows of version \(chainSeen): the row was rewritten to escape the newer hash")
            }
            chainSeen = chain
            let raw: Data = row[12]
            let envelope = chain == 2
                ? Envelope(receivedNs: row[9], format: row[10], contentDigest: row[11], raw: Array(raw)) : nil
            let hash = chainHash(previous: previous, canonical: canonical, envelope: envelope)
            if Array(stored) != hash {
                return broken(chain == 2
                    ? "hash does not match SHA-256(previous hash ‖ event ‖ receive time, format, digest, raw body): the row or one before it was changed"
                    : "hash does not match SHA-256(previous hash ‖ event): the row or one before it was changed")
            }
            if chain == 1, SourceFormat(rawValue: row[10] as String) == nil {
                return broken("the format column holds no known format")
            }
            guard let json = try? JSONValue.parse(canonical), case .success(let event) = Event.validate(json, now: nil) else {
                return broken("the stored event is not a valid event")
            }
            if event.canonicalJSON != canonical {
                return broken("the stored event is not in canonical form")
            }
            let environment: String? = row[4]
            if event.id != row[1] || event.type.rawValue != (row[2] as String) || event.service != (row[3] as String)
                || event.environment != environment || event.time?.nanoseconds != (row[5] as Int64)
            {
                return broken("the indexed columns (id, type, service, environment, time) disagree with the hashed event")
            }
            previous = hash
            expected += 1
            report.rowsChecked += 1
        }
        return report
    }
}
