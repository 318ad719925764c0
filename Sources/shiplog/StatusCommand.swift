import ArgumentParser
import ShiplogMetrics
import ShiplogModel

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Live versions per environment, and what waits to be promoted.")

    @OptionGroup var log: LogOptions
    @OptionGroup var pipeline: PipelineOption
    @OptionGroup var snapshot: SnapshotFileOption
    @Option(help: "table or json.") var format: EventsList.Format = .table

    func run() async throws {
        let status: JSONValue
        if let client = try log.client {
            let (code, body) = try await client.send("GET", "api/v1/status")
            guard code == 200 else { throw CLIError(ServerClient.errorText(code, body)) }
            status = body
        } else {
            status = try await log.localProjection(pipeline.parsed(), snapshotFile: snapshot.path).status(now: Timestamp.now().nanoseconds)
        }
        if format != .table {
            print(status.canonicalJSON())
            return
        }
        let envs = status["pipeline"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var rows = [["SERVICE"] + envs.map { $0.uppercased() } + ["WAITING"]]
        for service in status["services"]?.arrayValue ?? [] {
            let byEnv = Dictionary(
                uniqueKeysWithValues: (service["environments"]?.arrayValue ?? []).compactMap { e in
                    e["environment"]?.stringValue.map { ($0, e) }
                }
            )
            var row = [service["service"]?.stringValue ?? ""]
            var waiting: [String] = []
            for env in envs {
                let e = byEnv[env]
                var cell = e?["liveVersion"]?.stringValue ?? e?["liveArtifact"]?.stringValue ?? "-"
                if e?["degraded"] == .bool(true) { cell += " (degraded)" }
                row.append(cell)
                if let p = e?["pending"], let secs = p["waitingSeconds"]?.doubleValue {
                    waiting.append("\(p["version"]?.stringValue ?? p["artifact"]?.stringValue ?? "?") → \(env) for \(humanDuration(secs))")
                }
            }
            row.append(waiting.isEmpty ? "-" : waiting.joined(separator: "; "))
            rows.append(row)
        }
        if rows.count == 1 {
            printError("no deployments recorded yet")
            return
        }
        printColumns(rows)
    }
}
