import Foundation
import Logging
import PostgresNIO
import ShiplogModel
import ShiplogStore
import Synchronization

/// The event log in PostgreSQL, for several replicas on one database: the same rows, chain
/// and contract as the SQLite log.
///
/// Each replica group-commits its appends (one transaction in flight, many acknowledgements),
/// and every transaction numbers and hashes its rows while it holds the one-row `chain_head`
/// locked `FOR UPDATE`, so the chain stays gap-free however many replicas write. An append is
/// acknowledged only after COMMIT returns with `synchronous_commit` on. Commits are announced
/// with `NOTIFY shiplog_events`; every replica listens and reads the new rows at once.
public final class PostgresEventLog: EventDatabase {
    public let url: PostgresURL
    public let committed: SequenceSignal
    let client: PostgresClient
    let logger: Logger
    let recent = RecentRows(capacity: 4096)
    let clock = StampClock()
    /// How long one database operation may take before the request answers 503.
    let timeout: Duration
    /// Set when the last operation found the server away: the next ones wait one second, not
    /// `timeout`, so that requests answer 503 at once during an outage. Cleared by a success.
    private let unreachable = Mutex(false)
    /// Names this log's commits in their notifications, so that it skips its own.
    let writer = UUID().uuidString
    /// The head after this replica's last append, for the one-statement append.
    private let knownHead = Mutex<ChainHead?>(nil)
    /// Until then, appends go straight to the locked transaction: the one statement missed,
    /// as it keeps missing while other replicas write (they then queue on the lock instead).
    private let contendedUntil = Mutex(ContinuousClock.now)
    /// Where this replica keeps its projection snapshot; nil keeps none.
    let snapshotPath: String?
    private let running: Task<Void, Never>
    private let listening = Mutex<Task<Void, Never>?>(nil)
    private let committer: AppendQueue

    public var location: String { url.description }

    /// Connects, applies the migrations the database lacks (refusing one a newer shiplog
    /// migrated), and, with `listen`, follows other replicas' commits.
    public static func open(
        _ url: PostgresURL,
        snapshotPath: String? = nil,
        timeout: Duration = .seconds(10),
        listen: Bool = true,
        logger: Logger = Logger(label: "shiplog.postgres")
    ) async throws -> PostgresEventLog {
        let log = try PostgresEventLog(url: url, snapshotPath: snapshotPath, timeout: timeout, logger: logger)
        do {
            // Start-up is not a request: give a busy server longer than one operation gets.
            try await log.bounded("connecting", within: max(timeout, .seconds(30))) {
                try await log.client.withConnection { connection in
                    try await PostgresSchema.migrate(connection, location: url.description, logger: logger)
                }
            }
            log.committed.publish(try await log.lastSequence())
        } catch {
            try? await log.close()
            throw error
        }
        if listen { log.startListening() }
        return log
    }

    private init(url: PostgresURL, snapshotPath: String?, timeout: Duration, logger: Logger) throws {
        self.url = url
        self.snapshotPath = snapshotPath
        self.timeout = timeout
        self.logger = logger
        let client: PostgresClient
        do {
            client = PostgresClient(configuration: try url.configuration(), backgroundLogger: logger)
        } catch {
            throw StoreError.databaseUnavailable(location: url.description, reason: "\(error)")
        }
        self.client = client
        running = Task { await client.run() }
        committed = SequenceSignal(0)
        let box = WeakBox()
        committer = AppendQueue { submissions in
            guard let log = box.log else { return submissions.map { _ in .failure(CancellationError()) } }
            return await log.writeGroup(submissions)
        }
        box.log = self
    }

    /// Stops listening and closes every connection.
    public func close() async throws {
        listening.withLock { $0?.cancel() }
        running.cancel()
        _ = await running.value
    }

    public func append(_ events: [PreparedEvent]) async throws -> [AppendOutcome] {
        try await committer.submit(events).get()
    }

    /// Transactions written so far and the most submissions one of them held.
    public func groupCommitStatistics() async -> (transactions: Int, largestGroup: Int) {
        await committer.statistics
    }

    // MARK: Writing

    /// What one group's transaction did: an outcome per submission, the rows it created (as
    /// stored), and the newest row of the log after it.
    struct WrittenGroup: Sendable {
        var outcomes: [Result<[AppendOutcome], any Error>] = []
        var created: [StoredEvent] = []
        var committedThrough: Int64 = 0
        /// The chain's head after the group.
        var head = ChainHead(sequence: 0, hash: [], stampNs: 0)
    }

