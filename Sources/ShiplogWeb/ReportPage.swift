import Mustache
import ShiplogMetrics
import ShiplogModel

extension WebView {
    struct ReportView {
        var environmentOptions: [OptionView]
        var windowOptions: [OptionView]
        var environment: String
        var windowLabel: String
        var readAt: TimeView
        var buckets: Int
        var empty: Bool
        var services: [ServiceReport]
    }

    struct ServiceReport {
        var service: String
        var anchor: String
        var figures: [FigureView]
    }

    struct FigureView {
        var key: String
        var name: String
        /// The figure as `shiplog report --format json` writes it ("" when it has no value).
        var value: String
        var level: String?
        var levelText: String
        var text: String
        var detail: String?
        var explainURL: String
        var trend: Sparkline
    }

    /// The windows the report offers; another valid window asked for in the URL is added.
    static let offeredWindows = Window.exported

    /// The DORA report for one environment and window: per service, the five figures with
    /// their levels, each linked to its explanation, with a trend over the window.
    public func reportPage(projection: Projection, environment: String, window: Window, now: Int64, signedIn: Bool) -> String {
        var environments = environmentNames(projection)
        if !environments.contains(environment) { environments.append(environment) }
        var windows = Self.offeredWindows
        if !windows.contains(where: { $0.label == window.label }) { windows.append(window) }
        let buckets = Self.trendBuckets(window)
        let rows = projection.report(environment: environment, window: window, now: now)
        let view = ReportView(
            environmentOptions: environments.map { OptionView($0, selected: $0 == environment) },
            windowOptions: windows.map { OptionView($0.label, label: "last \($0.label)", selected: $0.label == window.label) },
            environment: environment,
            windowLabel: window.label,
            readAt: TimeView(now),
            buckets: buckets,
            empty: rows.isEmpty,
            services: rows.enumerated().map { index, row in
                let trend = projection.pair(row.service, environment)?.trend(window: window, now: now, buckets: buckets) ?? []
                return ServiceReport(service: row.service, anchor: String(index), figures: figures(row, trend: trend))
            }
        )
        return page("DORA report", section: .report, signedIn: signedIn, main: Templates.render("report", view))
    }

    /// 7d → 7 days, 30d → 10 spans of 3 days, 90d → 13 weeks; others in 10 spans.
    static func trendBuckets(_ window: Window) -> Int {
        switch window.seconds {
        case 7 * 86_400: 7
        case 90 * 86_400: 13
        default: 10
        }
    }

    func figures(_ row: DORAReportRow, trend: [WindowFigures]) -> [FigureView] {
        let f = row.figures
        let explain =
            "/api/v1/explain"
            + Query.string([("service", row.service), ("environment", row.environment), ("window", row.window.label)])
        func number(_ d: Double) -> String { d.isNaN ? "" : ExpositionWriter.format(d) }
        func ratio(_ part: Int, _ whole: Int) -> Double { whole == 0 ? .nan : Double(part) / Double(whole) }
        func levelText(_ level: PerformanceLevel?) -> String { level.map { $0.rawValue.prefix(1).uppercased() + $0.rawValue.dropFirst() } ?? "" }
        func samples(_ n: Int) -> String { n == 1 ? "1 sample" : "\(n) samples" }
        return [
            FigureView(
                key: "deploymentFrequency",
                name: "Deployment frequency",
                value: number(row.deploymentsPerDay),
                level: row.frequencyLevel?.rawValue,
                levelText: levelText(row.frequencyLevel),
                text: Formatting.frequency(perDay: row.deploymentsPerDay),
                detail: f.deployments == 1 ? "1 deployment" : "\(f.deployments) deployments",
                explainURL: explain,
                trend: Sparkline(trend.map { Double($0.deployments) }, label: "Deployments per span")
            ),
            FigureView(
                key: "leadTime",
                name: "Lead time for changes",
                value: number(f.leadTimeMedian),
                level: row.leadTimeLevel?.rawValue,
                levelText: levelText(row.leadTimeLevel),
                text: Formatting.duration(f.leadTimeMedian),
                detail: "median of " + samples(f.leadTimeSamples),
                explainURL: explain,
                trend: Sparkline(trend.map(\.leadTimeMedian), label: "Median lead time per span, in seconds")
            ),
            FigureView(
                key: "changeFailure",
                name: "Change failure rate",
                value: number(f.changeFailureRatio),
                level: row.failureLevel?.rawValue,
                levelText: levelText(row.failureLevel),
                text: Formatting.percent(f.changeFailureRatio),
                detail: "\(f.failures) of \(f.deployments) failed",
                explainURL: explain,
                trend: Sparkline(trend.map { ratio($0.failures, $0.deployments) }, label: "Change failure ratio per span")
            ),
            FigureView(
                key: "timeToRestore",
                name: "Time to restore",
                value: number(f.timeToRestoreMedian),
                level: row.restoreLevel?.rawValue,
                levelText: levelText(row.restoreLevel),
                text: Formatting.duration(f.timeToRestoreMedian),
                detail: "median of " + samples(f.restoreSamples),
                explainURL: explain,
                trend: Sparkline(trend.map(\.timeToRestoreMedian), label: "Median time to restore per span, in seconds")
            ),
            FigureView(
                key: "rework",
                name: "Rework rate",
                value: number(f.reworkRatio),
                level: nil,
                levelText: "",
                text: Formatting.percent(f.reworkRatio),
                detail: "\(f.rework) of \(f.deployments) unplanned",
                explainURL: explain,
                trend: Sparkline(trend.map { ratio($0.rework, $0.deployments) }, label: "Rework ratio per span")
            ),
        ]
    }
}

