/// Renders the DORA and promotion families of PRODUCT.md §3 from the projection.
///
/// Each pair's sample lines are rendered once and cached until the pair changes (or, for the
/// window gauges, until a sample leaves a window), so a scrape mostly concatenates cached
/// text: its cost follows the number of series, not the number of events.
enum MetricsRenderer {
    struct Family {
        var name: String
        var type: MetricType
        var help: String
        var unit: String?
    }

    /// Families whose lines change only when the pair's events do.
    static let staticFamilies: [Family] = [
        Family(name: "shiplog_deployments_total", type: .counter, help: "Deployments (succeeded, failed or rolled back)."),
        Family(
            name: "shiplog_deployment_failures_total",
            type: .counter,
            help: "Deployments that failed: a failed rollout, a live deployment rolled back, or one during whose life an incident opened."
        ),
        Family(name: "shiplog_rollbacks_total", type: .counter, help: "Rollbacks performed."),
        Family(name: "shiplog_rework_deployments_total", type: .counter, help: "Unplanned deployments: hotfixes, rollbacks and deployments made while an incident was open."),
        Family(
            name: "shiplog_unverified_promotions_total",
            type: .counter,
            help: "Artifacts that reached this environment without having succeeded in the previous pipeline environment."
        ),
        Family(
            name: "shiplog_deployments_without_lead_time_total",
            type: .counter,
            help: "Successful deployments none of whose changes has a known commit time."
        ),
        Family(name: "shiplog_incidents_total", type: .counter, help: "Incidents opened (distinct incident ids)."),
        Family(
            name: "shiplog_lead_time_seconds",
            type: .histogram,
            help: "Time from commit to its first successful deployment in this environment.",
            unit: "seconds"
        ),
        Family(
            name: "shiplog_time_to_restore_seconds",
            type: .histogram,
            help: "Length of failure episodes (degraded until healthy again).",
            unit: "seconds"
        ),
        Family(
            name: "shiplog_promotion_duration_seconds",
            type: .histogram,
            help: "Time from an artifact's first success in the previous environment to its first success in this one.",
            unit: "seconds"
        ),
        Family(name: "shiplog_deployed_version_info", type: .gauge, help: "The live version (latest succeeded or rolled-back deployment); always 1."),
        Family(
            name: "shiplog_last_deployment_timestamp_seconds",
            type: .gauge,
            help:
                "Unix time of the latest deployment, with the Kubernetes namespace and deployment most recently named for this service and environment.",
            unit: "seconds"
        ),
        Family(
            name: "shiplog_last_rollback_timestamp_seconds",
            type: .gauge,
            help: "Unix time of the latest rollback here (0 without one); for annotations at their exact time.",
            unit: "seconds"
        ),
        Family(
            name: "shiplog_last_failed_deployment_timestamp_seconds",
            type: .gauge,
            help: "Unix time of the latest deployment counted as failed here (0 without one); for annotations at their exact time.",
            unit: "seconds"
        ),
        Family(name: "shiplog_degraded", type: .gauge, help: "1 while an incident is open here or the latest deployment attempt failed."),
        Family(name: "shiplog_open_incidents", type: .gauge, help: "Incidents opened and not yet resolved."),
    ]

    static let pendingFamily = Family(
        name: "shiplog_promotion_pending_seconds",
        type: .gauge,
        help: "How long the artifact live in the previous pipeline environment has waited to reach this one (0 once it has).",
        unit: "seconds"
    )

    /// Families computed over the trailing windows.
    static let windowFamilies: [Family] = [
        Family(name: "shiplog_window_deployments", type: .gauge, help: "Deployments in the trailing window."),
        Family(
            name: "shiplog_window_change_failure_ratio",
            type: .gauge,
            help: "Failed deployments / deployments in the trailing window (0 without deployments)."
        ),
        Family(
            name: "shiplog_window_lead_time_median_seconds",
            type: .gauge,
            help: "Median lead time of deployments in the trailing window (NaN without samples).",
            unit: "seconds"
        ),
        Family(
            name: "shiplog_window_time_to_restore_median_seconds",
            type: .gauge,
            help: "Median time to restore of episodes that ended in the trailing window (NaN without samples).",
            unit: "seconds"
        ),
        Family(
            name: "shiplog_window_rework_ratio",
            type: .gauge,
            help: "Rework deployments (hotfixes, rollbacks, deployments made while an incident was open) / deployments in the trailing window."
        ),
    ]