    /// Writes a group of submissions in one transaction; each fails or succeeds on its own.
    ///
    /// The usual case is one statement: the rows numbered and hashed after the head this
    /// replica last wrote or read, inserted only if `chain_head` still holds that head (a
    /// compare-and-set in the statement that moves it). When another replica moved the head,
    /// or an id is already taken (a retry), the head and the group's ids are read again
    /// (without a lock) and the statement retried; after `attempts` misses in a row, the group
    /// is written in a transaction that locks the head, which always succeeds. After a miss,
    /// the groups of the next second lock the head at once: other replicas are writing, and
    /// queueing on the lock then costs less than missing again.
    func writeGroup(_ submissions: [[PreparedEvent]]) async -> [Result<[AppendOutcome], any Error>] {
        do {
            let written: WrittenGroup
            if let once = try await writeInOneStatement(submissions) {
                written = once
            } else {
                written = try await bounded("appending") {
                    try await self.client.withTransaction(logger: self.logger) { tx in
                        try await Self.write(submissions, clock: self.clock, writer: self.writer, on: tx, logger: self.logger)
                    }
                }
            }
            knownHead.withLock { $0 = written.head }
            recent.append(written.created)
            committed.publish(written.committedThrough)
            return written.outcomes
        } catch {
            knownHead.withLock { $0 = nil }
            return submissions.map { _ in .failure(error) }
        }
    }

    /// The group written by the one-statement append, from the head this replica knows or
    /// from the head read again after a miss; nil after `attempts` misses.
    func writeInOneStatement(_ submissions: [[PreparedEvent]]) async throws -> WrittenGroup? {
        guard ContinuousClock.now >= contendedUntil.withLock({ $0 }) else { return nil }
        var known = knownHead.withLock { $0 }.map { (head: $0, taken: [String: (sequence: Int64, digest: String)]()) }
        for attempt in 0..<Self.attempts {
            if attempt > 0 { contendedUntil.withLock { $0 = .now + .seconds(1) } }
            let (head, taken) =
                if let known { known } else { try await bounded("reading the chain head") { try await self.headAndTaken(submissions) } }
            if let written = try await bounded("appending", { try await self.write(submissions, ifHeadIs: head, taken: taken) }) {
                return written
            }
            known = nil
        }
        return nil
    }

    /// How many one-statement tries a group gets before it locks the head.
    static let attempts = 3

    /// The chain's head and which of the group's ids are taken, read in one statement (one
    /// snapshot: a row is only ever added together with a move of the head).
    func headAndTaken(_ submissions: [[PreparedEvent]]) async throws -> (ChainHead, [String: (sequence: Int64, digest: String)]) {
        let ids = Array(Set(submissions.lazy.flatMap { $0.map(\.id) }))
        let rows = try await client.query(
            """
            SELECT h.seq, h.hash, h.stamp_ns, e.event_id, e.seq, e.content_digest
            FROM chain_head h LEFT JOIN events e ON e.event_id = ANY(\(ids))
            """,
            logger: logger
        )
        var head: ChainHead?
        var taken: [String: (sequence: Int64, digest: String)] = [:]
        for try await (sequence, hash, stamp, id, row, digest) in rows.decode((Int64, ByteBuffer, Int64, String?, Int64?, String?).self) {
            head = ChainHead(sequence: sequence, hash: Array(buffer: hash), stampNs: stamp)
            if let id, let row, let digest { taken[id] = (row, digest) }
        }
        guard let head else { throw StoreError.corruptRow(sequence: 0, reason: "the chain_head table is empty") }
        return (head, taken)
    }

    /// The group written in one statement if the chain's head is still `head`; nil when it
    /// moved, or when an id not in `taken` is taken after all.
    func write(
        _ submissions: [[PreparedEvent]],
        ifHeadIs head: ChainHead,
        taken: [String: (sequence: Int64, digest: String)]
    ) async throws -> WrittenGroup? {
        let (written, rows) = Self.plan(submissions, after: head, taken: taken, clock: clock)
        guard !rows.isEmpty else { return written }
        do {
            let moved = try await client.query(Self.insertIfHead(is: head, becomes: written.head, rows, writer: writer), logger: logger)
            var applied = false
            for try await _ in moved { applied = true }
            return applied ? written : nil
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            return nil
        }
    }

    /// The newest row's sequence and hash, and the latest time stamped onto an event.
    struct ChainHead: Sendable {
        var sequence: Int64
        var hash: [UInt8]
        var stampNs: Int64
    }

