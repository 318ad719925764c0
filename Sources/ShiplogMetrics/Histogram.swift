/// Bucket counts kept as samples arrive, so that a scrape never walks the samples.
public struct Histogram: Sendable, Hashable {
    /// 1 minute … 90 days: lead times, restore times and promotions span minutes to months.
    public static let durationBounds: [Double] = [
        60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800, 345_600, 604_800, 1_209_600, 2_592_000, 5_184_000, 7_776_000,
    ]
    /// Request latencies: 1 ms … 10 s.
    public static let requestBounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public let bounds: [Double]
    /// Per bucket (not cumulative); the last entry counts values above every bound.
    public private(set) var counts: [Int]
    public private(set) var sum: Double = 0
    public private(set) var count = 0

    public init(bounds: [Double] = Histogram.durationBounds) {
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count + 1)
    }

    /// A histogram as saved in a snapshot; `counts` has one entry more than `bounds`.
    init(bounds: [Double], counts: [Int], sum: Double, count: Int) {
        precondition(counts.count == bounds.count + 1)
        self.bounds = bounds
        self.counts = counts
        self.sum = sum
        self.count = count
    }

    public mutating func record(_ value: Double) {
        var i = 0
        while i < bounds.count, value > bounds[i] { i += 1 }
        counts[i] += 1
        sum += value
        count += 1
    }

    /// Cumulative counts for each bound (without +Inf, which is `count`).
    public var cumulative: [Int] {
        var running = 0
        return bounds.indices.map { i in
            running += counts[i]
            return running
        }
    }
}
