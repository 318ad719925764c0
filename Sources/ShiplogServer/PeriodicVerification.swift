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
    let metrics: LiveMetrics
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await repeatUntilGracefulShutdown(every: interval) {
            let start = ContinuousClock.now
            do {
                // Rows seen before the check began must all be in it: a verified prefix of the
                // log is still a failure when rows were cut from its end.
                let seen = try await offloaded { [metrics] in metrics.newestSequenceSeen }
                var report = try await log.verify()
                if report.isIntact, report.rowsChecked < seen {
                    report.brokenSequence = report.rowsChecked + 1
                    report.brokenReason =
                        "the log ends at row \(report.rowsChecked), but this server has seen row \(seen): rows were cut from its end"
                }
                metrics.recordVerification(report)
                if report.isIntact {
                    logger.info("event log verified", metadata: ["rows": "\(report.rowsChecked)", "duration": "\(ContinuousClock.now - start)"])
                } else {
                    logger.critical(
                        "event log verification failed",
                        metadata: [
                            "sequence": "\(report.brokenSequence.map(String.init) ?? "-")",
                            "reason": "\(report.brokenReason ?? report.schemaProblems.joined(separator: "; "))",
                        ]
                    )
                }
            } catch is CancellationError {
                // Shutdown during a check: not a failure.
            } catch {
                logger.error("event log verification could not run", metadata: ["error": "\(error)"])
            }
        }
    }
}
