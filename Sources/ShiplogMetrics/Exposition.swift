import Foundation

/// The two text formats `/metrics` speaks.
public enum ExpositionFormat: Sendable {
    /// Prometheus text format 0.0.4.
    case text
    /// OpenMetrics 1.0 (`# UNIT`, counters named without `_total` in metadata, `# EOF`).
    case openMetrics

    /// The Content-Type header value for this format.
    public var contentType: String {
        switch self {
        case .text: "text/plain; version=0.0.4; charset=utf-8"
        case .openMetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8"
        }
    }

    /// Picks OpenMetrics when the Accept header asks for it, else text 0.0.4.
    public init(accept: String?) {
        self = (accept?.contains("application/openmetrics-text") ?? false) ? .openMetrics : .text
    }
}

/// The kind of a metric family.
public enum MetricType: String, Sendable {
    case counter, gauge, histogram
}

/// Writes metric families in Prometheus text 0.0.4 or OpenMetrics 1.0, escaping label values.
/// Every family gets HELP and TYPE; samples never carry timestamps.
public struct ExpositionWriter {
    public private(set) var output: String = ""
    let format: ExpositionFormat

    public init(format: ExpositionFormat, reserve: Int = 64 * 1024) {
        self.format = format
        output.reserveCapacity(reserve)
    }

    /// Starts a family. `name` is the full sample name (counters end in `_total`).
    public mutating func family(_ name: String, _ type: MetricType, help: String, unit: String? = nil) {
        var metadataName = name
        if format == .openMetrics, type == .counter, name.hasSuffix("_total") {
            metadataName = String(name.dropLast(6))
        }
        output += "# HELP \(metadataName) \(Self.escapeHelp(help))\n"
        output += "# TYPE \(metadataName) \(type.rawValue)\n"
        if format == .openMetrics, let unit {
            output += "# UNIT \(metadataName) \(unit)\n"
        }
    }

    /// One sample line. `labels` is pre-rendered by `labels(_:)` (without braces), or empty.
    public mutating func sample(_ name: String, _ labels: String, _ value: Double) {
        line(name, labels, Self.format(value))
    }

    public mutating func sample(_ name: String, _ labels: String, _ value: Int) {
        line(name, labels, String(value))
    }

    private mutating func line(_ name: String, _ labels: String, _ value: String) {
        output += name
        if !labels.isEmpty {
            output += "{"
            output += labels
            output += "}"
        }
        output += " "
        output += value
        output += "\n"
    }

    /// A histogram's buckets, sum and count from cumulative bucket counts.
    public mutating func histogram(_ name: String, _ labels: String, bounds: [Double], cumulative: [Int], sum: Double, count: Int) {
        let sep = labels.isEmpty ? "" : ","
        for (i, bound) in bounds.enumerated() {
            sample(name + "_bucket", labels + sep + "le=\"" + Self.format(bound) + "\"", cumulative[i])
        }
        sample(name + "_bucket", labels + sep + "le=\"+Inf\"", count)
        sample(name + "_sum", labels, sum)
        sample(name + "_count", labels, count)
    }

    /// Appends lines rendered earlier (samples only; the same in both formats).
    public mutating func append(_ lines: String) {
        output += lines
    }

    /// Ends the exposition (`# EOF` in OpenMetrics).
    public mutating func finish() {
        if format == .openMetrics { output += "# EOF\n" }
    }

    /// Renders `name="value"` pairs with escaped values.
    public static func labels(_ pairs: KeyValuePairs<String, String>) -> String {
        var out = ""
        var first = true
        for (k, v) in pairs {
            if !first { out += "," }
            first = false
            out += k
            out += "=\""
            out += escapeLabel(v)
            out += "\""
        }
        return out
    }

    /// Escapes `\`, `"` and newline in a label value.
    public static func escapeLabel(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == 0x5C || $0 == 0x22 || $0 == 0x0A }) else { return value }
        var out = ""
        for ch in value.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    static func escapeHelp(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Numbers as both formats accept them: integers without a fraction where exact, `NaN`, `+Inf`.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) + ".0" }
        return String(value)
    }
}
