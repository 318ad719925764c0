import ArgumentParser
import Foundation
import ShiplogMetrics
import ShiplogModel

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "DORA figures per service with their performance level.",
        discussion: "Levels follow the 2023 DORA thresholds. Deployment frequency counts deployments per day over the window."
    )

    @OptionGroup var log: LogOptions
    @OptionGroup var pipeline: PipelineOption
    @OptionGroup var snapshot: SnapshotFileOption
    @Option(name: [.customLong("env"), .customLong("environment")], help: "The environment (default: the pipeline's last).") var env: String?
    @Option(help: "The trailing window: 7d, 30d, 90d, 12h …") var window = "30d"
    @Option(help: "Only this service.") var service: String?
    @Option(help: "table or json.") var format: EventsList.Format = .table

    func run() async throws {
        guard let span = Window(parsing: window) else {
            throw CLIError("--window \(window): expected a span from 1s to \(Window.longest.label), like 7d or 30d")
        }
        let rows: [JSONValue]
        if let client = try log.client {
            var q = [("window", window)]
            if let env { q.append(("environment", env)) }
            if let service { q.append(("service", service)) }
            let (code, body) = try await client.send("GET", "api/v1/report", query: q)
            guard code == 200 else { throw CLIError(ServerClient.errorText(code, body)) }
            rows = body["rows"]?.arrayValue ?? []
        } else {
            let p = try pipeline.parsed()
            rows = try await log.localProjection(p, snapshotFile: snapshot.path).report(
                environment: env ?? p.production,
                window: span,
                service: service,
                now: Timestamp.now().nanoseconds
            ).map(\.jsonValue)
        }
        if format != .table {
            print(JSONValue.array(rows).canonicalJSON())
            return
        }
        guard !rows.isEmpty else {
            printError("no deployments in \(env ?? "production") yet")
            return
        }
        func level(_ v: JSONValue?) -> String { v?.stringValue.map { " (\($0))" } ?? "" }
        var table = [["SERVICE", "DEPLOYMENTS", "FREQUENCY", "LEAD TIME", "CHANGE FAILURE", "TIME TO RESTORE", "REWORK"]]
        for r in rows {
            let perDay = r["deploymentsPerDay"]?.doubleValue ?? 0
            let freq = perDay >= 1 ? String(format: "%.1f/day", perDay) : String(format: "%.1f/week", perDay * 7)
            table.append([
                r["service"]?.stringValue ?? "",
                String(r["deployments"]?.intValue ?? 0),
                freq + level(r["deploymentFrequencyLevel"]),
                humanDuration(r["leadTimeMedianSeconds"]?.doubleValue ?? .nan) + level(r["leadTimeLevel"]),
                String(format: "%.1f%%", (r["changeFailureRatio"]?.doubleValue ?? 0) * 100) + level(r["changeFailureLevel"]),
                humanDuration(r["timeToRestoreMedianSeconds"]?.doubleValue ?? .nan) + level(r["timeToRestoreLevel"]),
                String(format: "%.1f%%", (r["reworkRatio"]?.doubleValue ?? 0) * 100),
            ])
        }
        print("environment \(rows[0]["environment"]?.stringValue ?? ""), last \(window)")
        printColumns(table)
    }
}
