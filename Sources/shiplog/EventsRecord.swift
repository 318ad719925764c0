import ArgumentParser
import Foundation
import ShiplogAPI
import ShiplogModel
import ShiplogSources
import ShiplogStore

struct EventsRecord: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record one event (for a CI step).",
        discussion: """
            Sends no time unless --time is given, so a retried step is recognized as a duplicate \
            when it passes the same --id. Example:
              shiplog events record --type deployment.succeeded --service checkout --env production \\
                --version 1.4.2 --commit 9f1c2e7 --id "$CI_PIPELINE_ID-production"
            """
    )

    @OptionGroup var log: LogOptions

    // Kept as text: a bad type is reported together with every other bad option.
    @Option(
        help: ArgumentHelp("One of: \(EventType.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "type"),
        completion: .list(EventType.allCases.map(\.rawValue))
    )
    var type: String?
    @Option(help: "The service name.") var service: String?
    @Option(
        name: .customLong("from-kubernetes"),
        help: ArgumentHelp(
            "Read a Deployment (kubectl get deployment NAME -o json) from FILE or - : a deployment.succeeded with its service, namespace, workload, revision, change-cause and version. Other options override what it says.",
            valueName: "file"
        ),
        completion: .file(extensions: ["json"])
    )
    var fromKubernetes: String?
    @Option(name: [.customLong("env"), .customLong("environment")], help: "The environment (not needed for change.merged and artifact.published).")
    var env: String?
    @Option(help: "Idempotency key (≤ 200 characters); a retry with the same id is not recorded twice.") var id: String?
    @Option(help: "When it happened, RFC 3339 (default: now).") var time: String?
    @Option(help: "The artifact's version (image tag, chart version).") var version: String?
    @Option(help: "Full artifact reference: image with digest, or a purl.") var artifact: String?
    @Option(help: "The commit this deployment (or build) ships.") var commit: String?
    @Option(help: "When that commit was made or merged, RFC 3339.") var commitTime: String?
    @Option(name: .customLong("change"), help: ArgumentHelp("A change shipped, as SHA or SHA@RFC3339-time (repeatable).", valueName: "sha[@time]"))
    var changes: [String] = []
    @Option(help: "Kubernetes namespace.") var namespace: String?
    @Option(help: "Kubernetes workload (Deployment name).") var workload: String?
    @Option(help: "Rollout revision.") var revision: String?
    @Option(help: "kubernetes.io/change-cause.") var changeCause: String?
    @Option(help: "Incident id (incident events).") var incidentId: String?
    @Option(help: "Incident severity.") var incidentSeverity: String?
    @Option(help: "Incident title.") var incidentTitle: String?
    @Option(help: "Incident link.") var incidentUrl: String?
    @Option(help: "Who did it.") var actor: String?
    @Option(help: "Which system reports it.") var source: String?
    @Option(help: "Link to the run.") var url: String?
    @Option(help: "Free text.") var message: String?
    @Flag(help: "Unplanned work to fix a user-facing bug (counts as rework, as do rollbacks and deployments made while an incident is open).") var hotfix = false
    @Option(name: .customLong("annotation"), help: ArgumentHelp("key=value (repeatable).", valueName: "key=value"))
    var annotations: [String] = []

    /// The Deployment's fields and raw bytes, when `--from-kubernetes` names one.
    func kubernetesInput() throws -> ([(String, JSONValue)], [UInt8])? {
        guard let fromKubernetes else { return nil }
        let bytes: [UInt8]
        if fromKubernetes == "-" {
            bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
        } else {
            guard let data = FileManager.default.contents(atPath: fromKubernetes) else { throw CLIError("cannot read \(fromKubernetes)") }
            bytes = Array(data)
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            throw CLIError("--from-kubernetes \(fromKubernetes): \(error)")
        }
        switch KubernetesSource.eventFields(fromDeployment: json) {
        case .success(let fields): return (fields, bytes)
        case .failure(let e): throw CLIError("--from-kubernetes \(fromKubernetes): \(e.message)")
        }
    }

    /// The event as native JSON, so the one validation of the model applies. Options given
    /// on the command line win over what a Kubernetes Deployment says.
    func eventJSON(base: [(String, JSONValue)] = []) throws -> JSONValue {
        var m: [(String, JSONValue)] = []
        func add(_ key: String, _ value: String?) { if let value { m.append((key, .string(value))) } }
        add("id", id)
        add("type", type)
        add("service", service)
        add("environment", env)
        add("time", time)
        add("version", version)
        add("artifact", artifact)
        add("commit", commit)
        add("commitTime", commitTime)
        if !changes.isEmpty {
            m.append(
                (
                    "changes",
                    .array(
                        changes.map { spec in
                            let parts = spec.split(separator: "@", maxSplits: 1).map(String.init)
                            var c: [(String, JSONValue)] = [("commit", .string(parts.first ?? ""))]
                            if parts.count == 2 { c.append(("time", .string(parts[1]))) }
                            return .object(c)
                        }
                    )
                )
            )
        }
        add("namespace", namespace)
        add("workload", workload)
        add("revision", revision)
        add("changeCause", changeCause)
        if incidentId != nil || incidentSeverity != nil || incidentTitle != nil || incidentUrl != nil {
            var i: [(String, JSONValue)] = []
            if let incidentId { i.append(("id", .string(incidentId))) }
            if let incidentSeverity { i.append(("severity", .string(incidentSeverity))) }
            if let incidentTitle { i.append(("title", .string(incidentTitle))) }
            if let incidentUrl { i.append(("url", .string(incidentUrl))) }
            m.append(("incident", .object(i)))
        }
        add("actor", actor)
        add("source", source)
        add("url", url)
        add("message", message)
        if hotfix { m.append(("hotfix", .bool(true))) }
        if !annotations.isEmpty {
            var a: [(String, JSONValue)] = []
            for spec in annotations {
                guard let eq = spec.firstIndex(of: "=") else { throw CLIError("--annotation \(spec): expected key=value") }
                a.append((String(spec[..<eq]), .string(String(spec[spec.index(after: eq)...]))))
            }
            m.append(("annotations", .object(a)))
        }
        let given = Set(m.map(\.0))
        return .object(m + base.filter { !given.contains($0.0) })
    }

    func run() async throws {
        let kubernetes = try kubernetesInput()
        let json = try eventJSON(base: kubernetes?.0 ?? [])
        let now = Timestamp.now()
        let event: Event
        switch Event.validate(json, now: now) {
        case .success(let e): event = e
        case .failure(let e):
            throw CLIError("invalid event: " + e.errors.map { "\(optionName($0.field)): \($0.message)" }.joined(separator: "; "))
        }
        let body = Array(json.canonicalJSON().utf8)
        if let client = try log.client {
            // Without an id, the server derives one from the content and the time it received
            // it, so a repeat after a lost answer could record the event twice.
            let (status, answer) = try await client.send("POST", "api/v1/events", body: body, repeatable: event.id != nil)
            guard status == 200 || status == 201 else { throw CLIError(ServerClient.errorText(status, answer)) }
            let result = ServerClient.decoded(AppendResult.self, answer)
            let seq = result.map { String($0.sequence) } ?? "?"
            print(status == 200 ? "duplicate of event \(seq) (nothing recorded)" : "recorded event \(seq)")
            return
        }
        let prepared = PreparedEvent(event, raw: kubernetes?.1 ?? body, format: kubernetes == nil ? .cli : .kubernetes, receivedAt: now)
        let store = try await log.openDatabase()
        let outcome: AppendOutcome
        do {
            outcome = try await store.append([prepared])[0]
        } catch AppendError.conflict(_, let id, let existing) {
            try? await store.close()
            throw CLIError("id \"\(id)\" is already recorded (sequence \(existing)) with different content; nothing was recorded")
        } catch {
            try? await store.close()
            throw error
        }
        // Closed before the process ends: closing folds the write-ahead log into the file.
        try? await store.close()
        print(outcome.isDuplicate ? "duplicate of event \(outcome.sequence) (nothing recorded)" : "recorded event \(outcome.sequence)")
    }

    /// `commitTime` → `--commit-time`, so the message names what the user typed.
    func optionName(_ field: String) -> String {
        let map = ["environment": "--env", "commitTime": "--commit-time", "changeCause": "--change-cause", "incident.id": "--incident-id"]
        if let m = map[field] { return m }
        if field.hasPrefix("changes[") { return "--change" }
        if field.hasPrefix("annotations.") { return "--annotation " + field.dropFirst("annotations.".count) }
        if field.hasPrefix("incident.") { return "--incident-" + field.dropFirst("incident.".count) }
        return field.isEmpty ? "event" : "--" + field
    }
}