    static func renderDORA(_ projection: inout Projection, into w: inout ExpositionWriter, now: Int64) {
        projection.sortKeys()
        let keys = projection.sortedKeys
        var staticChunks: [[String]] = []
        var windowChunks: [[String]] = []
        staticChunks.reserveCapacity(keys.count)
        windowChunks.reserveCapacity(keys.count)
        for key in keys {
            let (s, wd) = projection.withPair(key) { p -> ([String], [String]) in
                if p.renderedStatic == nil { p.renderedStatic = renderStatic(p) }
                let figures = p.exportedFigures(now: now)
                if p.renderedWindows == nil { p.renderedWindows = renderWindows(figures, labels: p.labelText) }
                return (p.renderedStatic!, p.renderedWindows!)
            }
            staticChunks.append(s)
            windowChunks.append(wd)
        }
        for (f, family) in staticFamilies.enumerated() {
            w.family(family.name, family.type, help: family.help, unit: family.unit)
            for chunks in staticChunks { w.append(chunks[f]) }
        }
        w.family(pendingFamily.name, pendingFamily.type, help: pendingFamily.help, unit: pendingFamily.unit)
        for key in keys where projection.pipeline.previous(key.environment) != nil {
            w.sample(pendingFamily.name, projection.pairs[key]!.labelText, projection.pending(key, now: now)?.seconds ?? 0)
        }
        for (f, family) in windowFamilies.enumerated() {
            w.family(family.name, family.type, help: family.help, unit: family.unit)
            for chunks in windowChunks { w.append(chunks[f]) }
        }
    }

    /// One pair's lines of each static family.
    static func renderStatic(_ p: PairState) -> [String] {
        let labels = p.labelText
        var chunks: [String] = []
        chunks.reserveCapacity(staticFamilies.count)
        func lines(_ body: (inout ExpositionWriter) -> Void) {
            var w = ExpositionWriter(format: .text, reserve: 128)
            body(&w)
            chunks.append(w.output)
        }
        let counters = [p.deployments, p.failures, p.rollbacks, p.rework, p.unverifiedPromotions, p.withoutLeadTime, p.incidents]
        for (i, value) in counters.enumerated() {
            lines { $0.sample(staticFamilies[i].name, labels, value) }
        }
        for (i, h) in [p.leadTimeHistogram, p.restoreHistogram, p.promotionHistogram].enumerated() {
            lines { $0.histogram(staticFamilies[7 + i].name, labels, bounds: h.bounds, cumulative: h.cumulative, sum: h.sum, count: h.count) }
        }
        lines { w in
            if p.liveIndex != nil {
                w.sample(
                    "shiplog_deployed_version_info",
                    labels + ",version=\"" + ExpositionWriter.escapeLabel(p.liveVersion ?? p.liveArtifact ?? "") + "\"",
                    1
                )
            }
        }
        lines { w in
            let k8s =
                ",namespace=\"" + ExpositionWriter.escapeLabel(p.namespace ?? "") + "\",deployment=\""
                + ExpositionWriter.escapeLabel(p.workload ?? "") + "\""
            w.sample("shiplog_last_deployment_timestamp_seconds", labels + k8s, Double(p.lastDeploymentTime ?? 0) / 1e9)
        }
        lines { $0.sample("shiplog_last_rollback_timestamp_seconds", labels, Double(p.lastRollbackTime ?? 0) / 1e9) }
        lines { $0.sample("shiplog_last_failed_deployment_timestamp_seconds", labels, Double(p.lastFailedDeploymentTime ?? 0) / 1e9) }
        lines { $0.sample("shiplog_degraded", labels, p.isDegraded ? 1 : 0) }
        lines { $0.sample("shiplog_open_incidents", labels, p.openIncidents.count) }
        return chunks
    }

    static let windowLabels = Window.exported.map { ",window=\"\($0.label)\"" }

    /// One pair's lines of each window family.
    static func renderWindows(_ figures: [WindowFigures], labels: String) -> [String] {
        let values: [(WindowFigures) -> Double] = [
            { Double($0.deployments) }, { $0.changeFailureRatio }, { $0.leadTimeMedian }, { $0.timeToRestoreMedian }, { $0.reworkRatio },
        ]
        return windowFamilies.indices.map { f in
            var w = ExpositionWriter(format: .text, reserve: 256)
            for (j, fig) in figures.enumerated() { w.sample(windowFamilies[f].name, labels + windowLabels[j], values[f](fig)) }
            return w.output
        }
    }
}
