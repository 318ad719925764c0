import ArgumentParser
import ShiplogMetrics
import ShiplogModel
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

extension LogOptions {
    /// The projection of a local database, replayed from it.
    func localProjection(_ pipeline: Pipeline) async throws -> Projection {
        let store = try await openDatabase(readOnly: true)
        do {
            let projection = try await LiveMetrics.restored(from: store, snapshots: store, pipeline: pipeline, version: ShiplogVersion.current)
                .projection
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
