import Crypto
import ShiplogModel

/// Flux notification-controller events (the `generic` and `generic-hmac` providers) → native
/// events.
///
/// | involved object, event | native |
/// |---|---|
/// | Kustomization `ReconciliationSucceeded`; HelmRelease `InstallSucceeded`, `UpgradeSucceeded` | `deployment.succeeded` |
/// | HelmRelease `RollbackSucceeded` | `deployment.rolled_back` |
/// | Kustomization or HelmRelease, severity `error` (`ReconciliationFailed`, `ValidationFailed`, `HealthCheckFailed`, `InstallFailed`, `UpgradeFailed`, …) | `deployment.failed` |
/// | `DependencyNotReady`, `Progressing` and other informational reasons; sources and other kinds | skipped |
///
/// Flux sends no event id: the id is a hash of what identifies the event (the object, reason,
/// revisions, message and time), so a retried send is a duplicate.
public enum FluxSource {
    /// The header `generic-hmac` signs bodies with: `<hash>=<hex HMAC of the body>`.
    public static let signatureHeader = "X-Signature"

    /// Where an event's environment comes from.
    public enum EnvironmentSource: Sendable, Hashable {
        /// The involved object's namespace is the environment.
        case namespace
        /// An event metadata key (an Alert's `eventMetadata`, like `env: production`).
        case metadata(String)

        /// Parses `namespace` or `label:NAME` (the `--flux-environment-from` option).
        public init?(parsing text: String) {
            if text == "namespace" {
                self = .namespace
            } else if text.hasPrefix("label:"), text.count > "label:".count {
                self = .metadata(String(text.dropFirst("label:".count)))
            } else {
                return nil
            }
        }
    }

