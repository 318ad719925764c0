import ShiplogModel

/// Argo CD notifications → native events. The body is what shiplog's notification template
/// (`deploy/argocd/`) sends: `{"trigger": …, "app": <the Application>, "context": …}`.
///
/// | trigger | native |
/// |---|---|
/// | `on-deployed` | `deployment.succeeded` (time: the sync's `finishedAt`) |
/// | `on-sync-failed` | `deployment.failed` (time: `finishedAt`) |
/// | `on-health-degraded` | `incident.opened` (time: the health transition) |
/// | `on-health-healthy` | `incident.resolved` (time: the health transition) |
/// | `on-sync-running` | `deployment.started` (time: `startedAt`) |
///
/// Health is not a deployment: a sync is one deployment, and the Application turning
/// Degraded opens an incident (the live deployment counts as failed, the environment is
/// degraded) that its return to Healthy resolves. Both name the incident
/// `argocd:<namespace>/<app>:health`, so the outage's length is the time to restore.
///
/// The artifact is the first image of `status.summary.images` that is pinned by digest, so a
/// sync of a config-repo revision ships the changes CI recorded for that image.
///
/// Without a `trigger` (another template), the Application's state decides the same way
/// the stock triggers would: a running sync, a failed sync, a succeeded sync that is
/// healthy or degraded. Anything else (no sync yet, still progressing) is skipped.
public enum ArgoCDSource {
    /// The triggers shiplog's template sends and what each records.
    public static let triggers: [String: EventType] = [
        "on-deployed": .deploymentSucceeded,
        "on-sync-failed": .deploymentFailed,
        "on-health-degraded": .incidentOpened,
        "on-health-healthy": .incidentResolved,
        "on-sync-running": .deploymentStarted,
    ]

    public static func decode(_ body: [UInt8], receivedAt: Timestamp) -> Result<SourceBatch, SourceError> {
        let json: JSONValue
        do { json = try parseObjectBody(body, what: "an Argo CD notification ({\"trigger\": …, \"app\": <Application>})").get() } catch {
            return .failure(error)
        }
        return assemble([(nil, map(json, raw: body))], format: .argocd, receivedAt: receivedAt)
    }

