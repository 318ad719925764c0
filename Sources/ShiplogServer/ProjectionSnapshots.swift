import Logging
import ServiceLifecycle
import ShiplogMetrics
import ShiplogStore

/// Saves the metrics projection as a snapshot whenever `every` events were applied since the
/// last one (checked every `checkInterval`, and at start), and once more at shutdown, after
/// the HTTP server has finished its requests. A restart then applies only the events after
/// the snapshot instead of replaying the whole log.
struct ProjectionSnapshots: Service {
    let store: any SnapshotStore
    let metrics: LiveMetrics
    let every: Int
    let checkInterval: Duration
    let logger: Logger

    func run() async throws {
        await repeatUntilGracefulShutdown(every: checkInterval) { await save(minimumNewEvents: every) }
        // Services stop in reverse order of start: the server has drained by now.
        await save(minimumNewEvents: 1)
    }

    private func save(minimumNewEvents: Int) async {
        let start = ContinuousClock.now
        do {
            if let saved = try await metrics.saveSnapshot(to: store, minimumNewEvents: minimumNewEvents) {
                logger.info(
                    "projection snapshot saved",
                    metadata: [
                        "through": "\(saved.sequence)", "bytes": "\(saved.bytes)", "duration": "\(ContinuousClock.now - start)",
                    ]
                )
            }
        } catch {
            logger.error("projection snapshot could not be saved", metadata: ["error": "\(error)"])
        }
    }
}
