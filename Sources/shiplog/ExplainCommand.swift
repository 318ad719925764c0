import ArgumentParser
import ShiplogMetrics
import ShiplogModel

struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "The events behind each DORA figure of one service and environment.",
        discussion: """
            Lists, for the window: each deployment counted and the event that failed it; each \\
            lead-time sample with its commit, the event its commit time came from and, when the \\
            deployment named only the artifact, the event that tied the commit to it; each failure \\
            episode with the events that opened and closed it; each promotion with its first \\
            success in the environment before; the deployments without lead time. Events are \\
            named by sequence (#12) and id.
              shiplog explain --service checkout --env production --window 30d
            """
    )

    @OptionGroup var log: LogOptions
    @OptionGroup var pipeline: PipelineOption
    @Option(help: "The service.") var service: String
    @Option(name: [.customLong("env"), .customLong("environment")], help: "The environment.") var env: String
    @Option(help: "The trailing window: 7d, 30d, 90d, 12h … (at most 3650d).") var window = "30d"
    @Option(help: "table or json.") var format: EventsList.Format = .table

    func validate() throws {
        guard Event.isValidName(service) else { throw ValidationError("--service \(service): not a valid service name") }
        guard Event.isValidName(env) else { throw ValidationError("--env \(env): not a valid environment name") }
        guard Window(parsing: window) != nil else { throw ValidationError("--window \(window): expected a span from 1s to 3650d, like 7d or 30d") }
    }

    func run() async throws {
        let body: JSONValue
        if let client = try log.client {
            let (code, answer) = try await client.send(
                "GET",
                "api/v1/explain",
                query: [("service", service), ("environment", env), ("window", window)]
            )
            guard code == 200 else { throw CLIError(ServerClient.errorText(code, answer)) }
            body = answer
        } else {
            let store = try await log.openDatabase(readOnly: true)
            let events = try await store.serviceEvents(service)
            try await store.close()
            guard events.contains(where: { $0.event.environment == env }) else {
                throw CLIError("no events for service \(service) in environment \(env)")
            }
            body =
                Explanation(
                    service: service,
                    environment: env,
                    window: Window(parsing: window)!,
                    now: .now(),
                    pipeline: try pipeline.parsed(),
                    serviceEvents: events
                ).jsonValue
        }
        if format != .table {
            print(body.canonicalJSON())
            return
        }
        Self.printTable(body)
    }

    static func ref(_ r: JSONValue?) -> String {
        guard let r, r != .null else { return "-" }
        let env = r["environment"]?.stringValue.map { " in \($0)" } ?? ""
        return
            "#\(r["sequence"]?.intValue ?? 0) \(r["type"]?.stringValue ?? "")\(env) \(r["time"]?.stringValue ?? "") (id \(r["id"]?.stringValue ?? ""))"
    }

    static func printTable(_ body: JSONValue) {
        let f = body["figures"]
        print("\(body["service"]?.stringValue ?? "") in \(body["environment"]?.stringValue ?? ""), last \(body["window"]?.stringValue ?? "")")
        let deployments = body["deployments"]?.arrayValue ?? []
        print("")
        print(
            "Deployments: \(f?["deployments"]?.intValue ?? 0), failed \(f?["failures"]?.intValue ?? 0) (change failure \(String(format: "%.1f%%", (f?["changeFailureRatio"]?.doubleValue ?? 0) * 100))), rework \(f?["rework"]?.intValue ?? 0)"
        )
        var rows = [["DEPLOYMENT", "VERSION", "FAILED BY", "REWORK"]]
        for d in deployments {
            rows.append([ref(d["event"]), d["version"]?.stringValue ?? "-", ref(d["failedBy"]), d["rework"]?.stringValue ?? "-"])
        }
        if deployments.isEmpty { print("  none") } else { printColumns(rows) }

        let leads = body["leadTimes"]?.arrayValue ?? []
        print("")
        print("Lead time: median \(humanDuration(f?["leadTimeMedianSeconds"]?.doubleValue ?? .nan)), \(leads.count) samples")
        rows = [["DEPLOYMENT", "COMMIT", "LEAD TIME", "COMMIT TIME FROM", "TIED TO THE ARTIFACT BY"]]
        for l in leads {
            rows.append([
                ref(l["deployment"]), String((l["commit"]?.stringValue ?? "").prefix(12)), humanDuration(l["seconds"]?.doubleValue ?? .nan),
                ref(l["commitTimeFrom"]), ref(l["tiedToArtifactBy"]),
            ])
        }
        if leads.isEmpty { print("  none") } else { printColumns(rows) }
        let without = body["withoutLeadTime"]?.arrayValue ?? []
        if !without.isEmpty {
            print("Without lead time (no change with a known commit time):")
            for w in without { print("  " + ref(w)) }
        }

        let episodes = body["episodes"]?.arrayValue ?? []
        print("")
        print("Time to restore: median \(humanDuration(f?["timeToRestoreMedianSeconds"]?.doubleValue ?? .nan)), \(episodes.count) episodes")
        rows = [["START", "END", "LENGTH", "OPENED BY", "CLOSED BY"]]
        for e in episodes {
            rows.append([
                e["start"]?.stringValue ?? "", e["end"]?.stringValue ?? "open", humanDuration(e["seconds"]?.doubleValue ?? .nan),
                ref(e["openedBy"]), ref(e["closedBy"]),
            ])
        }
        if episodes.isEmpty { print("  none") } else { printColumns(rows) }

        let promotions = body["promotions"]?.arrayValue ?? []
        print("")
        print("Promotions: \(promotions.count)")
        rows = [["DEPLOYMENT", "ARTIFACT", "DURATION", "FIRST SUCCESS BEFORE"]]
        for p in promotions {
            let unverified = p["unverified"] == .bool(true)
            rows.append([
                ref(p["deployment"]), String((p["artifact"]?.stringValue ?? "").prefix(24)),
                unverified ? "unverified" : humanDuration(p["seconds"]?.doubleValue ?? .nan), ref(p["previous"]),
            ])
        }
        if promotions.isEmpty { print("  none") } else { printColumns(rows) }
    }
}
