/// Where an event came from: the route or tool that accepted it.
public enum SourceFormat: String, Sendable, Hashable, CaseIterable {
    case native, cdevents, github, gitlab, argocd, flux, alertmanager, kubernetes, pagerduty, cli
}

/// An event ready for the log: id and time filled in, canonical text computed, raw input kept.
public struct PreparedEvent: Sendable, Hashable {
    /// The normalized event; `id` and `time` are never nil here.
    public var event: Event
    /// Canonical JSON of `event`; the hash chain covers exactly this text.
    public var canonical: String
    /// SHA-256 of the event as sent (before shiplog filled anything in), for idempotency.
    public var contentDigest: String
    public var raw: [UInt8]
    public var format: SourceFormat
    public var receivedAt: Timestamp
    /// The sender named no `time`: the log stamps one when it writes the event (`stamped(at:)`),
    /// so that such events are in time order in the order they are written.
    public private(set) var stampsTimeOnWrite: Bool

    public var id: String { event.id! }
    public var time: Timestamp { event.time! }

    /// Fills in what the sender left out and computes the canonical text and content digest.
    /// An absent `id` is derived from the content including `time` (after defaulting it),
    /// so a retry with an explicit `time` is a duplicate and two posts without one are not.
    public init(_ sent: Event, raw: [UInt8], format: SourceFormat, receivedAt: Timestamp) {
        var event = sent
        let sentCanonical = sent.canonicalJSON
        if event.time == nil { event.time = receivedAt }
        if event.id == nil {
            var withoutId = event
            withoutId.id = nil
            let basis = event.time == sent.time ? sentCanonical : withoutId.canonicalJSON
            event.id = sha256Hex(basis)
        }
        let canonical = (sent.id != nil && sent.time != nil) ? sentCanonical : event.canonicalJSON
        self.event = event
        self.canonical = canonical
        self.contentDigest = sha256Hex(sentCanonical)
        self.raw = raw
        self.format = format
        self.receivedAt = receivedAt
        self.stampsTimeOnWrite = sent.time == nil
    }

    /// The event with the time the log writes it at, in place of the receive time it was
    /// given until then. The id and the content digest stay as they are: neither depends on
    /// a time shiplog filled in.
    public func stamped(at time: Timestamp) -> PreparedEvent {
        guard stampsTimeOnWrite, time != event.time else { return self }
        var copy = self
        copy.event.time = time
        copy.canonical = copy.event.canonicalJSON
        return copy
    }
}