/// A small line chart as inline SVG (the `sparkline` template): no script, no download.
struct Sparkline {
    static let width = 120.0
    static let height = 28.0
    static let pad = 3.0

    struct Dot {
        var x: String
        var y: String
    }
    struct Baseline {
        var x1: String
        var x2: String
        var y: String
    }

    /// What a reader of the page hears: the label and every value, oldest first.
    var description: String
    var dots: [Dot] = []
    /// Each run of values without a gap, as a polyline's points.
    var lines: [String] = []
    var baseline: Baseline?

    /// One value per span, oldest first; NaN where a span has none (the line breaks there).
    init(_ values: [Double], label: String) {
        description =
            label + ", oldest first: "
            + values.map { $0.isFinite ? ExpositionWriter.format(($0 * 100).rounded() / 100) : "none" }.joined(separator: ", ")
        guard let top = values.filter(\.isFinite).max() else {
            baseline = Baseline(x1: Self.coordinate(Self.pad), x2: Self.coordinate(Self.width - Self.pad), y: Self.coordinate(Self.height - Self.pad))
            return
        }
        let scale = top > 0 ? (Self.height - 2 * Self.pad) / top : 0
        let step = values.count > 1 ? (Self.width - 2 * Self.pad) / Double(values.count - 1) : 0
        var run: [(x: String, y: String)] = []
        func flush() {
            if run.count == 1 {
                dots.append(Dot(x: run[0].x, y: run[0].y))
            } else if run.count > 1 {
                lines.append(run.map { "\($0.x),\($0.y)" }.joined(separator: " "))
            }
            run = []
        }
        for (i, v) in values.enumerated() {
            if v.isFinite {
                run.append((Self.coordinate(Self.pad + Double(i) * step), Self.coordinate(Self.height - Self.pad - v * scale)))
            } else {
                flush()
            }
        }
        flush()
    }

    static func coordinate(_ v: Double) -> String {
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }
}

extension Sparkline: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "width": Int(Self.width)
        case "height": Int(Self.height)
        case "description": description
        case "dots": dots
        case "lines": lines
        case "baseline": baseline
        default: nil
        }
    }
}

extension Sparkline.Dot: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "x": x
        case "y": y
        default: nil
        }
    }
}

extension Sparkline.Baseline: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "x1": x1
        case "x2": x2
        case "y": y
        default: nil
        }
    }
}

// Lookups without reflection, as for the board: a report has five figures per service.

extension WebView.ServiceReport: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "service": service
        case "anchor": anchor
        case "figures": figures
        default: nil
        }
    }
}

extension WebView.FigureView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "key": key
        case "name": self.name
        case "value": value
        case "level": level
        case "levelText": levelText
        case "text": text
        case "detail": detail
        case "explainURL": explainURL
        case "trend": trend
        default: nil
        }
    }
}
