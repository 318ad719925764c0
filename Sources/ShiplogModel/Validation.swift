/// One thing wrong with one field of an event.
public struct FieldError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field's path, like `environment`, `changes[1].time` or `incident.id`.
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

/// Everything wrong with one event; `index` is its position in a batch (nil for a lone event).
public struct EventValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var index: Int?
    public var errors: [FieldError]

    /// A batch's answer lists at most this many bad events (and counts the rest), so one
    /// body of a million bad items cannot make an error body many times its own size.
    public static let reportLimit = 100

    /// The summary of a batch with `bad` invalid items out of `total`.
    public static func batchSummary(_ bad: Int, of total: Int, items: String) -> String {
        "\(bad) of \(total) \(items) are invalid; nothing was written"
            + (bad > reportLimit ? "; the first \(reportLimit) are listed" : "")
    }

    public init(index: Int? = nil, errors: [FieldError]) {
        self.index = index
        self.errors = errors
    }

    public var description: String {
        let prefix = index.map { "event \($0): " } ?? ""
        return prefix + errors.map(\.description).joined(separator: "; ")
    }
}

/// Limits on field sizes; generous for real use, bounded so that one event cannot bloat the log.
public enum Limits {
    public static let idLength = 200
    public static let nameLength = 128
    public static let shortText = 256
    public static let referenceLength = 2048
    public static let messageLength = 16_384
    public static let maxChanges = 1000
    public static let maxAnnotations = 128
    /// Events may be at most this far in the future (clock skew allowance).
    public static let futureSkewSeconds: Int64 = 300
}

extension Event {
    /// The native fields, for rejecting unknown ones (a misspelt `comitTime` must not vanish silently).
    public static let fieldNames: Set<String> = [
        "id", "type", "service", "environment", "time", "version", "artifact", "commit",
        "commitTime", "changes", "namespace", "workload", "revision", "changeCause",
        "incident", "actor", "source", "url", "message", "hotfix", "annotations", "schemaVersion",
    ]

