import ShiplogModel

/// GitLab webhooks (Deployment and Merge Request hooks) → native events.
///
/// | hook | native |
/// |---|---|
/// | Deployment Hook `running` | `deployment.started` |
/// | Deployment Hook `success` | `deployment.succeeded` |
/// | Deployment Hook `failed` | `deployment.failed` |
/// | Deployment Hook `canceled` | skipped: the job was stopped; no change reached users and none failed there |
/// | Merge Request Hook `action: merge`, `state: merged` | `change.merged` (commit ← `merge_commit_sha`, time ← `updated_at`) |
/// | other merge request actions, Push, Pipeline, Job, Issue and other hooks | skipped |
///
/// Service: the project's path (the last part of `project.path_with_namespace`, as GitHub's
/// repository name), or what `ServiceMap` names for the whole path. Names cannot hold `/`.
public enum GitLabSource {
    /// The header that carries the hook's secret token (plain, not a signature).
    public static let tokenHeader = "X-Gitlab-Token"

    /// `group/project` → shiplog service, for projects whose path is not the service's name.
    public typealias ServiceMap = [String: String]

    /// - Parameter idempotencyKey: the `Idempotency-Key` header, which GitLab makes once per
    ///   event and sends again on every retry and manual resend. Without it (GitLab before
    ///   17.4), a key from the body: the deployment's id and status, the merge request's id.
    public static func decode(
        _ body: [UInt8],
        idempotencyKey: String?,
        services: ServiceMap = [:],
        receivedAt: Timestamp
    ) -> Result<SourceBatch, SourceError> {
        let json: JSONValue
        do { json = try parseObjectBody(body, what: "a GitLab webhook payload").get() } catch { return .failure(error) }
        guard let kind = json.string(at: "object_kind") else {
            return .failure(SourceError("\"object_kind\" is required: this route takes GitLab webhooks", field: "object_kind"))
        }
        let key = idempotencyKey.flatMap { $0.isEmpty ? nil : $0 }
        let outcome: ItemOutcome
        switch kind {
        case "deployment": outcome = deployment(json, key: key, services: services, raw: body)
        case "merge_request": outcome = mergeRequest(json, key: key, services: services, raw: body)
        case "push", "tag_push":
            outcome = .skipped("\(kind) hooks are not recorded: merges come from merge request hooks; a push's commit times are author times")
        case "pipeline", "build":
            outcome = .skipped("\(kind) hooks are not recorded: a pipeline is a build; its deployments reach shiplog as deployment hooks")
        default: outcome = .skipped("\(kind) hooks are not recorded; shiplog reads deployment and merge request hooks")
        }
        return assemble([(nil, outcome)], format: .gitlab, receivedAt: receivedAt)
    }

    static func deployment(_ json: JSONValue, key: String?, services: ServiceMap, raw: [UInt8]) -> ItemOutcome {
        guard let status = json.string(at: "status") else {
            return .invalid([FieldError(field: "status", message: "required in a deployment hook")])
        }
        let type: EventType
        switch status {
        case "running": type = .deploymentStarted
        case "success": type = .deploymentSucceeded
        case "failed": type = .deploymentFailed
        case "canceled":
            return .skipped("status canceled: the deployment job was stopped; it neither changed what runs nor failed there, so it is not stored")
        default: return .skipped("deployment status \(status) is not recorded")
        }
        let environment = json.string(at: "environment")
        if let environment, !Event.isValidName(environment) {
            return .skipped("environment \"\(environment)\" is not a valid environment name (a review app's?); not stored")
        }
        var event = MappedEvent(type: type, raw: raw)
        let bodyKey = json["deployment_id"].map { "deployment-\(json["project"]?["id"]?.compactJSON() ?? "0")-\($0.compactJSON())-\(status)" }
        event.set(
            "id",
            (key ?? bodyKey).map { idempotencyKey("gitlab", [$0]) },
            from: key != nil ? "Idempotency-Key" : "project.id + deployment_id + status"
        )
        event.set("time", json.string(at: "status_changed_at").map(rfc3339), from: "status_changed_at")
        event.set("environment", environment, from: "environment")
        setProject(&event, json: json, services: services)
        let commit = json.string(at: "commit_url").flatMap(commitSHA)
        event.set("commit", commit, from: "commit_url")
        event.set("version", GitHubSource.version(ref: json.string(at: "ref"), sha: commit ?? json.string(at: "short_sha")), from: "ref")
        event.set("actor", json.string(at: "user.username"), from: "user.username")
        event.set("url", json.string(at: "deployable_url"), from: "deployable_url")
        event.set("message", json.string(at: "commit_title"), from: "commit_title")
        var annotations = projectAnnotations(json)
        if let id = json["deployment_id"], id.intValue != nil { annotations.append(("gitlab.deployment_id", .string(id.compactJSON()))) }
        if let tier = json.string(at: "environment_tier") { annotations.append(("gitlab.environment_tier", .string(tier))) }
        event.set("annotations", .object(annotations))
        return .event(event)
    }

