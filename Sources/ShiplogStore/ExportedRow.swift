import Foundation
import GRDB
import ShiplogModel

/// One row of the log as `shiplog events export` writes it (one JSON object per line):
/// everything needed to rebuild the row exactly, so that importing an export into an empty
/// log gives the same rows and the same head hash.
///
/// `{"contentDigest":…,"event":{…},"format":…,"hash":…,"raw":<base64>,"receivedAt":…,"sequence":…}`
///
/// `event` is the canonical event the hash chain covers; `contentDigest` is the digest of the
/// event as it was sent (what idempotency compares); `hash` is the row's chain hash, for
/// checking the copy.
public struct ExportedRow: Sendable, Hashable {
    public init(
        sequence: Int64,
        receivedAt: Timestamp,
        format: SourceFormat,
        contentDigest: String,
        canonical: String,
        raw: [UInt8],
        hash: String
    ) {
        self.sequence = sequence
        self.receivedAt = receivedAt
        self.format = format
        self.contentDigest = contentDigest
        self.canonical = canonical
        self.raw = raw
        self.hash = hash
    }

    public var sequence: Int64
    public var receivedAt: Timestamp
    public var format: SourceFormat
    public var contentDigest: String
    public var canonical: String
    public var raw: [UInt8]
    public var hash: String

    /// The row as one line of NDJSON (without the newline), keys in sorted order.
    public var line: String {
        var out = #"{"contentDigest":"# + JSONValue.string(contentDigest).compactJSON()
        out += #","event":"# + canonical
        out += #","format":"# + JSONValue.string(format.rawValue).compactJSON()
        out += #","hash":""# + hash + "\""
        out += #","raw":""# + Data(raw).base64EncodedString() + "\""
        out += #","receivedAt":""# + receivedAt.rfc3339 + "\""
        out += #","sequence":"# + String(sequence) + "}"
        return out
    }

    /// Whether a JSON line is a row (an export, or `events list --format ndjson`) rather
    /// than a bare native event: it has an `event` object.
    public static func isRow(_ json: JSONValue) -> Bool {
        if case .object = json["event"] { return true }
        return false
    }

    /// What a row line says, ready to append. An export line carries its raw body, format,
    /// receive time and content digest, which the new row keeps; a line of `events list`
    /// has no raw body: the event's canonical text stands in for it. The event is validated
    /// like any other (an export from a future shiplog with unknown fields is refused).
    public static func prepare(_ json: JSONValue) -> Result<PreparedEvent, EventValidationError> {
        func bad(_ field: String, _ message: String) -> Result<PreparedEvent, EventValidationError> {
            .failure(EventValidationError(errors: [FieldError(field: field, message: message)]))
        }
        guard let members = json.objectMembers else { return bad("", "expected a JSON object") }
        let known: Set<String> = ["contentDigest", "event", "format", "hash", "raw", "receivedAt", "sequence"]
        if let unknown = members.first(where: { !known.contains($0.0) }) {
            return bad(unknown.0, "unknown field of an exported row (expected \(known.sorted().joined(separator: ", ")))")
        }
        guard let eventJSON = json["event"] else { return bad("event", "required") }
        var received = Timestamp.now()
        if let r = json["receivedAt"] {
            guard let text = r.stringValue, let t = Timestamp(rfc3339: text) else { return bad("receivedAt", "must be an RFC 3339 time") }
            received = t
        }
        var format = SourceFormat.native
        if let f = json["format"] {
            guard let text = f.stringValue, let known = SourceFormat(rawValue: text) else {
                return bad("format", "must be one of \(SourceFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            format = known
        }
        let event: Event
        switch Event.validate(eventJSON, now: nil) {
        case .success(let e): event = e
        case .failure(let e):
            return .failure(EventValidationError(errors: e.errors.map { FieldError(field: "event." + $0.field, message: $0.message) }))
        }
        guard event.id != nil else { return bad("event.id", "required in an exported row") }
        guard event.time != nil else { return bad("event.time", "required in an exported row") }
        var prepared = PreparedEvent(event, raw: [], format: format, receivedAt: received)
        prepared.raw = Array(prepared.canonical.utf8)
        if let r = json["raw"] {
            guard let text = r.stringValue, let bytes = Data(base64Encoded: text) else { return bad("raw", "must be base64") }
            prepared.raw = Array(bytes)
        }
        if let d = json["contentDigest"] {
            guard let text = d.stringValue, text.utf8.count == 64, text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
                return bad("contentDigest", "must be 64 lowercase hex digits")
            }
            prepared.contentDigest = text
        }
        return .success(prepared)
    }
}

extension SQLiteEventLog {
    /// Every row in sequence order, handed over in batches (for `shiplog events export`).
    public func exportNow(batchSize: Int = 10_000, _ body: ([ExportedRow]) throws -> Void) throws {
        var after: Int64 = 0
        while true {
            let rows = try exportPage(after: after, limit: batchSize)
            guard let last = rows.last else { return }
            try body(rows)
            after = last.sequence
        }
    }

    /// Up to `limit` rows after `sequence`, in sequence order.
    public func exportPage(after sequence: Int64, limit: Int) throws -> [ExportedRow] {
        try database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, received_ns, format, content_digest, event, raw, hash FROM events
                    WHERE seq > ? ORDER BY seq LIMIT ?
                    """,
                arguments: [sequence, limit]
            ).map { row in
                let format: String = row["format"]
                let raw: Data = row["raw"]
                let hash: Data = row["hash"]
                return ExportedRow(
                    sequence: row["seq"],
                    receivedAt: Timestamp(nanoseconds: row["received_ns"]),
                    format: SourceFormat(rawValue: format) ?? .native,
                    contentDigest: row["content_digest"],
                    canonical: row["event"],
                    raw: Array(raw),
                    hash: hex(hash)
                )
            }
        }
    }
}