    /// Whether `name` is a valid service or environment name: `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`.
    public static func isValidName(_ name: String) -> Bool {
        let u = name.utf8
        guard let first = u.first, u.count <= Limits.nameLength else { return false }
        func alnum(_ b: UInt8) -> Bool {
            (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)
        }
        guard alnum(first) else { return false }
        return u.dropFirst().allSatisfy { alnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// Reads and validates a native event. Collects every problem rather than stopping at the first.
    /// - Parameter now: the receive time; `time` more than five minutes after it is rejected.
    ///   Pass nil to read an event that was already accepted (no clock check).
    public static func validate(_ json: JSONValue, now: Timestamp?) -> Result<Event, EventValidationError> {
        guard let members = json.objectMembers else {
            return .failure(EventValidationError(errors: [FieldError(field: "", message: "an event must be a JSON object, not \(json.kindName)")]))
        }
        let reader = FieldReader(members: members, prefix: "")
        var errors: [FieldError] = []

        for (key, _) in members where !fieldNames.contains(key) {
            errors.append(FieldError(field: key, message: "unknown field"))
        }
        if let v = reader.value("schemaVersion"), v != .number("1") {
            errors.append(FieldError(field: "schemaVersion", message: "only schema version 1 is supported"))
        }

        var type: EventType?
        if let t = reader.string("type", required: true, max: 64, into: &errors) {
            type = EventType(rawValue: t)
            if type == nil {
                errors.append(
                    FieldError(
                        field: "type",
                        message: "unknown type \"\(t)\"; expected one of \(EventType.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                )
            }
        }
        let service = reader.name("service", required: true, into: &errors)
        let environment = reader.name("environment", required: type?.requiresEnvironment ?? false, into: &errors)
        let id = reader.string("id", max: Limits.idLength, into: &errors)
        let time = reader.timestamp("time", into: &errors)
        if let time, let now, time.nanoseconds > now.nanoseconds + Limits.futureSkewSeconds * 1_000_000_000 {
            errors.append(FieldError(field: "time", message: "\(time) is more than 5 minutes in the future (now is \(now))"))
        }
        var event = Event(type: type ?? .deploymentStarted, service: service ?? "")
        event.id = id
        event.environment = environment
        event.time = time
        event.version = reader.string("version", max: Limits.shortText, into: &errors)
        event.artifact = reader.string("artifact", max: Limits.referenceLength, into: &errors)
        event.commit = reader.string("commit", max: Limits.shortText, into: &errors)
        event.commitTime = reader.timestamp("commitTime", into: &errors)
        event.namespace = reader.string("namespace", max: Limits.shortText, into: &errors)
        event.workload = reader.string("workload", max: Limits.shortText, into: &errors)
        event.revision = reader.stringOrInteger("revision", into: &errors)
        event.changeCause = reader.string("changeCause", max: Limits.referenceLength, into: &errors)
        event.actor = reader.string("actor", max: Limits.shortText, into: &errors)
        event.source = reader.string("source", max: Limits.referenceLength, into: &errors)
        event.url = reader.string("url", max: Limits.referenceLength, into: &errors)
        event.message = reader.string("message", max: Limits.messageLength, into: &errors)
        if let h = reader.value("hotfix") {
            switch h {
            case .bool(let b): event.hotfix = b
            case .null: break
            default: errors.append(FieldError(field: "hotfix", message: "must be true or false, not \(h.kindName)"))
            }
        }
        event.changes = reader.changes(into: &errors)
        event.incident = reader.incident(into: &errors)
        event.annotations = reader.annotations(into: &errors)

        if type == .changeMerged, event.commit == nil {
            errors.append(FieldError(field: "commit", message: "required for change.merged"))
        }
        if type == .artifactPublished {
            if event.artifact == nil, event.version == nil, !errors.contains(where: { $0.field == "artifact" || $0.field == "version" }) {
                errors.append(FieldError(field: "artifact", message: "artifact.published needs an artifact or a version (or both)"))
            }
        }
        if let type, type.isIncident, event.incident == nil, !errors.contains(where: { $0.field.hasPrefix("incident") }) {
            errors.append(FieldError(field: "incident", message: "required for \(type.rawValue): {\"id\": …}"))
        }
        if let type, !type.isIncident, event.incident != nil {
            errors.append(FieldError(field: "incident", message: "only incident events carry an incident"))
        }
        if !errors.isEmpty { return .failure(EventValidationError(errors: errors)) }
        return .success(event)
    }
}

/// Reads typed fields from a JSON object, recording a precise error for each bad one.
struct FieldReader {
    let members: [(String, JSONValue)]
    let prefix: String

    func path(_ key: String) -> String { prefix + key }

    func value(_ key: String) -> JSONValue? {
        members.first(where: { $0.0 == key })?.1
    }

    func string(_ key: String, required: Bool = false, max: Int, into errors: inout [FieldError]) -> String? {
        guard let v = value(key), v != .null else {
            if required { errors.append(FieldError(field: path(key), message: "required")) }
            return nil
        }
        guard case .string(let s) = v else {
            errors.append(FieldError(field: path(key), message: "must be a string, not \(v.kindName)"))
            return nil
        }
        if s.isEmpty {
            if required {
                errors.append(FieldError(field: path(key), message: "must not be empty"))
            } else {
                errors.append(FieldError(field: path(key), message: "must not be empty (omit the field instead)"))
            }
            return nil
        }
        if s.utf8.count > max {
            errors.append(FieldError(field: path(key), message: "is \(s.utf8.count) bytes long; at most \(max) allowed"))
            return nil
        }
        return s
    }

    func name(_ key: String, required: Bool, into errors: inout [FieldError]) -> String? {
        guard let s = string(key, required: required, max: 1 << 20, into: &errors) else { return nil }
        guard Event.isValidName(s) else {
            let shown = s.count > 40 ? String(s.prefix(40)) + "…" : s
            errors.append(
                FieldError(
                    field: path(key),
                    message:
                        "\"\(shown)\" is not a valid name: 1–128 characters of letters, digits, '.', '_' and '-', starting with a letter or digit"
                )
            )
            return nil
        }
        return s
    }

    func timestamp(_ key: String, into errors: inout [FieldError]) -> Timestamp? {
        guard let s = string(key, max: 64, into: &errors) else { return nil }
        switch Timestamp.parse(s) {
        case .success(let t): return t
        case .failure(let e):
            errors.append(FieldError(field: path(key), message: e.description))
            return nil
        }
    }

    func stringOrInteger(_ key: String, into errors: inout [FieldError]) -> String? {
        if case .number(let n)? = value(key) {
            guard Int64(n) != nil else {
                errors.append(FieldError(field: path(key), message: "must be a string or a whole number, not \(n)"))
                return nil
            }
            return n
        }
        return string(key, max: Limits.shortText, into: &errors)
    }

    func changes(into errors: inout [FieldError]) -> [Change] {
        guard let v = value("changes"), v != .null else { return [] }
        guard case .array(let elements) = v else {
            errors.append(FieldError(field: path("changes"), message: "must be an array of {\"commit\", \"time\"}, not \(v.kindName)"))
            return []
        }
        guard elements.count <= Limits.maxChanges else {
            errors.append(FieldError(field: path("changes"), message: "has \(elements.count) entries; at most \(Limits.maxChanges) allowed"))
            return []
        }
        var result: [Change] = []
        for (i, element) in elements.enumerated() {
            let p = path("changes[\(i)].")
            guard let members = element.objectMembers else {
                errors.append(FieldError(field: path("changes[\(i)]"), message: "must be an object, not \(element.kindName)"))
                continue
            }
            let r = FieldReader(members: members, prefix: p)
            for (key, _) in members where key != "commit" && key != "time" {
                errors.append(FieldError(field: p + key, message: "unknown field"))
            }
            let commit = r.string("commit", required: true, max: Limits.shortText, into: &errors)
            let time = r.timestamp("time", into: &errors)
            if let commit { result.append(Change(commit: commit, time: time)) }
        }
        return result
    }

    func incident(into errors: inout [FieldError]) -> Incident? {
        guard let v = value("incident"), v != .null else { return nil }
        guard let members = v.objectMembers else {
            errors.append(
                FieldError(field: path("incident"), message: "must be an object {\"id\", \"severity\", \"title\", \"url\"}, not \(v.kindName)")
            )
            return nil
        }
        let r = FieldReader(members: members, prefix: path("incident."))
        for (key, _) in members where !["id", "severity", "title", "url"].contains(key) {
            errors.append(FieldError(field: path("incident.") + key, message: "unknown field"))
        }
        let id = r.string("id", required: true, max: Limits.idLength, into: &errors)
        let severity = r.string("severity", max: Limits.shortText, into: &errors)
        let title = r.string("title", max: Limits.referenceLength, into: &errors)
        let url = r.string("url", max: Limits.referenceLength, into: &errors)
        guard let id else { return nil }
        return Incident(id: id, severity: severity, title: title, url: url)
    }

    func annotations(into errors: inout [FieldError]) -> [String: String] {
        guard let v = value("annotations"), v != .null else { return [:] }
        guard let members = v.objectMembers else {
            errors.append(FieldError(field: path("annotations"), message: "must be an object of strings, not \(v.kindName)"))
            return [:]
        }
        guard members.count <= Limits.maxAnnotations else {
            errors.append(FieldError(field: path("annotations"), message: "has \(members.count) entries; at most \(Limits.maxAnnotations) allowed"))
            return [:]
        }
        var result: [String: String] = [:]
        for (key, value) in members {
            let p = path("annotations.\(key)")
            if key.isEmpty || key.utf8.count > Limits.shortText {
                errors.append(FieldError(field: p, message: "annotation keys must be 1–\(Limits.shortText) bytes"))
                continue
            }
            guard case .string(let s) = value else {
                errors.append(FieldError(field: p, message: "must be a string, not \(value.kindName)"))
                continue
            }
            guard s.utf8.count <= Limits.referenceLength else {
                errors.append(FieldError(field: p, message: "is \(s.utf8.count) bytes long; at most \(Limits.referenceLength) allowed"))
                continue
            }
            result[key] = s
        }
        return result
    }
}
