import Foundation
import ShiplogModel

/// CDEvents (spec 0.4 and 0.5) over the CloudEvents HTTP binding → native events.
///
/// | CDEvent | native |
/// |---|---|
/// | `service.deployed`, `service.upgraded` | `deployment.succeeded` |
/// | `service.rolledback` | `deployment.rolled_back` |
/// | `incident.detected`, `incident.reported` | `incident.opened` |
/// | `incident.resolved` | `incident.resolved` |
/// | `change.merged` | `change.merged` |
///
/// Every other CDEvents type is acknowledged and skipped (not stored): shiplog records
/// deployments, incidents and merges, and a producer that fans all its CDEvents out to
/// shiplog must not see errors for builds and test runs.
public enum CDEventsSource {
    /// How the request carried the event (the CloudEvents HTTP binding's modes).
    public enum Mode: Sendable {
        /// The CDEvent is the body; `ce-*` headers (lowercased names) carry the envelope.
        case binary(headers: [String: String])
        /// `application/cloudevents+json`: a CloudEvent with the CDEvent in `data`.
        case structured
        /// `application/cloudevents-batch+json`: an array of structured CloudEvents.
        case batch
    }

    /// The spec versions whose shapes shiplog reads.
    static let supportedVersions = ["0.4", "0.5"]

    public static func decode(_ body: [UInt8], mode: Mode, receivedAt: Timestamp) -> Result<SourceBatch, SourceError> {
        var items: [(index: Int?, outcome: ItemOutcome)] = []
        switch mode {
        case .binary(let headers):
            let json: JSONValue
            switch parseBody(body, what: "a CDEvent") {
            case .success(let j): json = j
            case .failure(let e): return .failure(e)
            }
            let envelope = Envelope(id: headers["ce-id"], source: headers["ce-source"], type: headers["ce-type"], time: headers["ce-time"])
            if headers["ce-specversion"] == nil, json["context"] == nil, json["data"] != nil {
                // A structured CloudEvent sent as application/json: read it as one.
                items.append((nil, structured(json, raw: body)))
            } else {
                items.append((nil, map(json, envelope: envelope, raw: body)))
            }
        case .structured:
            switch parseBody(body, what: "a CloudEvent (application/cloudevents+json)") {
            case .success(let json): items.append((nil, structured(json, raw: body)))
            case .failure(let e): return .failure(e)
            }
        case .batch:
            guard body.first(where: { !NativeSource.isWhitespace($0) }) == UInt8(ascii: "[") else {
                return .failure(SourceError("a CloudEvents batch (application/cloudevents-batch+json) must be a JSON array of CloudEvents"))
            }
            let elements: [ArraySlice<UInt8>]
            switch NativeSource.splitArray(body) {
            case .success(let e): elements = e
            case .failure(let e): return .failure(SourceError("the body is not JSON (\(e.description))"))
            }
            guard !elements.isEmpty else { return .failure(SourceError("the batch is empty")) }
            for (index, element) in elements.enumerated() {
                do {
                    items.append((index, structured(try JSONValue.parse(element), raw: Array(element))))
                } catch {
                    items.append((index, .invalid([FieldError(field: "", message: error.description)])))
                }
            }
        }
        return assemble(items, format: .cdevents, receivedAt: receivedAt)
    }

    /// The CloudEvents envelope attributes, used where the CDEvent's own context lacks them.
    struct Envelope {
        var id: String?
        var source: String?
        var type: String?
        var time: String?
    }

    static func structured(_ json: JSONValue, raw: [UInt8]) -> ItemOutcome {
        guard json.objectMembers != nil else {
            return .invalid([FieldError(field: "", message: "a CloudEvent must be a JSON object, not \(json.kindName)")])
        }
        let envelope = Envelope(
            id: json["id"]?.stringValue,
            source: json["source"]?.stringValue,
            type: json["type"]?.stringValue,
            time: json["time"]?.stringValue
        )
        if let data = json["data"] {
            return map(data, envelope: envelope, raw: raw)
        }
        if let encoded = json["data_base64"]?.stringValue {
            guard let bytes = Data(base64Encoded: encoded), let data = try? JSONValue.parse(Array(bytes)) else {
                return .invalid([FieldError(field: "data_base64", message: "is not base64-encoded JSON")])
            }
            return map(data, envelope: envelope, raw: raw)
        }
        if json["context"] != nil {
            return map(json, envelope: envelope, raw: raw)  // a bare CDEvent
        }
        return .invalid([FieldError(field: "data", message: "required: the CloudEvent carries no CDEvent")])
    }

