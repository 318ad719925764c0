import Logging
import ServiceLifecycle
import ShiplogMetrics
import ShiplogStore
import Synchronization

/// Every `interval`, applies to the metrics the rows that another process wrote to the
/// database (`shiplog events import` into the server's own file, e.g. through kubectl exec):
/// without it they would only show after a restart.
struct ExternalWrites: Service {
    let log: SQLiteEventLog
    let metrics: MetricsService
    let interval: Duration
    let logger: Logger

    func run() async throws {
        let warned = Warned()
        await repeatUntilGracefulShutdown(every: interval) {
            let start = ContinuousClock.now
            do {
                // Reading and applying up to a million rows: off the cooperative threads.
                let applied = try await offloaded { try metrics.catchUp(from: log) }
                if let applied, applied > 0 {
                    logger.info("applied events written by another process", metadata: [
                        "events": "\(applied)", "duration": "\(ContinuousClock.now - start)",
                    ])
                } else if applied == nil, warned.first() {
                    logger.warning("rows of the event log were never applied; restart shiplog to include them in the metrics")
                }
            } catch {
                logger.error("events written by another process could not be applied", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// True the first time it is asked, false after.
private final class Warned: Sendable {
    private let done = Atomic(false)
    func first() -> Bool { !done.exchange(true, ordering: .relaxed) }
}
