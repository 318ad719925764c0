/// A row of the event log: the event and what the log recorded with it.
public struct StoredEvent: Sendable, Hashable {
    public var sequence: Int64
    public var event: Event
    public var receivedAt: Timestamp
    public var format: SourceFormat

    public init(sequence: Int64, event: Event, receivedAt: Timestamp, format: SourceFormat) {
        self.sequence = sequence
        self.event = event
        self.receivedAt = receivedAt
        self.format = format
    }

    /// Where the event stands in (time, sequence) order, the order its pair applies it in.
    public var position: LogPosition { LogPosition(time: event.time!.nanoseconds, sequence: sequence) }

    /// The record as the API and `events list --format json` show it.
    public var jsonValue: JSONValue {
        .object([
            ("sequence", .number(String(sequence))),
            ("receivedAt", .string(receivedAt.rfc3339)),
            ("format", .string(format.rawValue)),
            ("event", event.jsonValue),
        ])
    }
}

/// A place in (time, sequence) order: events are applied to their pair in this order, and
/// an event that comes before the pair's newest position is late.
public struct LogPosition: Sendable, Hashable, Comparable {
    /// Nanoseconds since the Unix epoch.
    public var time: Int64
    public var sequence: Int64

    public init(time: Int64, sequence: Int64) {
        self.time = time
        self.sequence = sequence
    }

    public static func < (a: LogPosition, b: LogPosition) -> Bool {
        a.time != b.time ? a.time < b.time : a.sequence < b.sequence
    }

    /// Whether this position comes after `other`.
    public func isAfter(_ other: LogPosition) -> Bool { other < self }
}