    static func map(_ json: JSONValue, raw: [UInt8]) -> ItemOutcome {
        guard let app = json["app"], app.objectMembers != nil else {
            return .invalid([FieldError(field: "app", message: "required: the Application object ({{toJson .app}} in the template)")])
        }
        if let kind = app.string(at: "kind"), kind != "Application" {
            return .invalid([FieldError(field: "app.kind", message: "expected an Application, not \(kind)")])
        }
        guard let name = app.string(at: "metadata.name") else {
            return .invalid([FieldError(field: "app.metadata.name", message: "required")])
        }
        let status = app["status"]
        let operation = status?["operationState"]
        let phase = operation?.string(at: "phase")
        let health = status?.string(at: "health.status")

        let type: EventType
        let trigger = json.string(at: "trigger")
        if let trigger {
            guard let t = triggers[trigger] else {
                return .skipped("trigger \(trigger) is not recorded; shiplog reads \(triggers.keys.sorted().joined(separator: ", "))")
            }
            type = t
        } else {
            switch (phase, health) {
            case ("Running", _): type = .deploymentStarted
            case ("Failed", _), ("Error", _): type = .deploymentFailed
            case ("Succeeded", "Healthy"): type = .deploymentSucceeded
            case ("Succeeded", "Degraded"): type = .incidentOpened
            default:
                return .skipped(
                    "no trigger, and the Application shows no finished or running sync (phase \(phase ?? "none"), health \(health ?? "unknown"))"
                )
            }
        }

        let time: String?
        let timeOrigin: String
        switch type {
        case .deploymentStarted:
            (time, timeOrigin) = (operation?.string(at: "startedAt"), "app.status.operationState.startedAt")
        case .incidentOpened, .incidentResolved:
            (time, timeOrigin) = (
                status?.string(at: "health.lastTransitionTime") ?? operation?.string(at: "finishedAt"), "app.status.health.lastTransitionTime"
            )
        default:
            (time, timeOrigin) = (operation?.string(at: "finishedAt"), "app.status.operationState.finishedAt")
        }

        let syncResult = operation?["syncResult"]
        let requested = operation?["operation"]?["sync"]
        // A running sync has no result yet: what it was asked to sync is the revision.
        let revisions: [JSONValue?] = type == .deploymentStarted ? [requested, syncResult] : [syncResult]
        let commit = revisions.lazy.compactMap { $0.flatMap(commitRevision) }.first
        let anyRevision = revisions.lazy.compactMap { r -> String? in
            r?.string(at: "revision") ?? r?["revisions"]?.arrayValue?.first?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        }.first

        let metadata = app["metadata"]
        let labels = metadata?["labels"]
        let appNamespace = metadata?.string(at: "namespace") ?? "argocd"
        let destination = app["spec"]?["destination"]?.string(at: "namespace")
        let labelName = labels?["app.kubernetes.io/name"]?.stringValue

        var event = MappedEvent(type: type, raw: raw)
        event.set(
            "id",
            idempotencyKey("argocd", ["\(appNamespace)/\(name)", trigger ?? type.rawValue, time ?? "", anyRevision ?? ""]),
            from: "app.metadata.name + trigger + time + revision"
        )
        event.set("time", time, from: timeOrigin)
        event.set("service", labelName ?? name, from: labelName != nil ? "app.metadata.labels[app.kubernetes.io/name]" : "app.metadata.name")
        event.set(
            "environment",
            labels?["environment"]?.stringValue ?? destination,
            from: labels?["environment"] != nil ? "app.metadata.labels[environment]" : "app.spec.destination.namespace"
        )
        event.set("namespace", destination, from: "app.spec.destination.namespace")
        event.set(
            "workload",
            metadata?["annotations"]?["shiplog/workload"]?.stringValue ?? labelName,
            from: "app.metadata.labels[app.kubernetes.io/name]"
        )
        let source = "argocd"
        if type.isIncident {
            var incident: [(String, JSONValue)] = [("id", .string("argocd:\(appNamespace)/\(name):health"))]
            if type == .incidentOpened {
                let reason = status?.string(at: "health.message").map { ": " + $0 } ?? ""
                incident.append(("title", .string(String("Argo CD application \(name) is Degraded\(reason)".prefix(Limits.messageLength)))))
                if let base = json.string(at: "context.argocdUrl") {
                    incident.append(("url", .string("\(base)/applications/\(appNamespace)/\(name)")))
                }
            }
            event.set("incident", .object(incident), from: "app.metadata.name (one health incident per Application)")
            event.set("source", source)
            if let base = json.string(at: "context.argocdUrl") { event.set("url", "\(base)/applications/\(appNamespace)/\(name)") }
            event.set("annotations", .object([("argocd.application", .string("\(appNamespace)/\(name)"))]))
            return .event(event)
        }
        event.set("commit", commit, from: "app.status.operationState.syncResult.revision")
        // The image summary shows what runs now; while a sync runs that is the old version.
        let images = status?["summary"]?["images"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let image = images.lazy.compactMap(KubernetesSource.imageTag).first
        // An image pinned by digest ties the sync to the build that recorded it (artifact.published).
        if type != .deploymentStarted, let pinned = images.first(where: { $0.contains("@sha256:") || $0.contains("@sha512:") }) {
            event.set("artifact", pinned, from: "app.status.summary.images (the first pinned by digest)")
        }
        if type == .deploymentStarted {
            event.set("version", anyRevision ?? image, from: "app.status.operationState.operation.sync.revision")
        } else {
            event.set(
                "version",
                image ?? anyRevision,
                from: image != nil ? "app.status.summary.images[0]" : "app.status.operationState.syncResult.revision"
            )
        }
        if let username = operation?.string(at: "operation.initiatedBy.username") {
            event.set("actor", username, from: "app.status.operationState.operation.initiatedBy.username")
        } else if operation?["operation"]?["initiatedBy"]?["automated"] == .bool(true) {
            event.set("actor", "automated sync")
        }
        if let base = json.string(at: "context.argocdUrl") {
            event.set("url", "\(base)/applications/\(appNamespace)/\(name)")
        }
        event.set(
            "message",
            operation?.string(at: "message").map { String($0.prefix(Limits.messageLength)) },
            from: "app.status.operationState.message"
        )
        event.set("source", source)
        var annotations: [(String, JSONValue)] = [("argocd.application", .string("\(appNamespace)/\(name)"))]
        if let project = app["spec"]?.string(at: "project") { annotations.append(("argocd.project", .string(project))) }
        event.set("annotations", .object(annotations))
        return .event(event)
    }

    /// A revision that names a Git commit (40 or 64 hex digits): `revision`, else the first
    /// such entry of `revisions` (multi-source apps; Helm sources there report chart versions).
    static func commitRevision(_ sync: JSONValue) -> String? {
        let candidates = [sync["revision"]?.stringValue] + (sync["revisions"]?.arrayValue ?? []).map(\.stringValue)
        return candidates.lazy.compactMap { $0 }.first(where: isCommitHash)
    }

    static func isCommitHash(_ s: String) -> Bool {
        (s.utf8.count == 40 || s.utf8.count == 64) && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}
