import ShiplogModel
import ShiplogStore
import ShiplogTestSupport
import Synchronization
import Testing

@testable import ShiplogMetrics

/// A late event costs what its lateness costs: its pair goes back to a checkpoint before it
/// and applies the events after that again, instead of reading the pair's whole history.
@Suite struct LateEventTests {
    /// The SQLite log, counting the events handed over for rebuilding pairs.
    final class CountingReader: EventLogReader {
        let log: SQLiteEventLog
        let pairEventsRead = Mutex(0)
        init(_ log: SQLiteEventLog) { self.log = log }

        func lastSequence() async throws -> Int64 { try await log.lastSequence() }
        func events(after sequence: Int64, limit: Int) async throws -> [StoredEvent] { try await log.events(after: sequence, limit: limit) }
        func pairEvents(service: String, environment: String, after position: LogPosition?, through: Int64) async throws -> [StoredEvent] {
            let events = try await log.pairEvents(service: service, environment: environment, after: position, through: through)
            pairEventsRead.withLock { $0 += events.count }
            return events
        }
        func serviceEvents(_ service: String) async throws -> [StoredEvent] { try await log.serviceEvents(service) }
        func rowHash(_ sequence: Int64) async throws -> String? { try await log.rowHash(sequence) }
        func rawBody(_ sequence: Int64) async throws -> [UInt8]? { try await log.rawBody(sequence) }
        var committed: SequenceSignal { log.committed }
        var read: Int { pairEventsRead.withLock { $0 } }
    }

    func deployment(_ id: String, minute: Double) -> PreparedEvent {
        var e = Event(id: id, type: .deploymentSucceeded, service: "api", environment: "production", time: at(minute))
        e.version = id
        return PreparedEvent(e, raw: [], format: .native, receivedAt: at(100_000))
    }

    @Test func aLateEventIsAppliedFromTheCheckpointBeforeIt() async throws {
        let dir = TemporaryDirectory()
        let log = try SQLiteEventLog(path: dir.path("late.db"))
        let reader = CountingReader(log)
        let metrics = LiveMetrics(pipeline: .standard, version: "test")
        for batch in 0..<20 {
            _ = try await log.append((0..<100).map { i in deployment("d\(batch * 100 + i)", minute: Double(batch * 100 + i)) })
            try await metrics.applyNewRows(from: reader)
        }
        #expect(reader.read == 0, "in order: nothing is read back")

        // The first late event of the pair rebuilds it from its first event, once.
        _ = try await log.append([deployment("late-1", minute: 1_000.5)])
        try await metrics.applyNewRows(from: reader)
        #expect(reader.read == 2_001)

        // From then on it keeps checkpoints: an event a few minutes late reads a few hundred.
        for batch in 0..<10 {
            for i in 0..<50 {
                _ = try await log.append([deployment("n\(batch * 50 + i)", minute: Double(2_000 + batch * 50 + i))])
                try await metrics.applyNewRows(from: reader)
            }
        }
        let before = reader.read
        _ = try await log.append([deployment("late-2", minute: 2_496.5)])
        try await metrics.applyNewRows(from: reader)
        let reread = reader.read - before
        let pair = try #require(metrics.projection.pair("api", "production"))
        let bound = 2 * PairCheckpoints.interval(for: pair) + 1
        #expect(reread > 3 && reread <= bound, "re-applied \(reread) of 2,503 events")

        let replayed = try await LiveMetrics.restored(from: log, snapshots: nil, pipeline: .standard, version: "test")
        #expect(fingerprint(metrics.projection) == fingerprint(replayed.projection))
        #expect(metrics.projection.pair("api", "production")?.deployments == 2_502)
    }
}
