import ShiplogModel

/// Alertmanager's webhook (payload version 4) → incidents. Each firing alert opens an incident,
/// each resolved alert resolves it; the incident id is the alert's fingerprint.
///
/// Only what stays the same while an alert fires goes into the event (labels, `startsAt`,
/// `generatorURL`), so that Alertmanager's repeated notifications are duplicates, not conflicts.
/// Alerts without the service or environment label (or with values that are not valid
/// names) are acknowledged and skipped.
public enum AlertmanagerSource {
    /// Which alert labels name the service and the environment.
    public struct LabelNames: Sendable, Hashable {
        public var service: String
        public var environment: String

        public init(service: String = "service", environment: String = "environment") {
            self.service = service
            self.environment = environment
        }
    }

    public static func decode(_ body: [UInt8], labels names: LabelNames = LabelNames(), receivedAt: Timestamp) -> Result<SourceBatch, SourceError> {
        let json: JSONValue
        do { json = try parseObjectBody(body, what: "an Alertmanager webhook payload").get() } catch { return .failure(error) }
        guard let alerts = json["alerts"]?.arrayValue else {
            return .failure(SourceError("\"alerts\" is required: an array of alerts (Alertmanager webhook payload version 4)", field: "alerts"))
        }
        guard !alerts.isEmpty else { return .failure(SourceError("the payload holds no alerts", field: "alerts")) }
        let groupStatus = json.string(at: "status")
        let items = alerts.enumerated().map { index, alert in
            (index: Optional(index), outcome: map(alert, groupStatus: groupStatus, names: names))
        }
        return assemble(items, format: .alertmanager, receivedAt: receivedAt)
    }

    static func map(_ alert: JSONValue, groupStatus: String?, names: LabelNames) -> ItemOutcome {
        guard alert.objectMembers != nil, let labels = alert["labels"], labels.objectMembers != nil else {
            return .invalid([FieldError(field: "labels", message: "an alert is an object with a labels object")])
        }
        let alertname = labels["alertname"]?.stringValue ?? "alert"
        guard let service = labels[names.service]?.stringValue, let environment = labels[names.environment]?.stringValue else {
            return .skipped("alert \(alertname) has no \(names.service) and \(names.environment) labels")
        }
        guard Event.isValidName(service), Event.isValidName(environment) else {
            return .skipped(
                "alert \(alertname): labels \(names.service)=\"\(service)\" and \(names.environment)=\"\(environment)\" are not valid names"
            )
        }
        let status = alert.string(at: "status") ?? groupStatus
        let type: EventType
        switch status {
        case "firing": type = .incidentOpened
        case "resolved": type = .incidentResolved
        default:
            return .invalid([FieldError(field: "status", message: "expected firing or resolved, not \(status ?? "nothing")")])
        }
        guard let startsAt = alert.string(at: "startsAt") else {
            return .invalid([FieldError(field: "startsAt", message: "required")])
        }
        let fingerprint = alert.string(at: "fingerprint") ?? sha256Hex(labels.canonicalJSON()).prefix(16).description

        var event = MappedEvent(type: type, raw: Array(alert.compactJSON().utf8))
        event.set(
            "id",
            idempotencyKey("alertmanager", [fingerprint, startsAt, type == .incidentOpened ? "opened" : "resolved"]),
            from: "fingerprint + startsAt"
        )
        if type == .incidentOpened {
            event.set("time", startsAt, from: "startsAt")
        } else {
            event.set("time", alert.string(at: "endsAt"), from: "endsAt")
        }
        event.set("service", service, from: "labels.\(names.service)")
        event.set("environment", environment, from: "labels.\(names.environment)")
        var incident: [(String, JSONValue)] = [("id", .string(fingerprint))]
        if let severity = labels["severity"]?.stringValue { incident.append(("severity", .string(severity))) }
        incident.append(("title", .string(String(alertname.prefix(Limits.shortText)))))
        if let url = alert.string(at: "generatorURL") { incident.append(("url", .string(url))) }
        event.set("incident", .object(incident), from: "labels")
        event.set("source", "alertmanager")
        return .event(event)
    }
}
