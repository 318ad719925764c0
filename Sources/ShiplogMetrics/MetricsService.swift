import Foundation
import ShiplogModel
import ShiplogStore
import Synchronization

/// What happened to ingested events, for `shiplog_events_ingested_total{source,outcome}`.
/// `skipped`: a source item acknowledged without an event (an alert without service labels,
/// a CDEvent about a build).
public enum IngestOutcome: String, Sendable, CaseIterable {
    case created, duplicate, rejected, conflict, skipped
}

/// The live metrics of a running server: the projection (replayed from the log at start,
/// then kept current on every append) plus self-metrics. Thread-safe.
public final class MetricsService: Sendable {
    public let pipeline: Pipeline
    public let version: String
    private let state: Mutex<State>
    /// Self-metrics, behind their own lock: every request records its duration, and must not
    /// wait for a large batch the projection is applying.
    private let counters = Mutex(Counters())
    /// The pairs that exist or that appends in flight will create, against the limit.
    private let budget = Mutex(PairBudget())
    private let loader: @Sendable (PairKey) throws -> [StoredEvent]

    struct PairBudget: Sendable {
        var known = Set<PairKey>()
        var limit: Int? = nil
    }

    /// An append would create more pairs than `limit` allows (`--max-pairs`).
    public struct PairLimitExceeded: Error, Sendable, CustomStringConvertible {
        public var limit: Int
        /// How many pairs exist or are being created.
        public var existing: Int
        /// How many the refused events would add.
        public var new: Int
        /// One pair the refused events would create.
        public var example: PairKey

        public var description: String {
            "these events would create \(new) new (service, environment) pair\(new == 1 ? "" : "s") (like \(example.service)/\(example.environment)) "
                + "beyond the limit of \(limit) (\(existing) exist; --max-pairs); nothing was written"
        }
    }

    /// Pairs created by `reservePairs` and not yet confirmed or released.
    public struct PairReservation: Sendable {
        let keys: [PairKey]
    }

    struct Counters: Sendable {
        var ingested: [String: Int] = [:]
        var requests: [String: Histogram] = [:]
        var verification: (intact: Bool, at: Timestamp)?
    }

    struct State: Sendable {
        var projection: Projection
        var restored: Restore?
        /// The rows applied. A snapshot is only taken without a gap (appends that finished
        /// out of order, or rows another process wrote that `catchUp` has not applied yet).
        var applied = AppliedSequences()
        /// The row the newest saved (or loaded) snapshot covers.
        var snapshotSequence: Int64 = 0
        /// More than `largestGapCount` separate gaps (rows whose application keeps failing,
        /// say): tracking stops, and so do snapshots and catching up, until restart.
        var gaveUp = false
        static let largestGapCount = 100_000
        /// Where the log ended at the previous `catchUp` (or at start-up): rows up to here
        /// that are still not applied were written by another process.
        var settledThrough: Int64 = 0

        mutating func markApplied(_ sequence: Int64) {
            guard !gaveUp else { return }
            applied.insert(sequence)
            if applied.ahead.count > Self.largestGapCount {
                gaveUp = true
                applied = AppliedSequences(through: applied.through)
            }
        }
    }

    /// How the start-up state was built.
    public struct Restore: Sendable, CustomStringConvertible {
        /// The row the loaded snapshot covered; nil for a replay of the whole log.
        public var snapshotSequence: Int64?
        /// Why a snapshot that exists was not used.
        public var snapshotProblem: String?
        /// Events read from the log and applied.
        public var replayed: Int

        public var description: String {
            if let s = snapshotSequence { return "snapshot through row \(s), then \(replayed) events" }
            return "\(replayed) events" + (snapshotProblem.map { " (snapshot not used: \($0))" } ?? "")
        }
    }

    /// Replaying from a snapshot applies the events after it in memory; beyond this many,
    /// the whole log is replayed in batches instead.
    public static let largestSnapshotTail: Int64 = 200_000

    /// - Parameter loader: reads one pair's events in (time, sequence) order, for late events.
    public init(pipeline: Pipeline, version: String, loader: @escaping @Sendable (PairKey) throws -> [StoredEvent]) {
        self.pipeline = pipeline
        self.version = version
        self.loader = loader
        state = Mutex(State(projection: Projection(pipeline: pipeline)))
    }