    /// Whether `header` (`sha256=…`, `sha384=…` or `sha512=…`) is the HMAC of `body` under
    /// `secret`, compared in constant time. Flux names the hash in the prefix and may change it.
    public static func verifySignature(_ header: String?, body: [UInt8], secret: String) -> Bool {
        guard let header, let equals = header.firstIndex(of: "=") else { return false }
        let key = SymmetricKey(data: Array(secret.utf8))
        guard let mac = Hex.decode(header[header.index(after: equals)...].utf8) else { return false }
        switch header[..<equals] {
        case "sha256": return mac.count == 32 && HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: key)
        case "sha384": return mac.count == 48 && HMAC<SHA384>.isValidAuthenticationCode(mac, authenticating: body, using: key)
        case "sha512": return mac.count == 64 && HMAC<SHA512>.isValidAuthenticationCode(mac, authenticating: body, using: key)
        default: return false
        }
    }

    /// The `sha256=` signature of `body` (what `generic-hmac` sends), for tests and tools.
    public static func signature(body: [UInt8], secret: String) -> String {
        "sha256=" + hex(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8))))
    }

    public static func decode(
        _ body: [UInt8],
        environmentFrom: EnvironmentSource = .metadata("env"),
        receivedAt: Timestamp
    )
        -> Result<SourceBatch, SourceError>
    {
        let json: JSONValue
        do { json = try parseObjectBody(body, what: "a Flux event").get() } catch { return .failure(error) }
        guard let object = json["involvedObject"], object.objectMembers != nil else {
            return .failure(
                SourceError("\"involvedObject\" is required: this route takes Flux notification-controller events", field: "involvedObject")
            )
        }
        return assemble([(nil, map(json, object: object, environmentFrom: environmentFrom, raw: body))], format: .flux, receivedAt: receivedAt)
    }

    static let succeeded: Set<String> = ["ReconciliationSucceeded", "InstallSucceeded", "UpgradeSucceeded"]
    static let notFailures: Set<String> = ["DependencyNotReady", "Progressing", "ArtifactUpToDate"]

    static func map(_ json: JSONValue, object: JSONValue, environmentFrom: EnvironmentSource, raw: [UInt8]) -> ItemOutcome {
        let kind = object.string(at: "kind") ?? ""
        guard kind == "Kustomization" || kind == "HelmRelease" else {
            return .skipped(
                "\(kind.isEmpty ? "an object without a kind" : kind) events are not recorded; shiplog reads Kustomization and HelmRelease"
            )
        }
        guard let reason = json.string(at: "reason") else { return .invalid([FieldError(field: "reason", message: "required")]) }
        let type: EventType
        if succeeded.contains(reason) {
            type = .deploymentSucceeded
        } else if reason == "RollbackSucceeded" {
            type = .deploymentRolledBack
        } else if json.string(at: "severity") == "error", !notFailures.contains(reason) {
            type = .deploymentFailed
        } else {
            return .skipped("\(kind) \(reason) is not recorded: it neither finished nor failed a deployment")
        }
        let metadata = json["metadata"]
        let group = object.string(at: "apiVersion")?.split(separator: "/").first.map(String.init)
        func meta(_ key: String) -> String? {
            // Since notification-controller v1.5 keys arrive without their group prefix.
            metadata?[key]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
                ?? group.flatMap { metadata?["\($0)/\(key)"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
        }
        let environment: String?
        let environmentOrigin: String
        switch environmentFrom {
        case .namespace:
            environment = object.string(at: "namespace")
            environmentOrigin = "involvedObject.namespace"
        case .metadata(let key):
            environment = meta(key)
            environmentOrigin = "metadata.\(key)"
        }
        guard let environment else {
            return .skipped("no environment: the event has no \(environmentOrigin) (--flux-environment-from)")
        }
        let name = object.string(at: "name")
        let namespace = object.string(at: "namespace")
        let revision = meta("revision")
        let time = json.string(at: "timestamp")
        let message = json.string(at: "message")

        var event = MappedEvent(type: type, raw: raw)
        let identity = [kind, namespace ?? "", name ?? "", reason, revision ?? "", meta("originRevision") ?? "", message ?? "", time ?? ""]
        event.set(
            "id",
            "flux:" + sha256Hex(identity.joined(separator: "\u{0}")).prefix(32),
            from: "involvedObject + reason + revision + message + timestamp"
        )
        event.set("time", time, from: "timestamp")
        event.set("service", name, from: "involvedObject.name")
        event.set("environment", environment, from: environmentOrigin)
        if kind == "Kustomization", let commit = revision.flatMap(commitSHA) {
            event.set("commit", commit, from: "metadata.revision")
            event.set("version", String(commit.prefix(12)), from: "metadata.revision")
        } else {
            // A HelmRelease's revision is its chart version; an OCI source's is a digest.
            event.set("version", revision, from: "metadata.revision")
        }
        event.set("namespace", namespace, from: "involvedObject.namespace")
        event.set("workload", name, from: "involvedObject.name")
        event.set("actor", json.string(at: "reportingController"), from: "reportingController")
        event.set("message", message, from: "message")
        event.set("source", "flux")
        var annotations: [(String, JSONValue)] = [("flux.kind", .string(kind)), ("flux.reason", .string(reason))]
        if let revision { annotations.append(("flux.revision", .string(String(revision.prefix(Limits.shortText))))) }
        event.set("annotations", .object(annotations))
        return .event(event)
    }

    /// The commit a Git revision names: `main@sha1:<sha>` (RFC-0005) or the legacy `main/<sha>`.
    static func commitSHA(_ revision: String) -> String? {
        let candidate: Substring
        if let at = revision.range(of: "@sha1:") {
            candidate = revision[at.upperBound...]
        } else if let slash = revision.lastIndex(of: "/") {
            candidate = revision[revision.index(after: slash)...]
        } else {
            candidate = Substring(revision)
        }
        guard candidate.count == 40, candidate.allSatisfy(\.isHexDigit) else { return nil }
        return String(candidate)
    }
}
