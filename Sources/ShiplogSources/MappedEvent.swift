import ShiplogModel

/// A native event that an adapter built from another source's payload, before validation.
/// Every adapter produces these; `SourceBatch.prepare` runs them through the one validation.
public struct MappedEvent: Sendable {
    /// The native fields, in the order they were set.
    public private(set) var fields: [(String, JSONValue)] = []
    /// Which source field each native field came from (`service` ← `subject.id`), for errors.
    public private(set) var origins: [String: String] = [:]
    /// Position of the item in the source payload (a batch element, an alert), if it has one.
    public var index: Int?
    /// The bytes stored as the event's raw body.
    public var raw: [UInt8]

    public init(type: EventType, raw: [UInt8]) {
        self.raw = raw
        fields.append(("type", .string(type.rawValue)))
    }

    /// Sets a native field from a source field; nil or empty values are left out.
    public mutating func set(_ field: String, _ value: String?, from origin: String? = nil) {
        if let origin { origins[field] = origin }
        guard let value, !value.isEmpty else { return }
        set(field, .string(value), from: origin)
    }

    /// Sets a native field to any JSON value.
    public mutating func set(_ field: String, _ value: JSONValue, from origin: String? = nil) {
        fields.removeAll { $0.0 == field }
        fields.append((field, value))
        if let origin { origins[field] = origin }
    }

    /// The event as a native JSON object.
    public var json: JSONValue { .object(fields) }
}

/// An item of a source payload that maps to no native event (an alert without service labels,
/// a CDEvent about builds): acknowledged and not stored.
public struct SkippedItem: Sendable, Hashable {
    public var index: Int?
    public var reason: String

    public init(index: Int? = nil, reason: String) {
        self.index = index
        self.reason = reason
    }
}

/// What an adapter made of one request body: events ready for the log, and what it skipped.
public struct SourceBatch: Sendable {
    public var events: [PreparedEvent]
    public var skipped: [SkippedItem]
    /// The body was one event object: it is answered with one result.
    public var single: Bool

    public init(events: [PreparedEvent], skipped: [SkippedItem] = [], single: Bool = false) {
        self.events = events
        self.skipped = skipped
        self.single = single
    }

    /// Validates mapped events with the native rules. All or nothing: any invalid event fails
    /// the whole body, naming each bad item and the source field the bad value came from.
    public static func prepare(
        _ mapped: [MappedEvent],
        skipped: [SkippedItem] = [],
        format: SourceFormat,
        receivedAt: Timestamp
    ) -> Result<SourceBatch, SourceError> {
        var events: [PreparedEvent] = []
        var errors: [EventValidationError] = []
        var bad = 0
        for item in mapped {
            switch Event.validate(item.json, now: receivedAt) {
            case .success(let event):
                events.append(PreparedEvent(event, raw: item.raw, format: format, receivedAt: receivedAt))
            case .failure(var error):
                bad += 1
                guard errors.count < EventValidationError.reportLimit else { continue }
                error.index = item.index
                error.errors = error.errors.map { e in
                    let root = String(e.field.prefix { $0 != "." && $0 != "[" })
                    guard let origin = item.origins[root] else { return e }
                    return FieldError(field: e.field, message: "\(e.message) (mapped from \(origin))")
                }
                errors.append(error)
            }
        }
        if !errors.isEmpty {
            let summary =
                bad == 1
                ? "the \(format.rawValue) payload does not make a valid event: \(errors[0].description)"
                : "\(bad) of \(mapped.count) \(format.rawValue) items do not make valid events; nothing was written"
                    + (bad > EventValidationError.reportLimit ? "; the first \(EventValidationError.reportLimit) are listed" : "")
            return .failure(SourceError(summary, field: errors.first?.errors.first?.field, events: errors))
        }
        return .success(SourceBatch(events: events, skipped: skipped))
    }
}

extension JSONValue {
    /// A non-empty string at a dotted path (`subject.content.environment.id`).
    func string(at path: String) -> String? {
        var current: JSONValue? = self
        for key in path.split(separator: ".") { current = current?[String(key)] }
        guard let s = current?.stringValue, !s.isEmpty else { return nil }
        return s
    }
}

/// Parses a body that must be one JSON value, with a message naming the source.
func parseBody(_ body: [UInt8], what: String) -> Result<JSONValue, SourceError> {
    guard body.contains(where: { !NativeSource.isWhitespace($0) }) else {
        return .failure(SourceError("the body is empty; expected \(what)"))
    }
    do {
        return .success(try JSONValue.parse(body))
    } catch {
        return .failure(SourceError("the body is not JSON (\(error.description)); expected \(what)"))
    }
}

/// Parses a body that must be one JSON object (a webhook payload).
func parseObjectBody(_ body: [UInt8], what: String) -> Result<JSONValue, SourceError> {
    parseBody(body, what: what).flatMap { json in
        json.objectMembers != nil ? .success(json) : .failure(SourceError("\(what) is a JSON object, not \(json.kindName)"))
    }
}

/// An idempotency key from parts, kept within the native id limit by hashing when too long.
func idempotencyKey(_ prefix: String, _ parts: [String]) -> String {
    let key = ([prefix] + parts).joined(separator: ":")
    if key.utf8.count <= Limits.idLength { return key }
    return prefix + ":sha256:" + sha256Hex(parts.joined(separator: "\u{0}"))
}

/// What one item of a source payload became.
enum ItemOutcome {
    case event(MappedEvent)
    case skipped(String)
    case invalid([FieldError])
}

/// Collects per-item outcomes into a batch: any invalid item fails the whole body.
func assemble(_ items: [(index: Int?, outcome: ItemOutcome)], format: SourceFormat, receivedAt: Timestamp) -> Result<SourceBatch, SourceError> {
    var mapped: [MappedEvent] = []
    var skipped: [SkippedItem] = []
    var invalid: [EventValidationError] = []
    var bad = 0
    for (index, outcome) in items {
        switch outcome {
        case .event(var e):
            e.index = index
            mapped.append(e)
        case .skipped(let reason): skipped.append(SkippedItem(index: index, reason: reason))
        case .invalid(let errors):
            bad += 1
            if invalid.count < EventValidationError.reportLimit { invalid.append(EventValidationError(index: index, errors: errors)) }
        }
    }
    if !invalid.isEmpty {
        let summary =
            bad == 1 && items.count == 1
            ? "invalid \(format.rawValue) payload: \(invalid[0].description)"
            : EventValidationError.batchSummary(bad, of: items.count, items: "\(format.rawValue) items")
        return .failure(SourceError(summary, field: invalid.first?.errors.first?.field, events: items.count == 1 ? [] : invalid))
    }
    return SourceBatch.prepare(mapped, skipped: skipped, format: format, receivedAt: receivedAt)
}
