/// What a Content-Type header says about the body.
enum MediaKind: Equatable {
    case json, ndjson, missing
    case other(String)

    /// The media type without parameters, lowercased: `Application/JSON; charset=utf-8` → `application/json`.
    static func baseType(_ header: String) -> String {
        var bytes = header.utf8.prefix { $0 != UInt8(ascii: ";") }[...]
        let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        while let b = bytes.first, blank(b) { bytes.removeFirst() }
        while let b = bytes.last, blank(b) { bytes.removeLast() }
        return String(decoding: bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    init(_ header: String?) {
        guard let header else {
            self = .missing
            return
        }
        let type = Self.baseType(header)
        switch type {
        case "application/json", "text/json": self = .json
        case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines": self = .ndjson
        case "": self = .missing
        default: self = .other(type)
        }
    }
}
