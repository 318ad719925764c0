import Logging
import ServiceLifecycle
import ShiplogMetrics
import ShiplogStore

/// Feeds the metrics from the log, in sequence order, for as long as the server runs: the
/// rows this server commits as soon as they are durable, and every `pollInterval` the rows
/// another process wrote to the same database (`shiplog events import`, say).
struct ProjectionFeed: Service {
    let log: any EventLog
    let metrics: LiveMetrics
    let pollInterval: Duration?
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await metrics.follow(log, pollInterval: pollInterval) { [logger] error in
                logger.error("the metrics could not apply rows of the event log; retrying", metadata: ["error": "\(error)"])
            }
        }
    }
}
