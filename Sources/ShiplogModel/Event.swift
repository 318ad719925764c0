/// What happened: the eight kinds of event shiplog records.
public enum EventType: String, Sendable, Hashable, CaseIterable, Codable {
    case deploymentStarted = "deployment.started"
    case deploymentSucceeded = "deployment.succeeded"
    case deploymentFailed = "deployment.failed"
    case deploymentRolledBack = "deployment.rolled_back"
    case incidentOpened = "incident.opened"
    case incidentResolved = "incident.resolved"
    case changeMerged = "change.merged"
    /// A CI build: this artifact of the service was built from these changes.
    case artifactPublished = "artifact.published"

    /// A deployment in the DORA sense: succeeded, failed or rolled back (not `started`).
    public var isDeployment: Bool {
        self == .deploymentSucceeded || self == .deploymentFailed || self == .deploymentRolledBack
    }

    public var isIncident: Bool { self == .incidentOpened || self == .incidentResolved }

    /// Whether events of this type must name an environment.
    public var requiresEnvironment: Bool { self != .changeMerged && self != .artifactPublished }

    /// Whether an event of this type can tell which changes an artifact holds: an
    /// `artifact.published`, or a deployment (in any environment) that names both.
    public var tiesChangesToArtifact: Bool { self == .artifactPublished || isDeployment }
}

/// One change (commit) that a deployment ships, with when it was committed or merged.
public struct Change: Sendable, Hashable {
    public var commit: String
    public var time: Timestamp?

    public init(commit: String, time: Timestamp? = nil) {
        self.commit = commit
        self.time = time
    }
}

/// The incident an `incident.*` event is about; `id` pairs an opening with its resolution.
public struct Incident: Sendable, Hashable {
    public var id: String
    public var severity: String?
    public var title: String?
    public var url: String?

    public init(id: String, severity: String? = nil, title: String? = nil, url: String? = nil) {
        self.id = id
        self.severity = severity
        self.title = title
        self.url = url
    }
}

/// A shiplog event in the native schema (version 1). See PRODUCT.md §1 for each field.
public struct Event: Sendable, Hashable {
    /// Client idempotency key; filled in from the content when absent (see `PreparedEvent`).
    public var id: String?
    public var type: EventType
    public var service: String
    public var environment: String?
    /// When it happened; defaults to the time received.
    public var time: Timestamp?
    public var version: String?
    public var artifact: String?
    public var commit: String?
    public var commitTime: Timestamp?
    public var changes: [Change]
    public var namespace: String?
    public var workload: String?
    public var revision: String?
    public var changeCause: String?
    public var incident: Incident?
    public var actor: String?
    public var source: String?
    public var url: String?
    public var message: String?
    public var hotfix: Bool
    public var annotations: [String: String]

    public init(
        id: String? = nil,
        type: EventType,
        service: String,
        environment: String? = nil,
        time: Timestamp? = nil,
        version: String? = nil,
        artifact: String? = nil,
        commit: String? = nil,
        commitTime: Timestamp? = nil,
        changes: [Change] = [],
        namespace: String? = nil,
        workload: String? = nil,
        revision: String? = nil,
        changeCause: String? = nil,
        incident: Incident? = nil,
        actor: String? = nil,
        source: String? = nil,
        url: String? = nil,
        message: String? = nil,
        hotfix: Bool = false,
        annotations: [String: String] = [:]
    ) {
        self.id = id
        self.type = type
        self.service = service
        self.environment = environment
        self.time = time
        self.version = version
        self.artifact = artifact
        self.commit = commit
        self.commitTime = commitTime
        self.changes = changes
        self.namespace = namespace
        self.workload = workload
        self.revision = revision
        self.changeCause = changeCause
        self.incident = incident
        self.actor = actor
        self.source = source
        self.url = url
        self.message = message
        self.hotfix = hotfix
        self.annotations = annotations
    }

    /// The digest the artifact reference pins (`…@sha256:…`, or a purl's `?digest=`), with
    /// its algorithm prefix; nil when `artifact` pins none.
    public var artifactDigest: String? {
        guard let artifact else { return nil }
        let decoded = artifact.replacingPercentEncoding()
        for marker in ["@sha256:", "@sha512:", "digest=sha256:", "digest=sha512:"] {
            if let r = decoded.range(of: marker) {
                let start = decoded.index(r.upperBound, offsetBy: -7)  // keep the "sha256:" prefix
                let digest = decoded[start...].prefix { $0 != "?" && $0 != "&" && $0 != "#" }
                if digest.count > 7 { return String(digest) }
            }
        }
        return nil
    }

    /// The name the event gives its artifact: the digest when it pins one, else `version`.
    /// Within a service a digest and a version that one event names together are one
    /// artifact (PRODUCT.md §1); the projection resolves either name to it.
    public var artifactIdentity: String? { artifactDigest ?? version }

    /// The changes this deployment ships: `changes`, else `commit`. Each carries only the
    /// time stated for it: an entry of `changes` its own `time`, `commit` its `commitTime`.
    public var shippedChanges: [Change] {
        if !changes.isEmpty { return changes }
        if let commit { return [Change(commit: commit, time: commitTime)] }
        return []
    }

    /// Every commit time the event states (PRODUCT.md §3, *Changes and commit times*):
    /// `commit` with `commitTime`, each entry of `changes` with its `time`, and the commit of
    /// a `change.merged` at the event's `time`.
    public var statedCommitTimes: [(commit: String, time: Int64)] {
        var out: [(commit: String, time: Int64)] = []
        if type == .changeMerged, let commit, let time { out.append((commit, time.nanoseconds)) }
        if let commit, let commitTime { out.append((commit, commitTime.nanoseconds)) }
        for change in changes { if let t = change.time { out.append((change.commit, t.nanoseconds)) } }
        return out
    }
}

extension String {
    /// Decodes `%XX` escapes (as in purls and URLs); malformed escapes stay as they are.
    public func replacingPercentEncoding() -> String {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        var it = Array(utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%"), it.count >= 2, let v = Hex.decode(it.prefix(2)) {
                bytes.append(v[0])
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
