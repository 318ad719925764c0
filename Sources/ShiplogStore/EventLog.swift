import ShiplogModel

/// What the metrics, the server and the CLI read from a log, whatever holds it: rows in
/// sequence order, one pair's or one service's events in (time, sequence) order, the
/// hash of a row, and a signal of what is committed.
public protocol EventLogReader: Sendable {
    /// The sequence number of the newest row (0 for an empty log).
    func lastSequence() async throws -> Int64

    /// Stored events in sequence order, after `sequence`, at most `limit` of them.
    func events(after sequence: Int64, limit: Int) async throws -> [StoredEvent]

    /// One (service, environment)'s events in (time, sequence) order, those after `position`
    /// (all with nil) and at most row `through`: what a pair is rebuilt from.
    func pairEvents(service: String, environment: String, after position: LogPosition?, through: Int64) async throws -> [StoredEvent]

    /// Every event of one service, in (time, sequence) order: what an explanation reads.
    func serviceEvents(_ service: String) async throws -> [StoredEvent]

    /// The hash of row `sequence` (hex), nil when there is no such row.
    func rowHash(_ sequence: Int64) async throws -> String?

    /// The body row `sequence` was received in, byte for byte; nil when there is no such row.
    func rawBody(_ sequence: Int64) async throws -> [UInt8]?

    /// "Committed through N": raised after every durable write of this process. Rows that
    /// another process writes are only found by reading (`events(after:limit:)`).
    var committed: SequenceSignal { get }
}

/// The append-only event log, whatever holds it. SQLite is the embedded implementation;
/// a second backend implements this same protocol and passes the same test suite
/// (`EventLogContractTests`, run for every backend).
public protocol EventLog: EventLogReader {
    /// Appends one submission (a single event or a batch) durably, all or nothing.
    /// Returns after the transaction holding it is committed and synced. An event whose
    /// `time` shiplog filled in is stamped when it is written, so that such events are in
    /// time order in the order of their sequence numbers.
    /// - Throws: `AppendError.conflict` when an id is already taken by different content.
    func append(_ events: [PreparedEvent]) async throws -> [AppendOutcome]

    /// One page of history, newest first by `time` (ties by sequence).
    func page(_ query: EventQuery) async throws -> EventPage

    /// Walks the hash chain and checks the append-only schema.
    func verify() async throws -> VerifyReport

    /// Why the log refuses every write until the process restarts (a failed sync), or nil.
    var writeFailure: (any Error)? { get }
}

extension EventLog {
    public var writeFailure: (any Error)? { nil }
}

/// What happened to one appended event.
public enum AppendOutcome: Sendable, Hashable {
    /// Written with this sequence number.
    case created(Int64)
    /// Already in the log with the same content, at this sequence number; nothing written.
    case duplicate(Int64)

    public var sequence: Int64 {
        switch self {
        case .created(let s), .duplicate(let s): s
        }
    }

    public var isDuplicate: Bool {
        if case .duplicate = self { return true }
        return false
    }
}

/// Why an append wrote nothing.
public enum AppendError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The event at `index` reuses `id`, which the log holds (at `existing`) with other content.
    case conflict(index: Int, id: String, existing: Int64)

    public var description: String {
        switch self {
        case let .conflict(index, id, existing):
            "event \(index): id \"\(id)\" is already recorded (sequence \(existing)) with different content"
        }
    }
}

/// Filters and position for reading history.
public struct EventQuery: Sendable, Hashable {
    public var environment: String?
    public var service: String?
    public var type: EventType?
    /// Only events with `time >= since`.
    public var since: Timestamp?
    /// Only events with `time < until`.
    public var until: Timestamp?
    public var limit: Int
    /// Where the previous page ended; from `EventPage.next`.
    public var cursor: EventCursor?

    public static let maxLimit = 1000

    public init(
        environment: String? = nil,
        service: String? = nil,
        type: EventType? = nil,
        since: Timestamp? = nil,
        until: Timestamp? = nil,
        limit: Int = 100,
        cursor: EventCursor? = nil
    ) {
        self.environment = environment
        self.service = service
        self.type = type
        self.since = since
        self.until = until
        self.limit = limit
        self.cursor = cursor
    }
}

/// The position after the last event of a page: opaque text to clients.
public struct EventCursor: Sendable, Hashable {
    public var time: Timestamp
    public var sequence: Int64

    public init(time: Timestamp, sequence: Int64) {
        self.time = time
        self.sequence = sequence
    }

    /// URL-safe opaque text.
    public var token: String {
        let plain = "v1:\(time.nanoseconds):\(sequence)"
        return hex(plain.utf8)
    }

    public init?(token: String) {
        guard token.utf8.count <= 128, let bytes = Hex.decode(token.utf8) else { return nil }
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: ":")
        guard parts.count == 3, parts[0] == "v1", let t = Int64(parts[1]), let s = Int64(parts[2]) else { return nil }
        self.time = Timestamp(nanoseconds: t)
        self.sequence = s
    }
}

/// One page of history and where the next one starts (nil on the last page).
public struct EventPage: Sendable, Hashable {
    public var events: [StoredEvent]
    public var next: EventCursor?

    public init(events: [StoredEvent], next: EventCursor?) {
        self.events = events
        self.next = next
    }
}

/// The result of walking the hash chain.
public struct VerifyReport: Sendable {
    public var rowsChecked: Int64
    /// The first row that does not verify, and why; nil when the chain is intact.
    public var brokenSequence: Int64?
    public var brokenReason: String?
    /// Problems with the schema itself (a missing append-only trigger).
    public var schemaProblems: [String]
    /// The newest row and its hash (from `SQLiteEventLog.verifyFile`), to pin elsewhere.
    public var head: (sequence: Int64, hash: String)?

    public var isIntact: Bool { brokenSequence == nil && schemaProblems.isEmpty }

    public init(rowsChecked: Int64 = 0, schemaProblems: [String] = []) {
        self.rowsChecked = rowsChecked
        self.schemaProblems = schemaProblems
    }
}
