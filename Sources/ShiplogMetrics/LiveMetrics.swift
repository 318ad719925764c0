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

/// The live metrics of a running server: the projection, fed from the log in sequence order
/// (`applyNewRows`, `follow`) — whoever wrote the rows — plus self-metrics. Thread-safe; one
/// task feeds it at a time.
public final class LiveMetrics: Sendable {
    public let pipeline: Pipeline
    public let version: String
    let state: Mutex<State>
    /// Self-metrics, behind their own lock: every request records its duration, and must not
    /// wait for a large batch the projection is applying.
    let counters = Mutex(Counters())
    /// The pairs that exist or that appends in flight will create, against the limit.
    let budget = Mutex(PairBudget())
    /// "Applied through N": every row up to N is in the figures. An append is answered once
    /// its rows are, so a scrape that starts after the answer shows them.
    public let applied = SequenceSignal()

    struct State: Sendable {
        var projection: Projection
        var restored: Restore?
        /// The row the newest saved (or loaded) snapshot covers.
        var snapshotSequence: Int64 = 0
    }

    /// How the start-up state was built.
    public struct Restore: Sendable, CustomStringConvertible {
        /// The row the loaded snapshot covered; nil for a replay of the whole log.
        public var snapshotSequence: Int64?
        /// Why a snapshot that exists was not used.
        public var snapshotProblem: String?
        /// Events read from the log and applied.
        public var replayed: Int
        /// The snapshot there is sound but for another pipeline, of this format: whoever
        /// saved it still uses it, so replacing it would only move the replay to them.
        public var snapshotIsAnotherPipelines = false

        public var description: String {
            if let s = snapshotSequence { return "snapshot through row \(s), then \(replayed) events" }
            return "\(replayed) events" + (snapshotProblem.map { " (snapshot not used: \($0))" } ?? "")
        }
    }

    /// Starting from a snapshot applies the rows after it; beyond this many, the whole log
    /// is replayed instead (the snapshot is too old to save much).
    public static let largestSnapshotTail: Int64 = 200_000

    /// Rows read and applied at once: each chunk is applied in replay order (teaching events
    /// first, then by time), so disorder within a chunk costs no rebuild.
    public static let chunkSize = 50_000

    public init(pipeline: Pipeline, version: String) {
        self.pipeline = pipeline
        self.version = version
        state = Mutex(State(projection: Projection(pipeline: pipeline)))
    }

    /// Live metrics built from `log`: from its snapshot (when `useSnapshot` and one fits) and
    /// the rows after it, or else from every row.
    public static func restored(
        from log: any EventLogReader,
        snapshots: (any SnapshotStore)?,
        pipeline: Pipeline,
        version: String,
        useSnapshot: Bool = true
    ) async throws -> LiveMetrics {
        let metrics = LiveMetrics(pipeline: pipeline, version: version)
        try await metrics.restore(from: log, snapshots: snapshots, useSnapshot: useSnapshot)
        return metrics
    }

    /// How `restore` built the state (nil before it ran).
    public var restored: Restore? { state.withLock { $0.restored } }

    /// Builds the state from `log`: from the snapshot and the rows after it when that works,
    /// otherwise from every row.
    @discardableResult
    public func restore(from log: any EventLogReader, snapshots: (any SnapshotStore)?, useSnapshot: Bool = true) async throws -> Restore {
        let last = try await log.lastSequence()
        var restore = Restore(replayed: 0)
        var projection = Projection(pipeline: pipeline)
        if useSnapshot, let snapshots {
            switch try await snapshots.loadSnapshot(kind: ProjectionSnapshot.kind(for: pipeline)) {
            case .none: break
            case .unusable(let reason): restore.snapshotProblem = reason
            case .otherKind(let kind):
                let wanted = ProjectionSnapshot.kind(for: pipeline)
                restore.snapshotProblem = "it holds \(kind), this shiplog needs \(wanted)"
                restore.snapshotIsAnotherPipelines = kind.hasPrefix(ProjectionSnapshot.kindPrefix)
            case .found(let snapshot) where last - snapshot.sequence > Self.largestSnapshotTail:
                restore.snapshotProblem = "\(last - snapshot.sequence) events were appended after it"
            case .found(let snapshot):
                do {
                    let pipeline = self.pipeline
                    projection = try await offloaded {
                        try snapshot.bytes.withUnsafeBytes { try Projection(snapshot: $0, pipeline: pipeline) }
                    }
                    restore.snapshotSequence = snapshot.sequence
                } catch let error as ProjectionSnapshot.DecodingError {
                    restore.snapshotProblem = error.description
                }
            }
        }
        // Handed over, not copied: a copy left here would make the first rows applied copy
        // every pair they touch.
        install(consume projection, snapshot: restore.snapshotSequence ?? 0)
        restore.replayed = try await applyNewRows(from: log)
        releaseFreedMemory()
        state.withLock { $0.restored = restore }
        return restore
    }

    /// Gives the replay's transient batches back to the system.
    private func releaseFreedMemory() {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
    }

    private func install(_ projection: consuming Projection, snapshot: Int64) {
        projection.sortKeys()
        _ = projection.takeCreatedPairs()
        let known = Set(projection.pairs.keys)
        budget.withLock { $0.known = known }
        let through = projection.lastSequence
        state.withLock { s in
            s.projection = projection
            s.snapshotSequence = snapshot
        }
        applied.publish(through)
    }

    /// The newest row applied: every row up to it is in the figures.
    public var appliedThrough: Int64 { state.withLock { $0.projection.lastSequence } }

