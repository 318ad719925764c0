import Foundation

/// An instant with nanosecond precision, parsed from and printed as RFC 3339.
///
/// Its canonical text is UTC (`Z`) with the fraction trimmed of trailing zeros, so
/// `2024-05-01T12:00:00.500+02:00` and `2024-05-01T10:00:00.5Z` are the same timestamp
/// with the same canonical text.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public init(seconds: Int64, nanos: Int64 = 0) { self.nanoseconds = seconds * 1_000_000_000 + nanos }

    public init(_ date: Date) {
        self.nanoseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) * 1000
    }

    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(seconds: Int64(ts.tv_sec), nanos: Int64(ts.tv_nsec))
    }

    public var seconds: Double { Double(nanoseconds) / 1e9 }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.nanoseconds < b.nanoseconds }

    public func adding(seconds: Double) -> Timestamp {
        Timestamp(nanoseconds: nanoseconds + Int64(seconds * 1e9))
    }

    /// Canonical RFC 3339 text in UTC.
    public var description: String { rfc3339 }

    public var rfc3339: String {
        var secs = nanoseconds / 1_000_000_000
        var frac = nanoseconds % 1_000_000_000
        if frac < 0 {
            frac += 1_000_000_000
            secs -= 1
        }
        var days = secs / 86_400
        var rem = secs % 86_400
        if rem < 0 {
            rem += 86_400
            days -= 1
        }
        // Nanoseconds in an Int64 span the years 1677 to 2262: always four digits.
        let (y, m, d) = Self.civil(fromDays: days)
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { b in
            func put(_ v: Int64, _ width: Int, at end: Int) {
                var v = v
                for i in stride(from: end - 1, through: end - width, by: -1) {
                    b[i] = UInt8(truncatingIfNeeded: 48 + v % 10)
                    v /= 10
                }
            }
            put(y, 4, at: 4)
            b[4] = UInt8(ascii: "-")
            put(m, 2, at: 7)
            b[7] = UInt8(ascii: "-")
            put(d, 2, at: 10)
            b[10] = UInt8(ascii: "T")
            put(rem / 3600, 2, at: 13)
            b[13] = UInt8(ascii: ":")
            put(rem % 3600 / 60, 2, at: 16)
            b[16] = UInt8(ascii: ":")
            put(rem % 60, 2, at: 19)
            var count = 19
            if frac != 0 {
                b[19] = UInt8(ascii: ".")
                put(frac, 9, at: 29)
                count = 29
                while b[count - 1] == UInt8(ascii: "0") { count -= 1 }
            }
            b[count] = UInt8(ascii: "Z")
            return String(decoding: UnsafeBufferPointer(rebasing: b[0...count]), as: UTF8.self)
        }
    }

    // Howard Hinnant's days-from-civil algorithms.
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
    }

    /// Parses RFC 3339 (`2024-05-01T12:00:00Z`, `2024-05-01t12:00:00.123456+02:00`,
    /// a space instead of `T`). Returns nil with no reason; use `parse` for one.
    public init?(rfc3339 text: String) {
        guard case .success(let t) = Self.parse(text) else { return nil }
        self = t
    }

    /// Parses RFC 3339 and says what is wrong when it is not.
    public static func parse(_ text: String) -> Result<Timestamp, TimestampError> {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ n: Int) -> Int64? {
            guard at + n <= b.count else { return nil }
            var v: Int64 = 0
            for i in at..<(at + n) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        let bad = TimestampError(text: text, reason: "expected RFC 3339, like 2024-05-01T12:00:00Z or 2024-05-01T14:00:00.5+02:00")
        guard b.count >= 20,
            let year = digits(0, 4), b[4] == UInt8(ascii: "-"),
            let month = digits(5, 2), b[7] == UInt8(ascii: "-"),
            let day = digits(8, 2),
            [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(b[10]),
            let hour = digits(11, 2), b[13] == UInt8(ascii: ":"),
            let minute = digits(14, 2), b[16] == UInt8(ascii: ":"),
            let second = digits(17, 2)
        else { return .failure(bad) }
        var i = 19
        var nanos: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var n = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if n < 9 { nanos = nanos * 10 + Int64(b[i] - 48) }
                n += 1
                i += 1
            }
            guard n > 0 else { return .failure(bad) }
            if n < 9 { for _ in n..<9 { nanos *= 10 } }
        }
        guard i < b.count else { return .failure(bad) }
        var offsetSeconds: Int64 = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign: Int64 = b[i] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == UInt8(ascii: ":"),
                let om = digits(i + 4, 2), oh < 24, om < 60
            else { return .failure(bad) }
            offsetSeconds = sign * (oh * 3600 + om * 60)
            i += 6
        } else {
            return .failure(bad)
        }
        guard i == b.count else { return .failure(bad) }
        guard (1...12).contains(month) else {
            return .failure(TimestampError(text: text, reason: "month \(month) is out of range"))
        }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays: [Int64] = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day >= 1, day <= monthDays[Int(month - 1)] else {
            return .failure(TimestampError(text: text, reason: "day \(day) does not exist in that month"))
        }
        guard hour < 24, minute < 60, second < 60 else {
            return .failure(TimestampError(text: text, reason: "time of day is out of range (leap seconds are not accepted)"))
        }
        guard year >= 1970, year < 2262 else {
            return .failure(TimestampError(text: text, reason: "year \(year) is outside 1970…2261"))
        }
        let secs = Self.days(fromCivil: year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return .success(Timestamp(seconds: secs, nanos: nanos))
    }
}

/// Why a text is not an RFC 3339 timestamp.
public struct TimestampError: Error, Sendable, Equatable, CustomStringConvertible {
    public var text: String
    public var reason: String
    public var description: String { "\"\(text)\": \(reason)" }
}

/// A span like `90s`, `15m`, `12h`, `7d` or `2w`, as the CLI and API accept for `--since`.
public struct TimeSpan: Sendable, Hashable, CustomStringConvertible {
    public var seconds: Int64
    public var description: String

    /// The longest span accepted, 36500d (about 100 years): any time within it of now is a
    /// valid 64-bit nanosecond count, so arithmetic on it never overflows.
    public static let longest = TimeSpan(seconds: 36_500 * 86_400, description: "36500d")
    /// What a bad span is told: the accepted forms and range.
    public static let expected = "a span from 0s to 36500d (like 90s, 15m, 12h, 7d or 2w)"

    init(seconds: Int64, description: String) {
        self.seconds = seconds
        self.description = description
    }

    public init?(_ text: String) {
        guard let unit = text.last, let n = Int64(text.dropLast()), n >= 0 else { return nil }
        let factor: Int64
        switch unit {
        case "s": factor = 1
        case "m": factor = 60
        case "h": factor = 3600
        case "d": factor = 86_400
        case "w": factor = 604_800
        default: return nil
        }
        let (product, overflow) = n.multipliedReportingOverflow(by: factor)
        guard !overflow, product <= Self.longest.seconds else { return nil }
        self.seconds = product
        self.description = text
    }
}

extension Timestamp {
    /// Reads `--since`/`--until` style input: a span back from `now` (`7d`) or RFC 3339.
    public static func parseBound(_ text: String, now: Timestamp = .now()) -> Timestamp? {
        if let span = TimeSpan(text) {
            let (back, overflow) = now.nanoseconds.subtractingReportingOverflow(span.seconds * 1_000_000_000)
            return overflow ? nil : Timestamp(nanoseconds: back)
        }
        return Timestamp(rfc3339: text)
    }
}