    /// A service over a SQLite log, restored from its snapshot (when `useSnapshot` and one
    /// fits) and the events after it, or else replayed from the whole log.
    public convenience init(log: SQLiteEventLog, pipeline: Pipeline, version: String, useSnapshot: Bool = true) throws {
        self.init(pipeline: pipeline, version: version) { key in
            try log.pairEventsNow(service: key.service, environment: key.environment)
        }
        restored = try restore(from: log, useSnapshot: useSnapshot)
    }

    /// How the convenience initializer built the state (nil for the others).
    public private(set) var restored: Restore? {
        get { state.withLock { $0.restored } }
        set { state.withLock { $0.restored = newValue } }
    }

    /// Builds the state from `log`: from its snapshot and the events after it when that
    /// works, otherwise from every event.
    @discardableResult
    public func restore(from log: SQLiteEventLog, useSnapshot: Bool = true) throws -> Restore {
        let last = try log.lastSequenceNow()
        var problem: String? = nil
        if useSnapshot {
            switch try log.loadSnapshot(kind: ProjectionSnapshot.kind(for: pipeline)) {
            case .none: break
            case .unusable(let reason): problem = reason
            case .found(let snapshot):
                if last - snapshot.sequence > Self.largestSnapshotTail {
                    problem = "\(last - snapshot.sequence) events were appended after it"
                    break
                }
                do {
                    var projection = try snapshot.bytes.withUnsafeBytes { try Projection(snapshot: $0, pipeline: pipeline) }
                    let tail = try log.eventsNow(after: snapshot.sequence, through: last)
                    // Like a whole replay: teaching events first, then everything in time order.
                    try projection.apply(batch: tail, load: loader)
                    install(projection, through: last, snapshot: snapshot.sequence)
                    releaseFreedMemory()
                    return Restore(snapshotSequence: snapshot.sequence, replayed: tail.count)
                } catch let error as ProjectionSnapshot.DecodingError {
                    problem = error.description
                }
            }
        }
        try replay(log, through: last)
        return Restore(snapshotProblem: problem, replayed: Int(last))
    }

    /// Builds the projection from the whole log: the teaching events first (merges and
    /// builds, so that lead times rarely wait for them), then every event in global time
    /// order, so no pair is late. A pair that news reaches after it used what changed is
    /// recomputed once, at the end.
    public func replay(_ log: SQLiteEventLog, through last: Int64? = nil) throws {
        let last = try last ?? log.lastSequenceNow()
        var projection = Projection(pipeline: pipeline)
        var stale = Set<PairKey>()
        let teaching: Set<EventType> = [.changeMerged, .artifactPublished]
        try log.replayNow(types: teaching, through: last) { batch in
            for e in batch { projection.apply(e, deferring: &stale) }
        }
        try log.replayNow(excluding: teaching, through: last) { batch in
            for e in batch { projection.apply(e, deferring: &stale) }
        }
        try projection.recompute(stale, load: loader)
        install(projection, through: last, snapshot: 0)
        releaseFreedMemory()
    }

    /// Gives the replay's transient batches back to the system.
    private func releaseFreedMemory() {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
    }

    private func install(_ projection: Projection, through last: Int64, snapshot: Int64) {
        var projection = projection
        projection.sortKeys()
        budget.withLock { $0.known = Set(projection.pairs.keys) }
        state.withLock { s in
            s.projection = projection
            s.applied = AppliedSequences(through: last)
            s.snapshotSequence = snapshot
            s.settledThrough = last
        }
    }

    /// Applies the rows another process wrote to the log (`shiplog events import` into the
    /// server's database): those that were there at the previous call and are still not
    /// applied. Newer rows may still be on their way from this server's own appends, so the
    /// first call after start-up applies nothing; call it periodically. Reads and applies in
    /// chunks of `chunk` rows, each one batch (in time order, each late pair recomputed once).
    /// Returns how many rows it applied; nil when tracking gave up (see `State.gaveUp`).
    @discardableResult
    public func catchUp(from log: SQLiteEventLog, chunk: Int64 = 50_000) throws -> Int? {
        let last = try log.lastSequenceNow()
        let (from, horizon, gaveUp) = state.withLock { s in (s.applied.through, min(s.settledThrough, last), s.gaveUp) }
        defer { state.withLock { $0.settledThrough = max($0.settledThrough, last) } }
        if gaveUp { return nil }
        let load = loader
        var applied = 0
        var start = from
        while start < horizon {
            let end = min(start + chunk, horizon)
            let rows = try log.eventsNow(after: start, through: end)
            try state.withLock { s in
                let missing = rows.filter { !s.applied.contains($0.sequence) }
                guard !missing.isEmpty else { return }
                try s.projection.apply(batch: missing, load: load)
                for e in missing { s.markApplied(e.sequence) }
                applied += missing.count
                let keys = missing.flatMap { pipeline.pairKeys(for: $0.event) }
                budget.withLock { $0.known.formUnion(keys) }
            }
            start = end
        }
        return applied
    }

