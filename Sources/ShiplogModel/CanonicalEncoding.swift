import Crypto

extension Event {
    /// The event as native JSON: absent fields omitted, times in canonical UTC text,
    /// `hotfix` only when true. `canonicalJSON()` of this is what ids and hashes are made of.
    public var jsonValue: JSONValue {
        var m: [(String, JSONValue)] = []
        func add(_ key: String, _ value: String?) {
            if let value { m.append((key, .string(value))) }
        }
        add("id", id)
        add("type", type.rawValue)
        add("service", service)
        add("environment", environment)
        add("time", time?.rfc3339)
        add("version", version)
        add("artifact", artifact)
        add("commit", commit)
        add("commitTime", commitTime?.rfc3339)
        if !changes.isEmpty {
            m.append((
                "changes",
                .array(changes.map { c in
                    var cm: [(String, JSONValue)] = [("commit", .string(c.commit))]
                    if let t = c.time { cm.append(("time", .string(t.rfc3339))) }
                    return .object(cm)
                })
            ))
        }
        add("namespace", namespace)
        add("workload", workload)
        add("revision", revision)
        add("changeCause", changeCause)
        if let incident {
            var im: [(String, JSONValue)] = [("id", .string(incident.id))]
            if let s = incident.severity { im.append(("severity", .string(s))) }
            if let s = incident.title { im.append(("title", .string(s))) }
            if let s = incident.url { im.append(("url", .string(s))) }
            m.append(("incident", .object(im)))
        }
        add("actor", actor)
        add("source", source)
        add("url", url)
        add("message", message)
        if hotfix { m.append(("hotfix", .bool(true))) }
        if !annotations.isEmpty {
            m.append(("annotations", .object(annotations.map { ($0.key, .string($0.value)) })))
        }
        return .object(m)
    }

    /// Canonical JSON text: sorted keys, no whitespace — the same text as
    /// `jsonValue.canonicalJSON()` (tests hold them equal), written directly because every
    /// append computes it: the members below are in sorted order already.
    public var canonicalJSON: String {
        var out = CanonicalWriter()
        out.open()
        out.member("actor", actor)
        if !annotations.isEmpty {
            out.key("annotations")
            out.open()
            for (key, value) in annotations.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                out.member(key, value)
            }
            out.close()
        }
        out.member("artifact", artifact)
        out.member("changeCause", changeCause)
        if !changes.isEmpty {
            out.key("changes")
            out.bytes.append(UInt8(ascii: "["))
            for (index, change) in changes.enumerated() {
                if index > 0 { out.bytes.append(UInt8(ascii: ",")) }
                out.open()
                out.member("commit", change.commit)
                out.member("time", change.time?.rfc3339)
                out.close()
            }
            out.bytes.append(UInt8(ascii: "]"))
        }
        out.member("commit", commit)
        out.member("commitTime", commitTime?.rfc3339)
        out.member("environment", environment)
        if hotfix {
            out.key("hotfix")
            out.bytes.append(contentsOf: "true".utf8)
        }
        out.member("id", id)
        if let incident {
            out.key("incident")
            out.open()
            out.member("id", incident.id)
            out.member("severity", incident.severity)
            out.member("title", incident.title)
            out.member("url", incident.url)
            out.close()
        }
        out.member("message", message)
        out.member("namespace", namespace)
        out.member("revision", revision)
        out.member("service", service)
        out.member("source", source)
        out.member("time", time?.rfc3339)
        out.member("type", type.rawValue)
        out.member("url", url)
        out.member("version", version)
        out.member("workload", workload)
        out.close()
        return String(decoding: out.bytes, as: UTF8.self)
    }
}

/// Writes compact JSON objects of string members, escaping as `JSONValue` does.
private struct CanonicalWriter {
    var bytes: [UInt8] = []
    private var needsComma = false

    init() { bytes.reserveCapacity(320) }

    mutating func open() {
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func close() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func key(_ name: String) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        string(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = true
    }

    mutating func member(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    private mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case ..<0x20:
                let digits = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// Lowercase hexadecimal SHA-256 of a text's UTF-8 bytes.
public func sha256Hex(_ text: String) -> String {
    var text = text
    return text.withUTF8 { hex(SHA256.hash(data: $0)) }
}

/// Lowercase hexadecimal of any byte sequence.
public func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Where an event came from: the route or tool that accepted it.
public enum SourceFormat: String, Sendable, Hashable, CaseIterable {
    case native, cdevents, github, argocd, alertmanager, kubernetes, cli
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