    /// Applies the rows after the newest one applied, in sequence order, `chunk` at a time,
    /// while the log has more: the rows this server wrote, an import by another process, any
    /// writer. Pairs left pending by late events are rebuilt from the log after each chunk.
    /// Returns how many rows it applied. Call it from one task at a time.
    @discardableResult
    public func applyNewRows(from log: any EventLogReader, chunk: Int = LiveMetrics.chunkSize) async throws -> Int {
        try await rebuildPending(from: log)
        var applied = 0
        var after = appliedThrough
        var next: Task<[StoredEvent], any Error>? = Task { [after] in try await log.events(after: after, limit: chunk) }
        while let reading = next {
            let rows = try await reading.value
            guard let last = rows.last?.sequence else { break }
            // The next chunk is read (and decoded) while this one is applied.
            next = rows.count < chunk ? nil : Task { try await log.events(after: last, limit: chunk) }
            guard rows.first!.sequence == after + 1 else {
                next?.cancel()
                throw ProjectionFeedError.gap(after: after, found: rows.first!.sequence)
            }
            let created = try await offloaded {
                self.state.withLock { s in
                    s.projection.apply(batch: rows)
                    return s.projection.takeCreatedPairs()
                }
            }
            if !created.isEmpty { budget.withLock { $0.known.formUnion(created) } }
            try await rebuildPending(from: log)
            self.applied.publish(last)
            applied += rows.count
            after = last
        }
        return applied
    }

    /// Rebuilds the pairs the applied rows left pending, reading their events from the log.
    private func rebuildPending(from log: any EventLogReader) async throws {
        while let (key, from, through) = state.withLock({ s in s.projection.pendingRebuild.map { ($0.key, $0.after, s.projection.lastSequence) } }) {
            let events = try await log.pairEvents(service: key.service, environment: key.environment, after: from, through: through)
            try await offloaded { self.state.withLock { $0.projection.rebuild(key, from: from, with: events) } }
        }
    }

    /// Keeps the state current until the task is cancelled: applies rows as this process
    /// commits them (`log.committed`), and every `pollInterval` (nil: never) looks for rows
    /// another process wrote. A failure is reported and retried a second later; the rows
    /// stay in the log meanwhile.
    public func follow(_ log: any EventLogReader, pollInterval: Duration?, onError: @escaping @Sendable (any Error) -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [applied] in
                // Waiters for `applied` look at their deadlines at least every second.
                var sincePoll = Duration.zero
                let tick = min(pollInterval ?? .seconds(1), .seconds(1))
                while !Task.isCancelled {
                    do { try await Task.sleep(for: tick) } catch { break }
                    applied.wakeAll()
                    sincePoll += tick
                    if let pollInterval, sincePoll >= pollInterval {
                        sincePoll = .zero
                        log.committed.wakeAll()
                    }
                }
            }
            while !Task.isCancelled {
                do {
                    try await applyNewRows(from: log)
                } catch is CancellationError {
                    break
                } catch {
                    counters.withLock { $0.feedFailures += 1 }
                    onError(error)
                    do { try await Task.sleep(for: .seconds(1)) } catch { break }
                    continue
                }
                await log.committed.wait(until: appliedThrough + 1)
            }
            group.cancelAll()
        }
    }

    /// Returns true once row `sequence` is applied, false when `timeout` passes first (while
    /// `follow` runs, deadlines are looked at every second).
    public func waitUntilApplied(_ sequence: Int64, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while applied.value < sequence {
            if ContinuousClock.now >= deadline || Task.isCancelled { return false }
            await applied.wait(until: sequence)
        }
        return true
    }

    /// Saves the projection as `log`'s snapshot when at least `minimumNewEvents` rows were
    /// applied since the last one and no rebuild is pending. Returns the row the saved
    /// snapshot covers and its size in bytes, or nil when nothing was saved.
    @discardableResult
    public func saveSnapshot(to log: any SnapshotStore, minimumNewEvents: Int = 1) async throws -> (sequence: Int64, bytes: Int)? {
        let candidate: (Projection, Int64)? = state.withLock { s in
            let through = s.projection.lastSequence
            guard !s.projection.hasPendingRebuilds, through > 0, through - s.snapshotSequence >= max(1, Int64(minimumNewEvents))
            else { return nil }
            return (s.projection, through)
        }
        guard let (projection, sequence) = candidate else { return nil }
        // Encoded outside the lock (the copy shares storage until the live state changes)
        // and off the cooperative threads.
        let bytes = try await offloaded { projection.snapshotBytes() }
        try await log.saveSnapshot(kind: ProjectionSnapshot.kind(for: pipeline), sequence: sequence, bytes: bytes)
        state.withLock { $0.snapshotSequence = max($0.snapshotSequence, sequence) }
        return (sequence, bytes.count)
    }

    /// The newest row this server has applied or loaded from its snapshot: a log that ends
    /// before it has lost rows.
    public var newestSequenceSeen: Int64 {
        state.withLock { max($0.projection.lastSequence, $0.snapshotSequence) }
    }

    /// A consistent copy of the projection (for status, report and gate).
    public var projection: Projection {
        state.withLock { s in
            s.projection.sortKeys()
            return s.projection
        }
    }

}

/// The log handed over rows that do not follow the last one applied.
public enum ProjectionFeedError: Error, Sendable, CustomStringConvertible {
    case gap(after: Int64, found: Int64)

    public var description: String {
        switch self {
        case let .gap(after, found): "the log returned row \(found) after row \(after): rows are missing between them"
        }
    }
}

#if os(Linux)
/// glibc's `malloc_trim`, which the Glibc module does not export.
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