    static func mergeRequest(_ json: JSONValue, key: String?, services: ServiceMap, raw: [UInt8]) -> ItemOutcome {
        guard let attributes = json["object_attributes"], attributes.objectMembers != nil else {
            return .invalid([FieldError(field: "object_attributes", message: "required in a merge request hook")])
        }
        let action = attributes.string(at: "action")
        guard action == "merge" else { return .skipped("merge request action \(action ?? "none") is not recorded; a merge arrives as merge") }
        guard attributes.string(at: "state") == "merged" else {
            return .invalid([FieldError(field: "object_attributes.state", message: "a merge must have state \"merged\"")])
        }
        var event = MappedEvent(type: .changeMerged, raw: raw)
        let bodyKey = attributes["id"].map { "merge-request-\($0.compactJSON())-merged" }
        event.set("id", (key ?? bodyKey).map { idempotencyKey("gitlab", [$0]) }, from: key != nil ? "Idempotency-Key" : "object_attributes.id")
        event.set("commit", attributes.string(at: "merge_commit_sha"), from: "object_attributes.merge_commit_sha")
        // GitLab sends no merged_at: the merge event's own update time is the merge.
        let time = attributes.string(at: "updated_at") ?? json.string(at: "changes.updated_at.current")
        event.set("time", time.map(rfc3339), from: "object_attributes.updated_at")
        setProject(&event, json: json, services: services)
        event.set("actor", json.string(at: "user.username"), from: "user.username")
        event.set("url", attributes.string(at: "url"), from: "object_attributes.url")
        event.set("message", attributes.string(at: "title"), from: "object_attributes.title")
        var annotations = projectAnnotations(json)
        if let iid = attributes["iid"], iid.intValue != nil { annotations.append(("gitlab.merge_request", .string(iid.compactJSON()))) }
        if let target = attributes.string(at: "target_branch") { annotations.append(("gitlab.target_branch", .string(target))) }
        event.set("annotations", .object(annotations))
        return .event(event)
    }

    static func setProject(_ event: inout MappedEvent, json: JSONValue, services: ServiceMap) {
        let path = json.string(at: "project.path_with_namespace")
        if let path, let mapped = services[path] {
            event.set("service", mapped, from: "project.path_with_namespace (--gitlab-service)")
        } else {
            let last = path.flatMap { $0.split(separator: "/").last.map(String.init) }
            event.set("service", last, from: "project.path_with_namespace")
        }
        event.set("source", "gitlab")
    }

    static func projectAnnotations(_ json: JSONValue) -> [(String, JSONValue)] {
        json.string(at: "project.path_with_namespace").map { [("gitlab.project", .string($0))] } ?? []
    }

    /// The full SHA a commit URL ends with (`…/-/commit/<40 hex>`).
    static func commitSHA(_ url: String) -> String? {
        guard let last = url.split(separator: "/").last, last.count == 40, last.allSatisfy(\.isHexDigit) else { return nil }
        return String(last)
    }

    /// GitLab's two time forms as RFC 3339: `2021-04-28 21:50:00 +0200` and `2017-12-10
    /// 17:08:07 UTC` become `2021-04-28T21:50:00+02:00` and `2017-12-10T17:08:07Z`; ISO 8601
    /// (`2013-12-03T17:23:34Z`) stays as it is. Anything else is left for validation to refuse.
    static func rfc3339(_ text: String) -> String {
        let parts = text.split(separator: " ")
        guard parts.count == 3, parts[0].count == 10, parts[1].count == 8 else { return text }
        let zone: String
        if parts[2] == "UTC" || parts[2] == "Z" {
            zone = "Z"
        } else if parts[2].count == 5, let sign = parts[2].first, sign == "+" || sign == "-", parts[2].dropFirst().allSatisfy(\.isNumber) {
            zone = "\(parts[2].prefix(3)):\(parts[2].suffix(2))"
        } else {
            return text
        }
        return "\(parts[0])T\(parts[1])\(zone)"
    }
}
