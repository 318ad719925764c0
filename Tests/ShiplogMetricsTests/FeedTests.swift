import ShiplogModel
import ShiplogStore
import ShiplogTestSupport
import Synchronization
import Testing

@testable import ShiplogMetrics

/// The feed that keeps the metrics current: failures are counted and retried, and an answer
/// does not wait forever for a feed that fails.
@Suite struct FeedTests {
    /// A log whose rows cannot be read (a corrupt row, a database that went away).
    final class FailingReader: EventLogReader {
        struct Unreadable: Error {}
        let committed = SequenceSignal(1)
        let reads = Mutex(0)
        func lastSequence() async throws -> Int64 { 1 }
        func events(after sequence: Int64, limit: Int) async throws -> [StoredEvent] {
            reads.withLock { $0 += 1 }
            throw Unreadable()
        }
        func pairEvents(service: String, environment: String, after position: LogPosition?, through: Int64) async throws -> [StoredEvent] {
            throw Unreadable()
        }
        func serviceEvents(_ service: String) async throws -> [StoredEvent] { throw Unreadable() }
        func rowHash(_ sequence: Int64) async throws -> String? { nil }
        func rawBody(_ sequence: Int64) async throws -> [UInt8]? { nil }
    }

    @Test func aFailingFeedIsCountedRetriedAndDoesNotHoldAnswersForever() async throws {
        let reader = FailingReader()
        let metrics = LiveMetrics(pipeline: .standard, version: "test")
        let errors = Mutex(0)
        let feed = Task { await metrics.follow(reader, pollInterval: .seconds(1)) { _ in errors.withLock { $0 += 1 } } }
        // Retried about once a second (on a loaded machine, later): wait for a second failure.
        for _ in 0..<600 where errors.withLock({ $0 }) < 2 { try await Task.sleep(for: .milliseconds(100)) }
        #expect(await metrics.waitUntilApplied(1, timeout: .milliseconds(300)) == false, "row 1 is never applied")
        feed.cancel()
        await feed.value
        let failures = errors.withLock { $0 }
        #expect(failures >= 2, "retried after a failure")
        #expect(reader.reads.withLock { $0 } == failures)
        let text = metrics.render(format: .text)
        #expect(text.contains("# TYPE shiplog_projection_feed_failures_total counter\nshiplog_projection_feed_failures_total \(failures)\n"))
        #expect(metrics.appliedThrough == 0)
    }
}
