import Foundation
import ShiplogModel
import ShiplogStore
import ShiplogTestSupport

@testable import ShiplogMetrics

let t0 = Timestamp(rfc3339: "2026-01-01T00:00:00Z")!

/// Minutes after t0 as a timestamp.
func at(_ minutes: Double) -> Timestamp { t0.adding(seconds: minutes * 60) }

/// Builds events tersely; every event gets an explicit id and time.
struct History {
    var events: [Event] = []
    var service = "api"
    var environment = "production"

    mutating func add(_ type: EventType, _ minute: Double, env: String? = nil, _ configure: (inout Event) -> Void = { _ in }) {
        var e = Event(
            id: "e\(events.count)",
            type: type,
            service: service,
            environment: type.requiresEnvironment ? (env ?? environment) : env,
            time: at(minute)
        )
        configure(&e)
        events.append(e)
    }

    mutating func succeeded(
        _ minute: Double,
        env: String? = nil,
        version: String? = nil,
        commit: String? = nil,
        commitTime: Double? = nil,
        artifact: String? = nil,
        hotfix: Bool = false
    ) {
        add(.deploymentSucceeded, minute, env: env) {
            $0.version = version
            $0.commit = commit
            $0.commitTime = commitTime.map(at)
            $0.artifact = artifact
            $0.hotfix = hotfix
        }
    }

    mutating func failed(_ minute: Double, env: String? = nil, version: String? = nil) {
        add(.deploymentFailed, minute, env: env) { $0.version = version }
    }

    mutating func rolledBack(_ minute: Double, env: String? = nil, version: String? = nil) {
        add(.deploymentRolledBack, minute, env: env) { $0.version = version }
    }

    mutating func incident(_ type: EventType, _ minute: Double, id: String, env: String? = nil) {
        add(type, minute, env: env) { $0.incident = Incident(id: id) }
    }

    mutating func merged(_ minute: Double, commit: String) {
        add(.changeMerged, minute) { $0.commit = commit }
    }

    /// A CI build: `artifact` was built from `commit` (committed at `commitTime`, if given).
    mutating func published(_ minute: Double, artifact: String, commit: String, commitTime: Double? = nil) {
        add(.artifactPublished, minute) {
            $0.artifact = artifact
            $0.commit = commit
            $0.commitTime = commitTime.map(at)
        }
    }
}

/// Posts `events` into a real SQLite log in the given order, one append each (as a server
/// would), the live LiveMetrics applying the log's new rows after each; returns the
/// service and log.
func ingest(
    _ events: [Event],
    order: [Int]? = nil,
    twice: Bool = false,
    pipeline: Pipeline = .standard
) async throws -> (LiveMetrics, SQLiteEventLog, TemporaryDirectory) {
    let dir = TemporaryDirectory()
    let log = try SQLiteEventLog(path: dir.path("m.db"))
    let metrics = LiveMetrics(pipeline: pipeline, version: "test")
    var sequence = order ?? Array(events.indices)
    if twice { sequence = sequence.flatMap { [$0, $0] } }
    for i in sequence {
        let e = events[i]
        let prepared = PreparedEvent(e, raw: Array(e.canonicalJSON.utf8), format: .native, receivedAt: at(100_000))
        _ = try await log.append([prepared])
        try await metrics.applyNewRows(from: log)
    }
    return (metrics, log, dir)
}

/// Posts `events` in the given order as appends of `batchSize` events each (an NDJSON
/// backfill), the metrics applying each append's rows together, as the server does.
func ingest(
    _ events: [Event],
    order: [Int],
    batchSize: Int,
    pipeline: Pipeline = .standard
) async throws -> (LiveMetrics, SQLiteEventLog, TemporaryDirectory) {
    let dir = TemporaryDirectory()
    let log = try SQLiteEventLog(path: dir.path("m.db"))
    let metrics = LiveMetrics(pipeline: pipeline, version: "test")
    for start in stride(from: 0, to: order.count, by: batchSize) {
        let prepared = order[start..<min(start + batchSize, order.count)].map { i in
            PreparedEvent(events[i], raw: Array(events[i].canonicalJSON.utf8), format: .native, receivedAt: at(100_000))
        }
        _ = try await log.append(prepared)
        try await metrics.applyNewRows(from: log)
    }
    return (metrics, log, dir)
}

/// Everything a scrape or report can show of a pair, in a comparable form.
struct PairFingerprint: Equatable, CustomStringConvertible {
    var counters: [Int]
    var lead: [Double]
    var restore: [Double]
    var promotions: [Double]
    var live: String?
    var degraded: Bool
    var open: Int
    var deploymentTimes: [Int64]

    init(_ p: PairState) {
        counters = [p.deployments, p.failures, p.rollbacks, p.rework, p.unverifiedPromotions, p.withoutLeadTime, p.incidents]
        lead = p.leadTimes.map(\.seconds).sorted()
        restore = p.restoreTimes.map(\.seconds).sorted()
        promotions = p.promotionDurations.map(\.seconds).sorted()
        live = p.liveVersion
        degraded = p.isDegraded
        open = p.openIncidents.count
        deploymentTimes = p.deploymentLog.map(\.time)
    }

    var description: String {
        "counters \(counters) lead \(lead) restore \(restore) promotions \(promotions) live \(live ?? "-") degraded \(degraded) open \(open)"
    }
}

func fingerprint(_ projection: Projection) -> [PairKey: PairFingerprint] {
    projection.pairs.mapValues(PairFingerprint.init)
}

/// A deterministic shuffle (xorshift) so that failures reproduce.
func shuffled(_ n: Int, seed: UInt64) -> [Int] {
    var state = seed | 1
    var a = Array(0..<n)
    for i in stride(from: n - 1, to: 0, by: -1) {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        a.swapAt(i, Int(state % UInt64(i + 1)))
    }
    return a
}

/// The same xorshift as `shuffled`, as a generator for `random(in:using:)`.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

/// `shiplog gate` over a history's events (as the log would hand them over: the service's
/// events in (time, sequence) order, sequences in the history's order).
struct Gate {
    let stored: [StoredEvent]
    let service: String
    let pipeline: Pipeline

    init(_ history: History, pipeline: Pipeline = .standard) {
        stored = history.events.enumerated().map { StoredEvent(sequence: Int64($0.offset + 1), event: $0.element, receivedAt: at(100_000), format: .native) }
            .sorted { ($0.event.time!, $0.sequence) < ($1.event.time!, $1.sequence) }
        service = history.service
        self.pipeline = pipeline
    }

    func callAsFunction(_ environment: String, _ name: String) -> GateResult {
        GateEvaluation.evaluate(service: service, environment: environment, name: name, pipeline: pipeline, serviceEvents: stored)
    }
}
