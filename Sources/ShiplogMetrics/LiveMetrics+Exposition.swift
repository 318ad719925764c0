import ShiplogModel
import ShiplogStore

/// The scrape: the DORA and promotion families, then shiplog's self-metrics.
extension LiveMetrics {
    struct Counters: Sendable {
        var ingested: [String: Int] = [:]
        var requests: [String: Histogram] = [:]
        var verification: (intact: Bool, at: Timestamp)?
        var feedFailures = 0
    }

    public func countIngest(source: SourceFormat, outcome: IngestOutcome, count: Int = 1) {
        guard count > 0 else { return }
        let key = "\(source.rawValue)|\(outcome.rawValue)"
        counters.withLock { $0.ingested[key, default: 0] += count }
    }

    public func observeRequest(method: String, route: String, code: Int, seconds: Double) {
        let key = "\(route)|\(method)|\(code)"
        counters.withLock { c in
            c.requests[key, default: Histogram(bounds: Histogram.requestBounds)].record(seconds)
        }
    }

    /// Records the outcome of a check of the hash chain and the append-only schema.
    public func recordVerification(_ report: VerifyReport, at time: Timestamp = .now()) {
        counters.withLock { $0.verification = (report.isIntact, time) }
    }

    /// The exposition for one scrape. Its cost depends on the number of pairs, not events.
    /// It waits for the projection's lock: call it off the cooperative threads (`offloaded`).
    public func render(format: ExpositionFormat, now: Int64 = Timestamp.now().nanoseconds) -> String {
        var (w, projected) = state.withLock { s in
            var w = ExpositionWriter(format: format, reserve: 2048 + s.projection.pairs.count * 6000)
            MetricsRenderer.renderDORA(&s.projection, into: &w, now: now)
            return (
                w,
                Projected(
                    lastSequence: s.projection.lastSequence,
                    snapshotSequence: s.snapshotSequence,
                    recomputations: s.projection.recomputations,
                    pairs: s.projection.pairs.count
                )
            )
        }
        renderSelf(projected, counters.withLock { $0 }, limit: budget.withLock { $0.limit }, into: &w)
        w.finish()
        return w.output
    }

    /// What the self-metrics read from the projection's state.
    private struct Projected {
        var lastSequence: Int64
        var snapshotSequence: Int64
        var recomputations: Int
        var pairs: Int
    }

    private func renderSelf(_ s: Projected, _ c: Counters, limit: Int?, into w: inout ExpositionWriter) {
        w.family("shiplog_build_info", .gauge, help: "shiplog's version; always 1.")
        w.sample("shiplog_build_info", ExpositionWriter.labels(["version": version]), 1)
        w.family(
            "shiplog_events_ingested_total",
            .counter,
            help: "Events received, by source format and outcome (created, duplicate, rejected, conflict, skipped)."
        )
        for source in SourceFormat.allCases {
            for outcome in IngestOutcome.allCases {
                w.sample(
                    "shiplog_events_ingested_total",
                    ExpositionWriter.labels(["source": source.rawValue, "outcome": outcome.rawValue]),
                    c.ingested["\(source.rawValue)|\(outcome.rawValue)"] ?? 0
                )
            }
        }
        w.family("shiplog_event_log_last_sequence", .gauge, help: "Sequence number of the newest event in the log.")
        w.sample("shiplog_event_log_last_sequence", "", Int(s.lastSequence))
        if let v = c.verification {
            w.family(
                "shiplog_event_log_verified",
                .gauge,
                help: "1 when the latest check of the hash chain and the append-only schema passed, 0 when it found a problem (run shiplog verify)."
            )
            w.sample("shiplog_event_log_verified", "", v.intact ? 1 : 0)
            w.family(
                "shiplog_event_log_last_verification_timestamp_seconds",
                .gauge,
                help: "When the event log was last checked (Unix time).",
                unit: "seconds"
            )
            w.sample("shiplog_event_log_last_verification_timestamp_seconds", "", v.at.seconds)
        }
        w.family(
            "shiplog_projection_snapshot_sequence",
            .gauge,
            help: "Newest row the saved (or loaded) metrics snapshot covers; 0 without one. A restart applies only the rows after it."
        )
        w.sample("shiplog_projection_snapshot_sequence", "", Int(s.snapshotSequence))
        w.family("shiplog_pairs", .gauge, help: "(service, environment) pairs the metrics have series for.")
        w.sample("shiplog_pairs", "", s.pairs)
        if let limit {
            w.family(
                "shiplog_pairs_limit",
                .gauge,
                help: "The most pairs events over HTTP may create (--max-pairs); beyond it they are refused with 422."
            )
            w.sample("shiplog_pairs_limit", "", limit)
        }
        w.family("shiplog_projection_recomputations_total", .counter, help: "Pairs recomputed from the log because an event arrived late.")
        w.sample("shiplog_projection_recomputations_total", "", s.recomputations)
        w.family(
            "shiplog_projection_feed_failures_total",
            .counter,
            help: "Times the metrics could not read or apply the log's next rows (retried a second later; the figures wait meanwhile)."
        )
        w.sample("shiplog_projection_feed_failures_total", "", c.feedFailures)
        w.family(
            "shiplog_http_request_duration_seconds",
            .histogram,
            help: "HTTP request durations by route, method and status code.",
            unit: "seconds"
        )
        for key in c.requests.keys.sorted() {
            let h = c.requests[key]!
            let parts = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            w.histogram(
                "shiplog_http_request_duration_seconds",
                ExpositionWriter.labels(["route": parts[0], "method": parts[1], "code": parts[2]]),
                bounds: h.bounds,
                cumulative: h.cumulative,
                sum: h.sum,
                count: h.count
            )
        }
    }
}
