import Logging
import ServiceLifecycle
import ShiplogMetrics
import ShiplogModel
import ShiplogStore

/// Checks the hash chain and the append-only schema at start and then every `interval`,
/// and publishes the outcome as `shiplog_event_log_verified` for the alert rules.
/// Runs beside the HTTP server and stops with it.
struct PeriodicVerification: Service {
    let log: any EventLog
    let metrics: MetricsService
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let start = ContinuousClock.now
                do {
                    let report = try await log.verify()
                    metrics.recordVerification(report)
                    if report.isIntact {
                        logger.info("event log verified", metadata: ["rows": "\(report.rowsChecked)", "duration": "\(ContinuousClock.now - start)"])
                    } else {
                        logger.critical("event log verification failed", metadata: [
                            "sequence": "\(report.brokenSequence.map(String.init) ?? "-")",
                            "reason": "\(report.brokenReason ?? report.schemaProblems.joined(separator: "; "))",
                        ])
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("event log verification could not run", metadata: ["error": "\(error)"])
                }
                // Shutdown cancels the sleep: that is a normal end, not a failure.
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }
}
