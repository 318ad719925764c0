import Foundation
import ShiplogModel

/// How the pages write times, spans, ratios, digests and links.
enum Formatting {
    /// `45s`, `12m`, `3h 20m`, `2d 4h`; `—` when there is no value.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "—" }
        let s = Int64(max(0, seconds.rounded()))
        switch s {
        case ..<60: return "\(s)s"
        case ..<3600: return "\(s / 60)m"
        case ..<86_400: return s % 3600 / 60 == 0 ? "\(s / 3600)h" : "\(s / 3600)h \(s % 3600 / 60)m"
        default: return s % 86_400 / 3600 == 0 ? "\(s / 86_400)d" : "\(s / 86_400)d \(s % 86_400 / 3600)h"
        }
    }

    /// `12.5%`.
    static func percent(_ ratio: Double) -> String {
        guard ratio.isFinite else { return "—" }
        let tenths = Int((ratio * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }

    /// Deployments per day as people say it: `2.5/day`, `3.0/week`.
    static func frequency(perDay: Double) -> String {
        func oneDecimal(_ v: Double) -> String {
            let tenths = Int((v * 10).rounded())
            return "\(tenths / 10).\(tenths % 10)"
        }
        return perDay >= 1 ? oneDecimal(perDay) + "/day" : oneDecimal(perDay * 7) + "/week"
    }

    /// The first 12 hex digits of an artifact's digest (`…@sha256:0123…` → `0123456789ab`); nil
    /// when the artifact names no digest.
    static func shortDigest(_ artifact: String?) -> String? {
        guard let artifact, let range = artifact.range(of: "sha256:") else { return nil }
        let hex = artifact[range.upperBound...].prefix(12)
        return hex.count == 12 ? String(hex) : nil
    }

    /// `2026-12-03 13:45:12 UTC`.
    static func utc(_ nanoseconds: Int64) -> String {
        let text = Timestamp(nanoseconds: nanoseconds).rfc3339
        // rfc3339 is `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
        let seconds = text.prefix(19)
        return seconds.replacingOccurrences(of: "T", with: " ") + " UTC"
    }

    /// The link a page may make of an event's `url`: http and https only (never `javascript:`).
    static func safeLink(_ url: String?) -> String? {
        guard let url else { return nil }
        let lower = url.lowercased()
        return lower.hasPrefix("https://") || lower.hasPrefix("http://") ? url : nil
    }

    /// JSON indented by two spaces, keys in their order.
    static func prettyJSON(_ value: JSONValue) -> String {
        var out = ""
        write(value, indent: "", to: &out)
        return out
    }

    private static func write(_ value: JSONValue, indent: String, to out: inout String) {
        let inner = indent + "  "
        switch value {
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += inner
                write(item, indent: inner, to: &out)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += indent + "]"
        case .object(let members) where !members.isEmpty:
            out += "{\n"
            for (i, (key, item)) in members.enumerated() {
                out += inner + JSONValue.string(key).compactJSON() + ": "
                write(item, indent: inner, to: &out)
                out += i == members.count - 1 ? "\n" : ",\n"
            }
            out += indent + "}"
        default:
            out += value.compactJSON()
        }
    }
}

/// A time as the pages show it: UTC in the text and the `title` (the script rewrites the
/// text into the viewer's zone), RFC 3339 in `datetime`.
struct TimeView {
    var iso: String
    var utc: String

    init(_ nanoseconds: Int64) {
        iso = Timestamp(nanoseconds: nanoseconds).rfc3339
        utc = Formatting.utc(nanoseconds)
    }
}
