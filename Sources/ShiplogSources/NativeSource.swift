import ShiplogModel

/// Why a request body was refused: what went wrong, and for batches which events.
public struct SourceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A one-line summary.
    public var message: String
    /// The field at fault when there is one (for a body-level problem, nil).
    public var field: String?
    /// Per-event problems of a batch, each with its index.
    public var events: [EventValidationError]

    public init(_ message: String, field: String? = nil, events: [EventValidationError] = []) {
        self.message = message
        self.field = field
        self.events = events
    }

    public var description: String {
        ([message] + events.map(\.description)).joined(separator: "\n")
    }
}

/// shiplog's own JSON format: one event object, an array of them, or NDJSON (one per line).
public enum NativeSource {
    /// How the body is framed.
    public enum Framing: Sendable {
        /// One object or an array, decided by the first character.
        case json
        /// One object per line; blank lines are skipped.
        case ndjson
    }

    /// Reads, validates and prepares every event of a body. All or nothing: any bad event
    /// makes the whole body fail, naming each bad index and field. A body that is one JSON
    /// object is `single` (its answer is one result, not a list).
    public static func decode(
        _ body: [UInt8],
        framing: Framing,
        format: SourceFormat = .native,
        receivedAt: Timestamp
    ) -> Result<SourceBatch, SourceError> {
        let pieces: [ArraySlice<UInt8>]
        switch framing {
        case .ndjson:
            pieces = splitLines(body)
        case .json:
            guard let first = body.first(where: { !isWhitespace($0) }) else {
                return .failure(SourceError("the body is empty; send an event object, an array of events, or NDJSON"))
            }
            if first == UInt8(ascii: "[") {
                switch splitArray(body) {
                case .success(let elements): pieces = elements
                case .failure(let e): return .failure(SourceError(e.description))
                }
            } else {
                pieces = [body[...]]
            }
        }
        guard !pieces.isEmpty else {
            return .failure(SourceError("the body holds no events"))
        }
        var prepared: [PreparedEvent] = []
        prepared.reserveCapacity(pieces.count)
        var errors: [EventValidationError] = []
        var bad = 0
        let single = framing == .json && pieces.count == 1 && body.first(where: { !isWhitespace($0) }) != UInt8(ascii: "[")
        for (index, piece) in pieces.enumerated() {
            let json: JSONValue
            do {
                json = try JSONValue.parse(piece)
            } catch {
                var message = error.description
                if single, framing == .json, error.reason.contains("after the JSON value") {
                    message += " (several events? send an array, or NDJSON with Content-Type: application/x-ndjson)"
                }
                bad += 1
                if errors.count < EventValidationError.reportLimit {
                    errors.append(EventValidationError(index: single ? nil : index, errors: [FieldError(field: "", message: message)]))
                }
                continue
            }
            switch Event.validate(json, now: receivedAt) {
            case .success(let event):
                if bad == 0 {
                    prepared.append(PreparedEvent(event, raw: Array(piece), format: format, receivedAt: receivedAt))
                }
            case .failure(var e):
                bad += 1
                e.index = single ? nil : index
                if errors.count < EventValidationError.reportLimit { errors.append(e) }
            }
        }
        if !errors.isEmpty {
            let summary =
                single
                ? "invalid event: " + errors[0].errors.map(\.description).joined(separator: "; ")
                : EventValidationError.batchSummary(bad, of: pieces.count, items: "events")
            return .failure(SourceError(summary, field: errors.first?.errors.first?.field, events: errors))
        }
        return .success(SourceBatch(events: prepared, single: single))
    }

    /// Reads, validates and prepares one event from its raw JSON bytes.
    public static func prepare(
        _ bytes: ArraySlice<UInt8>,
        format: SourceFormat,
        receivedAt: Timestamp
    ) -> Result<PreparedEvent, EventValidationError> {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            return .failure(EventValidationError(errors: [FieldError(field: "", message: error.description)]))
        }
        return Event.validate(json, now: receivedAt).map {
            PreparedEvent($0, raw: Array(bytes), format: format, receivedAt: receivedAt)
        }
    }

    static func isWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    /// Splits NDJSON into its non-blank lines.
    public static func splitLines(_ body: [UInt8]) -> [ArraySlice<UInt8>] {
        body.split(separator: 0x0A, omittingEmptySubsequences: true).filter { line in
            line.contains(where: { !isWhitespace($0) })
        }
    }

    static func trimmed(_ slice: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var end = slice.endIndex
        while end > slice.startIndex, isWhitespace(slice[end - 1]) { end -= 1 }
        return slice[slice.startIndex..<end]
    }

    /// Splits a top-level JSON array into the raw bytes of its elements, without parsing them.
    static func splitArray(_ body: [UInt8]) -> Result<[ArraySlice<UInt8>], JSONParseError> {
        var i = body.firstIndex(where: { !isWhitespace($0) })!
        i += 1  // '['
        var elements: [ArraySlice<UInt8>] = []
        var depth = 0
        var inString = false
        var escaped = false
        var start: Int? = nil
        var sawComma = false
        while i < body.count {
            let b = body[i]
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                i += 1
                continue
            }
            switch b {
            case UInt8(ascii: "\""):
                inString = true
                if start == nil { start = i }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                if start == nil { start = i }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 {
                    guard b == UInt8(ascii: "]") else { return .failure(JSONParseError(offset: i, reason: "unexpected '}'")) }
                    if let s = start {
                        elements.append(trimmed(body[s..<i]))
                    } else if sawComma {
                        return .failure(JSONParseError(offset: i, reason: "trailing comma in the array"))
                    }
                    if let rest = body[(i + 1)...].firstIndex(where: { !isWhitespace($0) }) {
                        return .failure(JSONParseError(offset: rest, reason: "unexpected data after the JSON value"))
                    }
                    return .success(elements)
                }
                depth -= 1
            case UInt8(ascii: ","):
                if depth == 0 {
                    guard let s = start else { return .failure(JSONParseError(offset: i, reason: "empty array element")) }
                    elements.append(trimmed(body[s..<i]))
                    start = nil
                    sawComma = true
                }
            default:
                if start == nil, !isWhitespace(b) { start = i }
            }
            i += 1
        }
        return .failure(JSONParseError(offset: body.count, reason: "unterminated array"))
    }
}
