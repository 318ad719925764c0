/// Renders the DORA and promotion families of PRODUCT.md §3 from the projection.
enum MetricsRenderer {
    static func renderDORA(_ projection: inout Projection, into w: inout ExpositionWriter, now: Int64) {
        let keys = projection.sortedKeys
        let labels = keys.map { ExpositionWriter.labels(["service": $0.service, "environment": $0.environment]) }

        func counter(_ name: String, _ help: String, _ value: (PairState) -> Int) {
            w.family(name, .counter, help: help)
            for (i, key) in keys.enumerated() { w.sample(name, labels[i], value(projection.pairs[key]!)) }
        }
        counter("shiplog_deployments_total", "Deployments (succeeded, failed or rolled back).") { $0.deployments }
        counter("shiplog_deployment_failures_total", "Deployments that failed: a failed rollout, a live deployment rolled back, or one during whose life an incident opened.") { $0.failures }
        counter("shiplog_rollbacks_total", "Rollbacks performed.") { $0.rollbacks }
        counter("shiplog_rework_deployments_total", "Unplanned deployments: hotfixes and rollbacks.") { $0.rework }
        counter("shiplog_unverified_promotions_total", "Artifacts that reached this environment without having succeeded in the previous pipeline environment.") { $0.unverifiedPromotions }
        counter("shiplog_deployments_without_lead_time_total", "Successful deployments none of whose changes has a known commit time.") { $0.withoutLeadTime }
        counter("shiplog_incidents_total", "Incidents opened (distinct incident ids).") { $0.incidents }

        func histogram(_ name: String, _ help: String, _ h: (PairState) -> Histogram) {
            w.family(name, .histogram, help: help, unit: "seconds")
            for (i, key) in keys.enumerated() {
                let hist = h(projection.pairs[key]!)
                w.histogram(name, labels[i], bounds: hist.bounds, cumulative: hist.cumulative, sum: hist.sum, count: hist.count)
            }
        }
        histogram("shiplog_lead_time_seconds", "Time from commit to its first successful deployment in this environment.") { $0.leadTimeHistogram }
        histogram("shiplog_time_to_restore_seconds", "Length of failure episodes (degraded until healthy again).") { $0.restoreHistogram }
        histogram("shiplog_promotion_duration_seconds", "Time from an artifact's first success in the previous environment to its first success in this one.") { $0.promotionHistogram }

        w.family("shiplog_deployed_version_info", .gauge, help: "The live version (latest succeeded or rolled-back deployment); always 1.")
        for (i, key) in keys.enumerated() {
            let p = projection.pairs[key]!
            guard p.liveIndex != nil else { continue }
            w.sample("shiplog_deployed_version_info", labels[i] + ",version=\"" + ExpositionWriter.escapeLabel(p.liveVersion ?? p.liveArtifact ?? "") + "\"", 1)
        }
        w.family("shiplog_last_deployment_timestamp_seconds", .gauge, help: "Unix time of the latest deployment, with the Kubernetes namespace and deployment most recently named for this service and environment.", unit: "seconds")
        for (i, key) in keys.enumerated() {
            let p = projection.pairs[key]!
            let k8s = ",namespace=\"" + ExpositionWriter.escapeLabel(p.namespace ?? "") + "\",deployment=\"" + ExpositionWriter.escapeLabel(p.workload ?? "") + "\""
            w.sample("shiplog_last_deployment_timestamp_seconds", labels[i] + k8s, Double(p.lastDeploymentTime ?? 0) / 1e9)
        }
        w.family("shiplog_degraded", .gauge, help: "1 while an incident is open here or the latest deployment attempt failed.")
        for (i, key) in keys.enumerated() { w.sample("shiplog_degraded", labels[i], projection.pairs[key]!.isDegraded ? 1 : 0) }
        w.family("shiplog_open_incidents", .gauge, help: "Incidents opened and not yet resolved.")
        for (i, key) in keys.enumerated() { w.sample("shiplog_open_incidents", labels[i], projection.pairs[key]!.openIncidents.count) }
        w.family("shiplog_promotion_pending_seconds", .gauge, help: "How long the artifact live in the previous pipeline environment has waited to reach this one (0 once it has).", unit: "seconds")
        for (i, key) in keys.enumerated() where projection.pipeline.previous(key.environment) != nil {
            w.sample("shiplog_promotion_pending_seconds", labels[i], projection.pending(key, now: now)?.seconds ?? 0)
        }

        var figures: [[WindowFigures]] = []
        figures.reserveCapacity(keys.count)
        for key in keys { figures.append(projection.withPair(key) { $0.exportedFigures(now: now) }) }
        let windowLabels = Window.exported.map { ",window=\"\($0.label)\"" }
        func windowGauge(_ name: String, _ help: String, unit: String? = nil, _ value: (WindowFigures) -> Double) {
            w.family(name, .gauge, help: help, unit: unit)
            for i in keys.indices {
                for (j, f) in figures[i].enumerated() { w.sample(name, labels[i] + windowLabels[j], value(f)) }
            }
        }
        windowGauge("shiplog_window_deployments", "Deployments in the trailing window.") { Double($0.deployments) }
        windowGauge("shiplog_window_change_failure_ratio", "Failed deployments / deployments in the trailing window (0 without deployments).") { $0.changeFailureRatio }
        windowGauge("shiplog_window_lead_time_median_seconds", "Median lead time of deployments in the trailing window (NaN without samples).", unit: "seconds") { $0.leadTimeMedian }
        windowGauge("shiplog_window_time_to_restore_median_seconds", "Median time to restore of episodes that ended in the trailing window (NaN without samples).", unit: "seconds") { $0.timeToRestoreMedian }
        windowGauge("shiplog_window_rework_ratio", "Rework (hotfix and rollback) deployments / deployments in the trailing window.") { $0.reworkRatio }
    }
}
