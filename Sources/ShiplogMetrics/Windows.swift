import ShiplogModel

/// A trailing window over which `shiplog_window_*` gauges and `report` are computed.
public struct Window: Sendable, Hashable {
    public var label: String
    public var seconds: Int64

    public init(label: String, seconds: Int64) {
        self.label = label
        self.seconds = seconds
    }

    /// The longest window anyone can ask for (longer ones would overflow nanosecond arithmetic
    /// long before they meant anything).
    public static let longest = Window(label: "3650d", seconds: 3650 * 86_400)

    /// Parses a span like `30d` or `12h`, from one second up to `longest`.
    public init?(parsing text: String) {
        guard let span = TimeSpan(text), span.seconds > 0, span.seconds <= Self.longest.seconds else { return nil }
        self.init(label: text, seconds: span.seconds)
    }

    /// `7d`, `30d`, `90d`: the windows `/metrics` exports.
    public static let exported: [Window] = [
        Window(label: "7d", seconds: 7 * 86_400), Window(label: "30d", seconds: 30 * 86_400), Window(label: "90d", seconds: 90 * 86_400),
    ]
}

/// The DORA figures of one pair over one window.
public struct WindowFigures: Sendable, Hashable {
    public var deployments: Int
    public var failures: Int
    public var rework: Int
    public var changeFailureRatio: Double
    public var reworkRatio: Double
    /// NaN when there is no sample.
    public var leadTimeMedian: Double
    public var timeToRestoreMedian: Double
    public var leadTimeSamples: Int
    public var restoreSamples: Int
}

/// The median; the mean of the two middle values for an even count; NaN when empty.
public func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let s = values.sorted()
    let mid = s.count / 2
    return s.count % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/// The first index whose time is after `bound` in an array sorted by time.
func firstIndex<T>(after bound: Int64, in items: [T], time: (T) -> Int64) -> Int {
    var lo = 0
    var hi = items.count
    while lo < hi {
        let mid = (lo + hi) / 2
        if time(items[mid]) > bound { hi = mid } else { lo = mid + 1 }
    }
    return lo
}

extension PairState {
    /// Figures over `now − window … `: a deployment is in when its time is after now − window,
    /// a lead-time sample by its deployment's time, a restore sample by its episode's end.
    public func figures(window: Window, now: Int64) -> WindowFigures {
        figures(after: now - window.seconds * 1_000_000_000, through: .max)
    }

    /// Figures over the span `after … through` (nanoseconds), by the same rules.
    public func figures(after bound: Int64, through end: Int64) -> WindowFigures {
        func span<T>(_ items: [T], _ time: (T) -> Int64) -> ArraySlice<T> {
            items[firstIndex(after: bound, in: items, time: time)..<firstIndex(after: end, in: items, time: time)]
        }
        let d = span(deploymentLog, \.time)
        let failed = d.reduce(0) { $0 + ($1.failed ? 1 : 0) }
        let rework = d.reduce(0) { $0 + ($1.rework ? 1 : 0) }
        let lead = span(leadTimes, \.time).map(\.seconds)
        let restore = span(restoreTimes, \.time).map(\.seconds)
        return WindowFigures(
            deployments: d.count,
            failures: failed,
            rework: rework,
            changeFailureRatio: d.isEmpty ? 0 : Double(failed) / Double(d.count),
            reworkRatio: d.isEmpty ? 0 : Double(rework) / Double(d.count),
            leadTimeMedian: median(lead),
            timeToRestoreMedian: median(restore),
            leadTimeSamples: lead.count,
            restoreSamples: restore.count
        )
    }

    /// The window cut into `buckets` equal spans, oldest first, with each span's figures: a trend.
    public func trend(window: Window, now: Int64, buckets: Int) -> [WindowFigures] {
        let start = now - window.seconds * 1_000_000_000
        let width = (now - start) / Int64(max(1, buckets))
        return (0..<max(1, buckets)).map { i in
            let lower = start + Int64(i) * width
            return figures(after: lower, through: i == buckets - 1 ? now : lower + width)
        }
    }

    /// The exported windows' figures, cached until the pair changes or its oldest sample in
    /// some window falls out of it.
    mutating func exportedFigures(now: Int64) -> [WindowFigures] {
        if let cache = windowCache, now < windowCacheValidUntil { return cache }
        let computed = Window.exported.map { figures(window: $0, now: now) }
        var validUntil = Int64.max
        for w in Window.exported {
            let bound = now - w.seconds * 1_000_000_000
            let span = w.seconds * 1_000_000_000
            for t in [
                deploymentLog.dropFirst(firstIndex(after: bound, in: deploymentLog, time: \.time)).first?.time,
                leadTimes.dropFirst(firstIndex(after: bound, in: leadTimes, time: \.time)).first?.time,
                restoreTimes.dropFirst(firstIndex(after: bound, in: restoreTimes, time: \.time)).first?.time,
            ] {
                if let t { validUntil = min(validUntil, t + span) }
            }
        }
        windowCache = computed
        windowCacheValidUntil = validUntil
        renderedWindows = nil
        return computed
    }
}