    /// Inside a transaction: locks the chain head, finds the ids already taken, and inserts
    /// the new rows. Ids are looked up after the lock is held, so a replica racing on the
    /// same id sees the other's committed row (READ COMMITTED takes a snapshot per statement).
    static func write(
        _ submissions: [[PreparedEvent]],
        clock: StampClock,
        writer: String,
        on tx: PostgresConnection,
        logger: Logger
    ) async throws -> WrittenGroup {
        let head = try await lockHead(tx, logger: logger)
        let taken = try await takenIDs(Array(Set(submissions.lazy.flatMap { $0.map(\.id) })), on: tx, logger: logger)
        let (written, rows) = plan(submissions, after: head, taken: taken, clock: clock)
        if !rows.isEmpty {
            // Under the lock the head is still `head`: the statement always moves it.
            try await tx.query(insertIfHead(is: head, becomes: written.head, rows, writer: writer), logger: logger)
        }
        return written
    }

    /// Numbers and hashes a group's new rows after `head`: an outcome per submission (a
    /// submission that reuses a taken id with other content fails alone), and the rows.
    static func plan(
        _ submissions: [[PreparedEvent]],
        after start: ChainHead,
        taken known: [String: (sequence: Int64, digest: String)],
        clock: StampClock
    ) -> (WrittenGroup, RowColumns) {
        var head = start
        var taken = known
        var written = WrittenGroup()
        var rows = RowColumns()
        for submission in submissions {
            var tip = head
            var mine: [String: (sequence: Int64, digest: String)] = [:]
            var outcomes: [AppendOutcome] = []
            var created: [StoredEvent] = []
            var pending = RowColumns()
            var conflict: AppendError?
            for (index, sent) in submission.enumerated() {
                if let existing = mine[sent.id] ?? taken[sent.id].map({ (sequence: $0.sequence, digest: $0.digest) }) {
                    guard existing.digest == sent.contentDigest else {
                        conflict = .conflict(index: index, id: sent.id, existing: existing.sequence)
                        break
                    }
                    outcomes.append(.duplicate(existing.sequence))
                    continue
                }
                var event = sent
                if event.stampsTimeOnWrite {
                    let stamp = max(clock.next().nanoseconds, tip.stampNs)
                    event = event.stamped(at: Timestamp(nanoseconds: stamp))
                    tip.stampNs = stamp
                }
                tip.sequence += 1
                tip.hash = HashChain.hash(previous: tip.hash, canonical: event.canonical, envelope: HashChain.Envelope(event))
                pending.append(event, sequence: tip.sequence, hash: tip.hash)
                mine[event.id] = (tip.sequence, event.contentDigest)
                outcomes.append(.created(tip.sequence))
                created.append(StoredEvent(sequence: tip.sequence, event: event.event, receivedAt: event.receivedAt, format: event.format))
            }
            if let conflict {
                written.outcomes.append(.failure(conflict))
                continue
            }
            head = tip
            for (id, row) in mine { taken[id] = (row.sequence, row.digest) }
            rows.append(contentsOf: pending)
            written.created += created
            written.outcomes.append(.success(outcomes))
        }
        written.committedThrough = head.sequence
        written.head = head
        return (written, rows)
    }

    static func lockHead(_ tx: PostgresConnection, logger: Logger) async throws -> ChainHead {
        let rows = try await tx.query(
            "SELECT seq, hash, stamp_ns FROM chain_head FOR UPDATE",
            logger: logger
        )
        for try await (sequence, hash, stamp) in rows.decode((Int64, ByteBuffer, Int64).self) {
            return ChainHead(sequence: sequence, hash: Array(buffer: hash), stampNs: stamp)
        }
        throw StoreError.corruptRow(sequence: 0, reason: "the chain_head table is empty")
    }

    static func takenIDs(_ ids: [String], on tx: PostgresConnection, logger: Logger) async throws -> [String: (sequence: Int64, digest: String)] {
        var taken: [String: (sequence: Int64, digest: String)] = [:]
        guard !ids.isEmpty else { return taken }
        let rows = try await tx.query("SELECT event_id, seq, content_digest FROM events WHERE event_id = ANY(\(ids))", logger: logger)
        for try await (id, sequence, digest) in rows.decode((String, Int64, String).self) {
            taken[id] = (sequence, digest)
        }
        return taken
    }

    /// The columns of new rows, as arrays bound to one `INSERT … SELECT FROM unnest(…)`.
    struct RowColumns {
        var sequence: [Int64] = []
        var id: [String] = []
        var type: [String] = []
        var service: [String] = []
        /// `""` for none (an environment name is never empty).
        var environment: [String] = []
        var timeNs: [Int64] = []
        var receivedNs: [Int64] = []
        var format: [String] = []
        var contentDigest: [String] = []
        var event: [String] = []
        var raw: [ByteBuffer] = []
        var hash: [ByteBuffer] = []