    /// Maps one CDEvent.
    static func map(_ cdevent: JSONValue, envelope: Envelope, raw: [UInt8]) -> ItemOutcome {
        guard cdevent.objectMembers != nil else {
            return .invalid([FieldError(field: "", message: "a CDEvent must be a JSON object, not \(cdevent.kindName)")])
        }
        if let type = envelope.type, !type.hasPrefix("dev.cdevents."), cdevent["context"] == nil {
            // Another producer's CloudEvent on the same sink (Tekton's own dev.tekton.event.*).
            return .skipped("\(type) is a CloudEvent but not a CDEvent; acknowledged and not stored")
        }
        guard let context = cdevent["context"], context.objectMembers != nil else {
            return .invalid([FieldError(field: "context", message: "required: a CDEvent has a context object")])
        }
        guard let subject = cdevent["subject"], subject.objectMembers != nil else {
            return .invalid([FieldError(field: "subject", message: "required: a CDEvent has a subject object")])
        }
        let versionField = context["specversion"] != nil ? "specversion" : "version"  // 0.5 : 0.4
        guard let specVersion = context.string(at: versionField) else {
            return .invalid([FieldError(field: "context.specversion", message: "required (context.version in CDEvents 0.4)")])
        }
        guard supportedVersions.contains(where: { specVersion == $0 || specVersion.hasPrefix($0 + ".") }) else {
            return .invalid([
                FieldError(field: "context.\(versionField)", message: "CDEvents spec \(specVersion) is not supported; shiplog reads 0.4 and 0.5")
            ])
        }
        guard let type = context.string(at: "type") ?? envelope.type else {
            return .invalid([FieldError(field: "context.type", message: "required")])
        }
        let parts = type.split(separator: ".")
        guard parts.count >= 4, parts[0] == "dev", parts[1] == "cdevents" else {
            return .invalid([
                FieldError(field: "context.type", message: "\"\(type)\" is not a CDEvents type (dev.cdevents.<subject>.<predicate>.<version>)")
            ])
        }
        let kind = "\(parts[2]).\(parts[3])"
        guard let id = context.string(at: "id") ?? envelope.id else {
            return .invalid([FieldError(field: "context.id", message: "required: with context.source it is the idempotency key")])
        }
        guard let source = context.string(at: "source") ?? envelope.source else {
            return .invalid([FieldError(field: "context.source", message: "required: with context.id it is the idempotency key")])
        }

        let eventType: EventType
        switch kind {
        case "service.deployed", "service.upgraded": eventType = .deploymentSucceeded
        case "service.rolledback": eventType = .deploymentRolledBack
        case "incident.detected", "incident.reported": eventType = .incidentOpened
        case "incident.resolved": eventType = .incidentResolved
        case "change.merged": eventType = .changeMerged
        case "artifact.packaged", "artifact.published": eventType = .artifactPublished
        default:
            return .skipped("\(type) is not a deployment, incident, merge or build; acknowledged and not stored")
        }

        var event = MappedEvent(type: eventType, raw: raw)
        event.set("id", idempotencyKey("cdevents", [source, id]), from: "context.source + context.id")
        event.set("time", context.string(at: "timestamp") ?? envelope.time, from: "context.timestamp")
        event.set("source", source, from: "context.source")
        let content = subject["content"]
        switch eventType {
        case .deploymentSucceeded, .deploymentRolledBack:
            event.set("service", subject.string(at: "id"), from: "subject.id")
            event.set("environment", content?.string(at: "environment.id"), from: "subject.content.environment.id")
            setArtifact(&event, content?.string(at: "artifactId"))
        case .incidentOpened, .incidentResolved:
            event.set("service", content?.string(at: "service.id"), from: "subject.content.service.id")
            event.set("environment", content?.string(at: "environment.id"), from: "subject.content.environment.id")
            setArtifact(&event, content?.string(at: "artifactId"))
            var incident: [(String, JSONValue)] = []
            if let incidentID = subject.string(at: "id") { incident.append(("id", .string(incidentID))) }
            if let severity = cdevent["customData"]?.string(at: "severity") { incident.append(("severity", .string(severity))) }
            if let title = content?.string(at: "description") { incident.append(("title", .string(String(title.prefix(Limits.shortText))))) }
            if let url = content?.string(at: "ticketURI") { incident.append(("url", .string(url))) }
            event.set("incident", .object(incident), from: "subject")
        case .changeMerged:
            event.set("commit", subject.string(at: "id"), from: "subject.id")
            let repository = content?.string(at: "repository.name") ?? content?.string(at: "repository.id")
            let name = repository.flatMap { $0.split(separator: "/").last.map(String.init) }
            event.set("service", name, from: "subject.content.repository.id")
        case .artifactPublished:
            let purl = subject.string(at: "id")
            event.set("service", purl.flatMap { PackageURL($0)?.name }, from: "subject.id (the purl's name)")
            setArtifact(&event, purl)
            if let artifact = purl, PackageURL(artifact) == nil { event.set("artifact", artifact, from: "subject.id") }
            event.set("commit", content?.string(at: "change.id"), from: "subject.content.change.id")
        default:
            break
        }
        return .event(event)
    }

    /// `artifact` is the purl as sent; `version` is its `tag` qualifier, else its version
    /// (percent-decoded: `pkg:oci/app@sha256%3Aab…` → `sha256:ab…`).
    static func setArtifact(_ event: inout MappedEvent, _ purl: String?) {
        guard let purl else { return }
        event.set("artifact", purl, from: "subject.content.artifactId")
        event.set("version", PackageURL(purl)?.preferredVersion, from: "subject.content.artifactId")
    }
}

/// The parts of a package URL (purl) that shiplog reads.
struct PackageURL {
    /// The last path segment before the version: `myapp` in `pkg:golang/mygit.com/myorg/myapp@v1`.
    var name: String?
    var version: String?
    var qualifiers: [String: String]

    init?(_ text: String) {
        guard text.hasPrefix("pkg:") else { return nil }
        var rest = Substring(text.dropFirst(4))
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        qualifiers = [:]
        if let q = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: q)...].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { qualifiers[String(kv[0]).lowercased()] = String(kv[1]).replacingPercentEncoding() }
            }
            rest = rest[..<q]
        }
        if let at = rest.lastIndex(of: "@") {
            let v = String(rest[rest.index(after: at)...]).replacingPercentEncoding()
            version = v.isEmpty ? nil : v
            rest = rest[..<at]
        }
        let last = rest.split(separator: "/").last.map { String($0).replacingPercentEncoding() }
        name = last?.isEmpty == false && rest.contains("/") ? last : nil
    }

    /// The human version: the `tag` qualifier when there is one, else the purl's version.
    var preferredVersion: String? { qualifiers["tag"] ?? version }
}
