import Crypto
import ShiplogModel

/// GitHub `deployment`, `deployment_status` and `pull_request` webhooks → native events.
///
/// | webhook | native |
/// |---|---|
/// | `deployment` (created) | `deployment.started` |
/// | `deployment_status` success | `deployment.succeeded` |
/// | `deployment_status` failure, error | `deployment.failed` |
/// | `deployment_status` pending, queued, waiting, in_progress | `deployment.started` |
/// | `deployment_status` inactive | skipped: superseded is neither a deployment nor a failure |
/// | `pull_request` closed with `merged: true` | `change.merged` (commit ← `merge_commit_sha`, time ← `merged_at`) |
/// | `pull_request` closed without merging, other actions | skipped |
/// | `workflow_run`, `push` | skipped: a run is a build, not a deployment (`deployment_status` covers deploy jobs); a push is not a merge |
/// | `ping`, any other event | skipped |
public enum GitHubSource {
    /// The header GitHub signs bodies with.
    public static let signatureHeader = "X-Hub-Signature-256"

    /// Whether `header` (`sha256=<hex HMAC-SHA256 of the body>`) was made with `secret`.
    /// The comparison runs in constant time.
    public static func verifySignature(_ header: String?, body: [UInt8], secret: String) -> Bool {
        guard let header, header.hasPrefix("sha256="), let mac = Hex.decode(header.utf8.dropFirst(7)), mac.count == 32 else {
            return false
        }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: SymmetricKey(data: Array(secret.utf8)))
    }

    /// The signature header value for `body` (what GitHub would send), for tests and tools.
    public static func signature(body: [UInt8], secret: String) -> String {
        "sha256=" + hex(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8))))
    }

    /// - Parameters:
    ///   - event: the `X-GitHub-Event` header.
    ///   - delivery: the `X-GitHub-Delivery` header. It is not signed, so the idempotency key
    ///     comes from the body the signature covers: the deployment's id, or the deployment
    ///     status's id and state. A signed body sent again under any delivery id is a
    ///     duplicate. Only a body without those ids falls back to the delivery.
    public static func decode(_ body: [UInt8], event: String?, delivery: String?, receivedAt: Timestamp) -> Result<SourceBatch, SourceError> {
        guard let event, !event.isEmpty else {
            return .failure(SourceError("the X-GitHub-Event header is missing; this route takes GitHub webhooks", field: "X-GitHub-Event"))
        }
        let json: JSONValue
        do { json = try parseObjectBody(body, what: "a GitHub webhook payload").get() } catch { return .failure(error) }
        let outcome: ItemOutcome
        switch event {
        case "deployment": outcome = deployment(json, delivery: delivery, raw: body)
        case "deployment_status": outcome = deploymentStatus(json, delivery: delivery, raw: body)
        case "pull_request": outcome = pullRequest(json, raw: body)
        case "ping": outcome = .skipped("ping")
        case "workflow_run":
            outcome = .skipped("workflow_run webhooks are not recorded: a run is a build; its deploy jobs reach shiplog as deployment_status")
        case "push":
            outcome = .skipped("push webhooks are not recorded: merges come from pull_request; a push's commit times are author times")
        default: outcome = .skipped("\(event) webhooks are not recorded; shiplog reads deployment, deployment_status and pull_request")
        }
        return assemble([(nil, outcome)], format: .github, receivedAt: receivedAt)
    }

    static func deployment(_ json: JSONValue, delivery: String?, raw: [UInt8]) -> ItemOutcome {
        guard let deployment = json["deployment"], deployment.objectMembers != nil else {
            return .invalid([FieldError(field: "deployment", message: "required in a deployment webhook")])
        }
        if let action = json.string(at: "action"), action != "created" {
            return .skipped("deployment action \(action) is not recorded")
        }
        var event = MappedEvent(type: .deploymentStarted, raw: raw)
        let key = deployment["id"].map { "deployment-\($0.compactJSON())" } ?? delivery
        event.set("id", key.map { idempotencyKey("github", [$0]) }, from: deployment["id"] != nil ? "deployment.id" : "X-GitHub-Delivery")
        event.set("time", deployment.string(at: "created_at"), from: "deployment.created_at")
        event.set("actor", deployment.string(at: "creator.login") ?? json.string(at: "sender.login"), from: "deployment.creator.login")
        event.set("message", deployment.string(at: "description"), from: "deployment.description")
        setCommon(&event, json: json, deployment: deployment, environment: deployment.string(at: "environment"))
        return .event(event)
    }

    static func deploymentStatus(_ json: JSONValue, delivery: String?, raw: [UInt8]) -> ItemOutcome {
        guard let status = json["deployment_status"], status.objectMembers != nil else {
            return .invalid([FieldError(field: "deployment_status", message: "required in a deployment_status webhook")])
        }
        guard let deployment = json["deployment"], deployment.objectMembers != nil else {
            return .invalid([FieldError(field: "deployment", message: "required in a deployment_status webhook")])
        }
        guard let state = status.string(at: "state") else {
            return .invalid([FieldError(field: "deployment_status.state", message: "required")])
        }
        let type: EventType
        switch state {
        case "success": type = .deploymentSucceeded
        case "failure", "error": type = .deploymentFailed
        case "pending", "queued", "waiting", "in_progress": type = .deploymentStarted
        case "inactive": return .skipped("state inactive: the deployment was superseded, which is not a failure; not stored")
        default:
            return .invalid([FieldError(field: "deployment_status.state", message: "unknown state \"\(state)\"")])
        }
        var event = MappedEvent(type: type, raw: raw)
        let key = status["id"].map { "deployment-status-\($0.compactJSON())-\(state)" } ?? delivery
        event.set("id", key.map { idempotencyKey("github", [$0]) }, from: status["id"] != nil ? "deployment_status.id" : "X-GitHub-Delivery")
        event.set("time", status.string(at: "created_at") ?? status.string(at: "updated_at"), from: "deployment_status.created_at")
        event.set("actor", status.string(at: "creator.login") ?? json.string(at: "sender.login"), from: "deployment_status.creator.login")
        event.set("url", status.string(at: "log_url") ?? status.string(at: "target_url"), from: "deployment_status.log_url")
        event.set("message", status.string(at: "description"), from: "deployment_status.description")
        setCommon(&event, json: json, deployment: deployment, environment: status.string(at: "environment") ?? deployment.string(at: "environment"))
        return .event(event)
    }

    /// A merged pull request: the merge commit (the one a deployment of the base branch ships)
    /// and when it was merged, so that deployments naming only that commit get a lead time.
    /// A pull request closed without merging also has a `merge_commit_sha` (the test merge):
    /// only `merged` tells a merge.
    static func pullRequest(_ json: JSONValue, raw: [UInt8]) -> ItemOutcome {
        guard let pr = json["pull_request"], pr.objectMembers != nil else {
            return .invalid([FieldError(field: "pull_request", message: "required in a pull_request webhook")])
        }
        let action = json.string(at: "action") ?? ""
        guard action == "closed" else { return .skipped("pull_request action \(action) is not recorded; a merge arrives as closed") }
        guard pr["merged"] == .bool(true) else { return .skipped("the pull request was closed without merging") }
        var event = MappedEvent(type: .changeMerged, raw: raw)
        let key = (pr["id"] ?? pr["number"]).map { "pull-request-\($0.compactJSON())-merged" }
        event.set("id", key.map { idempotencyKey("github", [$0]) }, from: "pull_request.id")
        event.set("commit", pr.string(at: "merge_commit_sha"), from: "pull_request.merge_commit_sha")
        event.set("time", pr.string(at: "merged_at"), from: "pull_request.merged_at")
        event.set("service", json.string(at: "repository.name"), from: "repository.name")
        event.set("actor", pr.string(at: "merged_by.login") ?? json.string(at: "sender.login"), from: "pull_request.merged_by.login")
        event.set("url", pr.string(at: "html_url"), from: "pull_request.html_url")
        event.set("message", pr.string(at: "title"), from: "pull_request.title")
        event.set("source", "github")
        var annotations: [(String, JSONValue)] = []
        if let repo = json.string(at: "repository.full_name") { annotations.append(("github.repository", .string(repo))) }
        if let number = pr["number"], number.intValue != nil { annotations.append(("github.pull_request", .string(number.compactJSON()))) }
        if let base = pr.string(at: "base.ref") { annotations.append(("github.base_ref", .string(base))) }
        if !annotations.isEmpty { event.set("annotations", .object(annotations)) }
        return .event(event)
    }

    /// Fields both webhooks share. The deployment's `payload` (an object, or a JSON string)
    /// may carry shiplog's own fields: `service`, `version`, `artifact`, `commitTime`,
    /// `namespace`, `workload`, `hotfix`.
    static func setCommon(_ event: inout MappedEvent, json: JSONValue, deployment: JSONValue, environment: String?) {
        var payload = deployment["payload"]
        if let text = payload?.stringValue { payload = try? JSONValue.parse(text) }
        func fromPayload(_ key: String) -> String? { payload?[key]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }

        event.set(
            "service",
            fromPayload("service") ?? json.string(at: "repository.name"),
            from: fromPayload("service") != nil ? "deployment.payload.service" : "repository.name"
        )
        event.set("environment", environment, from: "deployment.environment")
        let sha = deployment.string(at: "sha")
        event.set("commit", sha, from: "deployment.sha")
        event.set(
            "version",
            fromPayload("version") ?? version(ref: deployment.string(at: "ref"), sha: sha),
            from: fromPayload("version") != nil ? "deployment.payload.version" : "deployment.ref"
        )
        event.set("artifact", fromPayload("artifact"), from: "deployment.payload.artifact")
        event.set("commitTime", fromPayload("commitTime"), from: "deployment.payload.commitTime")
        event.set("namespace", fromPayload("namespace"), from: "deployment.payload.namespace")
        event.set("workload", fromPayload("workload"), from: "deployment.payload.workload")
        if payload?["hotfix"] == .bool(true) { event.set("hotfix", .bool(true), from: "deployment.payload.hotfix") }
        event.set("source", "github")
        var annotations: [(String, JSONValue)] = []
        if let repo = json.string(at: "repository.full_name") { annotations.append(("github.repository", .string(repo))) }
        if let id = deployment["id"], id.intValue != nil { annotations.append(("github.deployment_id", .string(id.compactJSON()))) }
        if !annotations.isEmpty { event.set("annotations", .object(annotations)) }
    }

    /// The version a ref names: a tag (`v1.2.3`, `refs/tags/1.2`) is a version; a branch is
    /// not (every deploy of `main` would look like the same artifact), so then the commit's
    /// first 12 hex digits stand in.
    static func version(ref: String?, sha: String?) -> String? {
        if let ref {
            if ref.hasPrefix("refs/tags/") { return String(ref.dropFirst("refs/tags/".count)) }
            let bare = ref.hasPrefix("v") ? ref.dropFirst() : Substring(ref)
            if let first = bare.first, first.isNumber, ref != sha { return ref }
        }
        return sha.map { String($0.prefix(12)) } ?? ref
    }
}