    /// The most pairs appends over HTTP may create (`--max-pairs`); nil: no limit. Events
    /// that another process writes to the log (`events import`) are applied whatever the limit.
    public var pairLimit: Int? {
        get { budget.withLock { $0.limit } }
        set { budget.withLock { $0.limit = newValue } }
    }

    /// Counts the pairs `events` would create against `pairLimit`, all or nothing: either
    /// throws `PairLimitExceeded`, or holds the new pairs for them until `release` (after a
    /// failed append) or for good. Concurrent appends cannot pass the limit together.
    public func reservePairs(for events: [Event]) throws -> PairReservation {
        try budget.withLock { b in
            var new: [PairKey] = []
            var seen = Set<PairKey>()
            for event in events {
                for key in pipeline.pairKeys(for: event) where !b.known.contains(key) && seen.insert(key).inserted {
                    new.append(key)
                }
            }
            if let limit = b.limit, b.known.count + new.count > limit, let example = new.first {
                throw PairLimitExceeded(limit: limit, existing: b.known.count, new: new.count, example: example)
            }
            b.known.formUnion(new)
            return PairReservation(keys: new)
        }
    }

    /// Gives back what `reservePairs` held, when the append that needed it failed.
    public func release(_ reservation: PairReservation) {
        guard !reservation.keys.isEmpty else { return }
        // A concurrent append may have counted on one of these keys; `apply` adds back those
        // its events create.
        budget.withLock { $0.known.subtract(reservation.keys) }
    }

    /// Applies freshly appended events (those just created).
    public func apply(_ events: [StoredEvent]) throws {
        let load = loader
        try state.withLock { s in
            try s.projection.apply(batch: events, load: load)
            for e in events { s.markApplied(e.sequence) }
        }
        let keys = events.flatMap { pipeline.pairKeys(for: $0.event) }
        budget.withLock { $0.known.formUnion(keys) }
    }

    /// Saves the projection as `log`'s snapshot when at least `minimumNewEvents` rows were
    /// applied since the last one and every row up to the newest is applied. Returns the row
    /// the saved snapshot covers and its size in bytes, or nil when nothing was saved.
    @discardableResult
    public func saveSnapshot(to log: any SnapshotStore, minimumNewEvents: Int = 1) async throws -> (sequence: Int64, bytes: Int)? {
        let candidate: (Projection, Int64)? = state.withLock { s in
            guard s.applied.isContiguous, !s.gaveUp, s.applied.through > 0,
                s.applied.through - s.snapshotSequence >= max(1, Int64(minimumNewEvents))
            else { return nil }
            return (s.projection, s.applied.through)
        }
        guard let (projection, sequence) = candidate else { return nil }
        // Encoded outside the lock (the copy shares storage until the live state changes)
        // and off the cooperative threads.
        let bytes = try await offloaded { projection.snapshotBytes() }
        try await log.saveSnapshot(kind: ProjectionSnapshot.kind(for: pipeline), sequence: sequence, bytes: bytes)
        state.withLock { $0.snapshotSequence = max($0.snapshotSequence, sequence) }
        return (sequence, bytes.count)
    }

    public func countIngest(source: SourceFormat, outcome: IngestOutcome, count: Int = 1) {
        guard count > 0 else { return }
        let key = "\(source.rawValue)|\(outcome.rawValue)"
        counters.withLock { $0.ingested[key, default: 0] += count }
    }

    public func observeRequest(method: String, route: String, code: Int, seconds: Double) {
        let key = "\(route)|\(method)|\(code)"
        counters.withLock { c in
            c.requests[key, default: Histogram(bounds: Histogram.requestBounds)].record(seconds)
        }
    }

    /// The newest row this server has applied or loaded from its snapshot: a log that ends
    /// before it has lost rows.
    public var newestSequenceSeen: Int64 {
        state.withLock { max($0.projection.lastSequence, $0.snapshotSequence) }
    }