        var isEmpty: Bool { sequence.isEmpty }
        var count: Int { sequence.count }

        mutating func append(_ e: PreparedEvent, sequence s: Int64, hash h: [UInt8]) {
            sequence.append(s)
            id.append(e.id)
            type.append(e.event.type.rawValue)
            service.append(e.event.service)
            environment.append(e.event.environment ?? "")
            timeNs.append(e.time.nanoseconds)
            receivedNs.append(e.receivedAt.nanoseconds)
            format.append(e.format.rawValue)
            contentDigest.append(e.contentDigest)
            event.append(e.canonical)
            raw.append(ByteBuffer(bytes: e.raw))
            hash.append(ByteBuffer(bytes: h))
        }

        mutating func append(contentsOf other: RowColumns) {
            sequence += other.sequence
            id += other.id
            type += other.type
            service += other.service
            environment += other.environment
            timeNs += other.timeNs
            receivedNs += other.receivedNs
            format += other.format
            contentDigest += other.contentDigest
            event += other.event
            raw += other.raw
            hash += other.hash
        }
    }

    /// One statement that moves the head from `old` to `new` only if it is still `old`, inserts
    /// the rows only if it moved, and announces them; it returns a row when it wrote. A taken
    /// id fails it with a unique violation, and nothing is written.
    static func insertIfHead(is old: ChainHead, becomes new: ChainHead, _ rows: RowColumns, writer: String) -> PostgresQuery {
        let chain = [Int16](repeating: Int16(HashChain.current), count: rows.count)
        let oldHash = ByteBuffer(bytes: old.hash)
        let newHash = ByteBuffer(bytes: new.hash)
        return """
            WITH moved AS (
                UPDATE chain_head SET seq = \(new.sequence), hash = \(newHash), stamp_ns = \(new.stampNs)
                WHERE seq = \(old.sequence) AND hash = \(oldHash)
                RETURNING seq
            ), inserted AS (
                INSERT INTO events (seq, event_id, type, service, environment, time_ns, received_ns, format, content_digest, event, raw, hash, chain)
                SELECT s, i, t, sv, NULLIF(e, ''), tn, rn, f, d, ev, r, h, c
                FROM unnest(\(rows.sequence)::bigint[], \(rows.id)::text[], \(rows.type)::text[], \(rows.service)::text[],
                            \(rows.environment)::text[], \(rows.timeNs)::bigint[], \(rows.receivedNs)::bigint[], \(rows.format)::text[],
                            \(rows.contentDigest)::text[], \(rows.event)::text[], \(rows.raw)::bytea[], \(rows.hash)::bytea[],
                            \(chain)::smallint[])
                     AS u(s, i, t, sv, e, tn, rn, f, d, ev, r, h, c)
                WHERE EXISTS (SELECT 1 FROM moved)
                RETURNING 1
            )
            SELECT pg_notify('shiplog_events', seq::text || ':' || \(writer)) FROM moved
            """
    }

    // MARK: Following other replicas

