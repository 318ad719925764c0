import ArgumentParser
import Foundation
import ShiplogMetrics
import ShiplogModel
import ShiplogPostgres
import ShiplogStore

/// The pipeline order for commands that compute figures from a local database.
struct PipelineOption: ParsableArguments {
    @Option(help: "The pipeline's environments in promotion order (local database only; a server uses its own).")
    var pipeline = "dev,staging,production"

    func validate() throws {
        _ = try parsed()
    }

    func parsed() throws -> Pipeline {
        guard let p = Pipeline(parsing: pipeline) else {
            throw CLIError("--pipeline \(pipeline): expected distinct environment names separated by commas")
        }
        return p
    }
}

/// Where a command that computes figures from a PostgreSQL log keeps its snapshot.
struct SnapshotFileOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "With PostgreSQL: a file to keep the metrics snapshot in, so the next run applies only newer events (env SHIPLOG_SNAPSHOT_FILE); none by default. An SQLite log keeps it beside the file.",
            valueName: "path"
        )
    )
    var snapshotFile: String?

    var path: String? {
        snapshotFile ?? ProcessInfo.processInfo.environment["SHIPLOG_SNAPSHOT_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

extension LogOptions {
    /// A replay that applied at least this many events saves a snapshot, so the next command
    /// starts from it (the server saves one as often).
    static let snapshotRefreshAfter = 10_000

    /// The projection of a local database: from its snapshot and the rows after it, or from
    /// every row. When that applied many rows, the snapshot is refreshed for the next run.
    func localProjection(_ pipeline: Pipeline, snapshotFile: String? = nil) async throws -> Projection {
        let store = try await openEventDatabase(databasePath, readOnly: true, snapshotPath: snapshotFile)
        do {
            let metrics = try await LiveMetrics.restored(from: store, snapshots: store, pipeline: pipeline, version: ShiplogVersion.current)
            if let restore = metrics.restored, restore.replayed >= Self.snapshotRefreshAfter, !restore.snapshotIsAnotherPipelines,
                !PostgresURL.isPostgres(databasePath) || snapshotFile != nil
            {
                do {
                    try await metrics.saveSnapshot(to: store)
                } catch {
                    printError("note: the metrics snapshot could not be saved (\(error)); the next run replays \(restore.replayed) events again")
                }
            }
            let projection = metrics.projection
            try await store.close()
            return projection
        } catch {
            try? await store.close()
            throw error
        }
    }
}

/// Formats seconds as `3d 4h`, `2h 13m`, `45m`, `30s`.
func humanDuration(_ seconds: Double) -> String {
    guard !seconds.isNaN else { return "-" }
    let s = Int(seconds.rounded())
    if s >= 86_400 { return "\(s / 86_400)d \(s % 86_400 / 3600)h" }
    if s >= 3600 { return "\(s / 3600)h \(s % 3600 / 60)m" }
    if s >= 60 { return "\(s / 60)m" }
    return "\(s)s"
}

/// Prints rows as aligned columns.
func printColumns(_ rows: [[String]]) {
    guard let first = rows.first else { return }
    var widths = Array(repeating: 0, count: first.count)
    for row in rows { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
    for row in rows {
        print(
            row.enumerated().map { i, c in i == row.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count) }.joined(separator: "  ")
        )
    }
}