    /// Records the outcome of a check of the hash chain and the append-only schema.
    public func recordVerification(_ report: VerifyReport, at time: Timestamp = .now()) {
        counters.withLock { $0.verification = (report.isIntact, time) }
    }

    /// A consistent copy of the projection (for status, report and gate).
    public var projection: Projection {
        state.withLock { s in
            s.projection.sortKeys()
            return s.projection
        }
    }

    /// The exposition for one scrape. Its cost depends on the number of pairs, not events.
    /// It waits for the projection's lock: call it off the cooperative threads (`offloaded`).
    public func render(format: ExpositionFormat, now: Int64 = Timestamp.now().nanoseconds) -> String {
        var (w, projected) = state.withLock { s in
            var w = ExpositionWriter(format: format, reserve: 2048 + s.projection.pairs.count * 6000)
            MetricsRenderer.renderDORA(&s.projection, into: &w, now: now)
            return (w, Projected(lastSequence: s.projection.lastSequence, snapshotSequence: s.snapshotSequence,
                                 recomputations: s.projection.recomputations, pairs: s.projection.pairs.count))
        }
        renderSelf(projected, counters.withLock { $0 }, limit: budget.withLock { $0.limit }, into: &w)
        w.finish()
        return w.output
    }

    /// What the self-metrics read from the projection's state.
    private struct Projected {
        var lastSequence: Int64
        var snapshotSequence: Int64
        var recomputations: Int
        var pairs: Int
    }

    private func renderSelf(_ s: Projected, _ c: Counters, limit: Int?, into w: inout ExpositionWriter) {
        w.family("shiplog_build_info", .gauge, help: "shiplog's version; always 1.")
        w.sample("shiplog_build_info", ExpositionWriter.labels(["version": version]), 1)
        w.family("shiplog_events_ingested_total", .counter, help: "Events received, by source format and outcome (created, duplicate, rejected, conflict, skipped).")
        for source in SourceFormat.allCases {
            for outcome in IngestOutcome.allCases {
                w.sample("shiplog_events_ingested_total", ExpositionWriter.labels(["source": source.rawValue, "outcome": outcome.rawValue]),
                         c.ingested["\(source.rawValue)|\(outcome.rawValue)"] ?? 0)
            }
        }
        w.family("shiplog_event_log_last_sequence", .gauge, help: "Sequence number of the newest event in the log.")
        w.sample("shiplog_event_log_last_sequence", "", Int(s.lastSequence))
        if let v = c.verification {
            w.family("shiplog_event_log_verified", .gauge, help: "1 when the latest check of the hash chain and the append-only schema passed, 0 when it found a problem (run shiplog verify).")
            w.sample("shiplog_event_log_verified", "", v.intact ? 1 : 0)
            w.family("shiplog_event_log_last_verification_timestamp_seconds", .gauge, help: "When the event log was last checked (Unix time).", unit: "seconds")
            w.sample("shiplog_event_log_last_verification_timestamp_seconds", "", v.at.seconds)
        }
        w.family("shiplog_projection_snapshot_sequence", .gauge, help: "Newest row the saved (or loaded) metrics snapshot covers; 0 without one. A restart applies only the rows after it.")
        w.sample("shiplog_projection_snapshot_sequence", "", Int(s.snapshotSequence))
        w.family("shiplog_pairs", .gauge, help: "(service, environment) pairs the metrics have series for.")
        w.sample("shiplog_pairs", "", s.pairs)
        if let limit {
            w.family("shiplog_pairs_limit", .gauge, help: "The most pairs events over HTTP may create (--max-pairs); beyond it they are refused with 422.")
            w.sample("shiplog_pairs_limit", "", limit)
        }
        w.family("shiplog_projection_recomputations_total", .counter, help: "Pairs recomputed from the log because an event arrived late.")
        w.sample("shiplog_projection_recomputations_total", "", s.recomputations)
        w.family("shiplog_http_request_duration_seconds", .histogram, help: "HTTP request durations by route, method and status code.", unit: "seconds")
        for key in c.requests.keys.sorted() {
            let h = c.requests[key]!
            let parts = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            w.histogram("shiplog_http_request_duration_seconds", ExpositionWriter.labels(["route": parts[0], "method": parts[1], "code": parts[2]]),
                        bounds: h.bounds, cumulative: h.cumulative, sum: h.sum, count: h.count)
        }
    }
}

#if os(Linux)
/// glibc's `malloc_trim`, which the Glibc module does not export.
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