    /// Listens for commits (this replica's and the others'), and raises `committed` for each:
    /// the projection then reads the new rows at once. Reconnects after a lost connection;
    /// the projection's polling covers the time in between.
    private func startListening() {
        let task = Task { [client, committed, logger, writer] in
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: "shiplog_events") { notifications in
                            for try await notification in notifications {
                                // "sequence:writer". This replica's own commits are
                                // published by the append itself, once its rows are cached.
                                let parts = notification.payload.split(separator: ":", maxSplits: 1)
                                if parts.count == 2, parts[1] == writer { continue }
                                if let first = parts.first, let sequence = Int64(first) { committed.publish(sequence) }
                            }
                        }
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.debug("listening for commits failed; trying again", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        listening.withLock { $0 = task }
    }

    // MARK: Errors

    /// Runs one database operation within `timeout`; a lost or unreachable server, or no
    /// answer in time, becomes `StoreError.databaseUnavailable` (a 503 for requests). The
    /// answer comes at the deadline even when the operation does not heed cancellation (a
    /// pool waiting for a server that is away): it is cancelled and left to finish alone.
    func bounded<T: Sendable>(
        _ what: String,
        within limit: Duration? = nil,
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let timeout = limit ?? (unreachable.withLock { $0 } ? min(self.timeout, .seconds(1)) : self.timeout)
        let race = Race<T>()
        do {
            let value = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    race.wait(continuation)
                    race.track([
                        Task {
                            do { race.finish(.success(try await operation())) } catch { race.finish(.failure(error)) }
                        },
                        Task {
                            guard (try? await Task.sleep(for: timeout)) != nil else { return }
                            race.finish(.failure(StoreError.databaseUnavailable(location: "", reason: "no answer within \(timeout) while \(what)")))
                        },
                    ])
                }
            } onCancel: {
                race.finish(.failure(CancellationError()))
            }
            unreachable.withLock { $0 = false }
            return value
        } catch {
            let explained = explaining(error)
            if case StoreError.databaseUnavailable = explained { unreachable.withLock { $0 = true } }
            throw explained
        }
    }

    /// The store's own error for what a user can act on; any other error unchanged.
    func explaining(_ error: any Error) -> any Error {
        switch error {
        case let error as PostgresTransactionError:
            if let inner = error.closureError ?? error.beginError ?? error.commitError { return explaining(inner) }
            return error
        case StoreError.databaseUnavailable(_, let reason):
            return StoreError.databaseUnavailable(location: location, reason: reason)
        case let error as PSQLError:
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .queryCancelled:
                return StoreError.databaseUnavailable(location: location, reason: Self.reason(error))
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                // 08: connection exceptions; 57P: the server shutting down or starting up;
                // 53: out of resources (too many connections, disk full).
                if state.hasPrefix("08") || state.hasPrefix("57P") || state.hasPrefix("53") {
                    return StoreError.databaseUnavailable(location: location, reason: Self.reason(error))
                }
                return StoreError.databaseError(location: location, reason: Self.reason(error))
            default:
                return StoreError.databaseError(location: location, reason: Self.reason(error))
            }
        default:
            return error
        }
    }

    /// What a PostgreSQL error says, without the query text or its bound values.
    static func reason(_ error: PSQLError) -> String {
        if let message = error.serverInfo?[.message] {
            let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return message + state
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }
}

/// Lets the append queue call back into the log without owning it.
private final class WeakBox: @unchecked Sendable {
    weak var log: PostgresEventLog?
}

/// Group commit for one replica: appends that arrive while a transaction is being written
/// wait, and all of them go into the next one together.
actor AppendQueue {
    typealias Outcome = Result<[AppendOutcome], any Error>
    private var pending: [(submission: [PreparedEvent], continuation: CheckedContinuation<Outcome, Never>)] = []
    private var writing = false
    private let write: @Sendable ([[PreparedEvent]]) async -> [Outcome]
    private(set) var statistics = (transactions: 0, largestGroup: 0)
    /// The most events one transaction holds (a large batch still goes whole).
    private let groupEvents = 10_000

    init(write: @escaping @Sendable ([[PreparedEvent]]) async -> [Outcome]) {
        self.write = write
    }

    func submit(_ submission: [PreparedEvent]) async -> Outcome {
        await withCheckedContinuation { continuation in
            pending.append((submission, continuation))
            if !writing {
                writing = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            var take = 0
            var events = 0
            while take < pending.count, take == 0 || events + pending[take].submission.count <= groupEvents {
                events += pending[take].submission.count
                take += 1
            }
            let group = Array(pending.prefix(take))
            pending.removeFirst(take)
            statistics.transactions += 1
            statistics.largestGroup = max(statistics.largestGroup, group.count)
            let outcomes = await write(group.map(\.submission))
            for (waiting, outcome) in zip(group, outcomes) { waiting.continuation.resume(returning: outcome) }
        }
        writing = false
    }
}

/// An operation and its deadline: whichever ends first answers the caller, once, and the
/// other is cancelled.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var finished: Result<T, any Error>?
        var tasks: [Task<Void, Never>] = []
    }
    private let state = Mutex(State())

    func wait(_ continuation: CheckedContinuation<T, any Error>) {
        let early = state.withLock { s -> Result<T, any Error>? in
            if s.finished == nil { s.continuation = continuation }
            return s.finished
        }
        if let early { continuation.resume(with: early) }
    }

    func track(_ tasks: [Task<Void, Never>]) {
        let done = state.withLock { s in
            s.tasks = tasks
            return s.finished != nil
        }
        if done { for task in tasks { task.cancel() } }
    }

    func finish(_ result: Result<T, any Error>) {
        let (continuation, tasks) = state.withLock { s -> (CheckedContinuation<T, any Error>?, [Task<Void, Never>]) in
            guard s.finished == nil else { return (nil, []) }
            s.finished = result
            defer { s.continuation = nil }
            return (s.continuation, s.tasks)
        }
        for task in tasks { task.cancel() }
        continuation?.resume(with: result)
    }
}
