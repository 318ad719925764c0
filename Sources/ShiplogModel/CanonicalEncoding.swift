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
            m.append(
                (
                    "changes",
                    .array(
                        changes.map { c in
                            var cm: [(String, JSONValue)] = [("commit", .string(c.commit))]
                            if let t = c.time { cm.append(("time", .string(t.rfc3339))) }
                            return .object(cm)
                        }
                    )
                )
            )
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
        JSONEscaping.appendString(text, to: &bytes)
    }
}
