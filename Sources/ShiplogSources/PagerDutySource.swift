import Crypto
import ShiplogModel

/// PagerDuty V3 webhooks → incidents.
///
/// | `event.event_type` | native |
/// |---|---|
/// | `incident.triggered`, `incident.reopened` | `incident.opened` |
/// | `incident.resolved` | `incident.resolved` |
/// | `incident.acknowledged` and every other type | skipped: someone looking at an incident changes neither its start nor its end |
///
/// The incident is `data.id` (an opening and its resolution pair on it), its time the event's
/// `occurred_at`, the idempotency key `event.id`. PagerDuty knows nothing of shiplog's
/// services and environments: `ServiceMap` names them for each PagerDuty service.
public enum PagerDutySource {
    /// The header PagerDuty signs bodies with.
    public static let signatureHeader = "X-PagerDuty-Signature"

    /// Which shiplog service and environment a PagerDuty service's incidents belong to.
    public struct ServiceMap: Sendable, Hashable {
        public struct Target: Sendable, Hashable {
            public var service: String
            public var environment: String?

            public init(service: String, environment: String? = nil) {
                self.service = service
                self.environment = environment
            }
        }

        /// PagerDuty service id (`PF9KMXH`) or name (`API Service`) → shiplog names.
        public var entries: [String: Target]
        /// The environment of a service mapped without one, and of unmapped services.
        public var defaultEnvironment: String

        public init(entries: [String: Target] = [:], defaultEnvironment: String = "production") {
            self.entries = entries
            self.defaultEnvironment = defaultEnvironment
        }

        /// Parses `PAGERDUTY_SERVICE=SERVICE[/ENVIRONMENT]` (the `--pagerduty-service` option).
        public static func entry(parsing text: String) -> (String, Target)? {
            guard let equals = text.lastIndex(of: "=") else { return nil }
            let key = String(text[..<equals]).trimmingSpaces
            let value = text[text.index(after: equals)...]
            let parts = value.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard !key.isEmpty, parts.count <= 2, Event.isValidName(parts[0]) else { return nil }
            if parts.count == 2, !Event.isValidName(parts[1]) { return nil }
            return (key, Target(service: parts[0], environment: parts.count == 2 ? parts[1] : nil))
        }

        /// The target for a PagerDuty service: by id, then by name, then the name itself when
        /// it is a valid service name; nil when none applies.
        func target(id: String?, name: String?) -> Target? {
            if let id, let target = entries[id] { return target }
            if let name, let target = entries[name] { return target }
            if let name, Event.isValidName(name) { return Target(service: name) }
            return nil
        }
    }

    /// Whether one of the `v1=<hex HMAC-SHA256>` entries of `header` was made with `secret`
    /// (several during a secret's rotation; entries of other versions are ignored).
    public static func verifySignature(_ header: String?, body: [UInt8], secret: String) -> Bool {
        guard let header else { return false }
        let key = SymmetricKey(data: Array(secret.utf8))
        var valid = false
        for entry in header.split(separator: ",") {
            let trimmed = entry.trimmingSpaces
            guard trimmed.hasPrefix("v1="), let mac = Hex.decode(trimmed.utf8.dropFirst(3)), mac.count == 32 else {
                continue
            }
            // Every entry is checked (no early return), each in constant time.
            if HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: key) { valid = true }
        }
        return valid
    }

    /// The signature header value for `body` (what PagerDuty would send), for tests and tools.
    public static func signature(body: [UInt8], secret: String) -> String {
        "v1=" + hex(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8))))
    }

    public static func decode(_ body: [UInt8], services: ServiceMap = ServiceMap(), receivedAt: Timestamp) -> Result<SourceBatch, SourceError> {
        let json: JSONValue
        do { json = try parseObjectBody(body, what: "a PagerDuty V3 webhook payload").get() } catch { return .failure(error) }
        guard let event = json["event"], event.objectMembers != nil else {
            return .failure(SourceError("\"event\" is required: PagerDuty V3 webhooks wrap everything in an event object", field: "event"))
        }
        return assemble([(nil, map(event, services: services, raw: body))], format: .pagerduty, receivedAt: receivedAt)
    }

    static func map(_ event: JSONValue, services: ServiceMap, raw: [UInt8]) -> ItemOutcome {
        guard let eventType = event.string(at: "event_type") else {
            return .invalid([FieldError(field: "event.event_type", message: "required")])
        }
        let type: EventType
        switch eventType {
        case "incident.triggered", "incident.reopened": type = .incidentOpened
        case "incident.resolved": type = .incidentResolved
        case "incident.acknowledged":
            return .skipped("incident.acknowledged is not recorded: an acknowledgement changes neither when the incident began nor when it ended")
        default: return .skipped("\(eventType) is not recorded; shiplog reads incident.triggered, incident.reopened and incident.resolved")
        }
        guard let data = event["data"], data.objectMembers != nil else {
            return .invalid([FieldError(field: "event.data", message: "required: the incident")])
        }
        guard let incidentID = data.string(at: "id") else {
            return .invalid([FieldError(field: "event.data.id", message: "required: the incident's id")])
        }
        let serviceID = data.string(at: "service.id")
        let serviceName = data.string(at: "service.summary")
        guard let target = services.target(id: serviceID, name: serviceName) else {
            return .skipped(
                "PagerDuty service \(serviceName.map { "\"\($0)\"" } ?? "") (\(serviceID ?? "no id")) is not mapped to a shiplog service: "
                    + "--pagerduty-service \(serviceID ?? "ID")=SERVICE[/ENVIRONMENT]"
            )
        }
        var mapped = MappedEvent(type: type, raw: raw)
        mapped.set("id", event.string(at: "id").map { idempotencyKey("pagerduty", [$0]) }, from: "event.id")
        mapped.set("time", event.string(at: "occurred_at"), from: "event.occurred_at")
        mapped.set("service", target.service, from: "event.data.service")
        mapped.set("environment", target.environment ?? services.defaultEnvironment, from: "event.data.service")
        mapped.set("actor", event.string(at: "agent.summary"), from: "event.agent.summary")
        mapped.set("source", "pagerduty")
        var incident: [(String, JSONValue)] = [("id", .string(incidentID))]
        if let severity = data.string(at: "priority.summary") ?? data.string(at: "urgency") {
            incident.append(("severity", .string(severity)))
        }
        if let title = data.string(at: "title") { incident.append(("title", .string(String(title.prefix(Limits.shortText))))) }
        if let url = data.string(at: "html_url") { incident.append(("url", .string(url))) }
        mapped.set("incident", .object(incident), from: "event.data")
        var annotations: [(String, JSONValue)] = [("pagerduty.event_type", .string(eventType))]
        if let serviceID { annotations.append(("pagerduty.service_id", .string(serviceID))) }
        if let number = data["number"], number.intValue != nil { annotations.append(("pagerduty.incident_number", .string(number.compactJSON()))) }
        mapped.set("annotations", .object(annotations))
        return .event(mapped)
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
