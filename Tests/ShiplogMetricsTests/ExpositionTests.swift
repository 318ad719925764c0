import ShiplogModel
import ShiplogTestSupport
import Testing

@testable import ShiplogMetrics

@Suite struct ExpositionTests {
    @Test func labelValuesAreEscaped() {
        #expect(ExpositionWriter.escapeLabel(#"a"b\c"# + "\nd") == #"a\"b\\c\nd"#)
        #expect(ExpositionWriter.labels(["service": "x", "version": "1\"2"]) == #"service="x",version="1\"2""#)
    }

    @Test func numbers() {
        #expect(ExpositionWriter.format(60) == "60.0")
        #expect(ExpositionWriter.format(0.25) == "0.25")
        #expect(ExpositionWriter.format(.nan) == "NaN")
        #expect(ExpositionWriter.format(.infinity) == "+Inf")
    }

    @Test func acceptHeaderPicksTheFormat() {
        #expect(ExpositionFormat(accept: nil) == .text)
        #expect(ExpositionFormat(accept: "text/plain;version=0.0.4") == .text)
        #expect(ExpositionFormat(accept: "application/openmetrics-text;version=1.0.0,text/plain;q=0.5") == .openMetrics)
    }

    func exposition(_ format: ExpositionFormat) async throws -> String {
        var h = History()
        h.succeeded(0, env: "dev", version: "1.0", commit: "c1", commitTime: -30)
        h.add(.deploymentSucceeded, 10, env: "production") {
            $0.version = "1.0"
            $0.namespace = "shop"
            $0.workload = "api-server"
        }
        let (metrics, _, _) = try await ingest(h.events)
        return metrics.render(format: format, now: at(20).nanoseconds)
    }

    @Test func textFormatExactFamilies() async throws {
        let text = try await exposition(.text)
        #expect(
            text.contains(
                """
                # HELP shiplog_deployments_total Deployments (succeeded, failed or rolled back).
                # TYPE shiplog_deployments_total counter
                shiplog_deployments_total{service="api",environment="dev"} 1
                shiplog_deployments_total{service="api",environment="production"} 1
                shiplog_deployments_total{service="api",environment="staging"} 0

                """
            )
        )
        #expect(
            text.contains(
                """
                shiplog_lead_time_seconds_bucket{service="api",environment="dev",le="900.0"} 0
                shiplog_lead_time_seconds_bucket{service="api",environment="dev",le="1800.0"} 1
                """
            )
        )
        #expect(
            text.contains(
                """
                shiplog_lead_time_seconds_bucket{service="api",environment="dev",le="+Inf"} 1
                shiplog_lead_time_seconds_sum{service="api",environment="dev"} 1800.0
                shiplog_lead_time_seconds_count{service="api",environment="dev"} 1
                """
            )
        )
        #expect(
            text.contains(
                """
                # TYPE shiplog_deployed_version_info gauge
                shiplog_deployed_version_info{service="api",environment="dev",version="1.0"} 1
                shiplog_deployed_version_info{service="api",environment="production",version="1.0"} 1
                # HELP
                """
            )
        )
        #expect(
            text.contains(
                #"shiplog_last_deployment_timestamp_seconds{service="api",environment="production",namespace="shop",deployment="api-server"} 1767226200.0"#
            )
        )
        #expect(text.contains(#"shiplog_last_deployment_timestamp_seconds{service="api",environment="staging",namespace="",deployment=""} 0.0"#))
        // 1.0 is live in dev since minute 0 and never reached staging: 20 minutes.
        #expect(text.contains(#"shiplog_promotion_pending_seconds{service="api",environment="staging"} 1200.0"#))
        #expect(text.contains(#"shiplog_unverified_promotions_total{service="api",environment="production"} 1"#))
        #expect(text.contains(#"shiplog_window_lead_time_median_seconds{service="api",environment="staging",window="7d"} NaN"#))
        #expect(text.contains(#"shiplog_window_deployments{service="api",environment="dev",window="30d"} 1.0"#))
        #expect(!text.contains("# EOF"))
        #expect(!text.contains("# UNIT"))
        // Every family has HELP and TYPE, and samples carry no timestamps.
        let lines = text.split(separator: "\n")
        for line in lines where !line.hasPrefix("#") {
            #expect(line.split(separator: " ").count == 2, "\(line)")
        }
        let helps = lines.filter { $0.hasPrefix("# HELP") }.count
        let types = lines.filter { $0.hasPrefix("# TYPE") }.count
        #expect(helps == types)
        #expect(helps >= 25)
    }

    @Test func openMetricsFormat() async throws {
        let text = try await exposition(.openMetrics)
        #expect(text.hasSuffix("# EOF\n"))
        #expect(
            text.contains(
                """
                # HELP shiplog_deployments Deployments (succeeded, failed or rolled back).
                # TYPE shiplog_deployments counter
                shiplog_deployments_total{service="api",environment="dev"} 1
                """
            )
        )
        #expect(
            text.contains(
                """
                # TYPE shiplog_lead_time_seconds histogram
                # UNIT shiplog_lead_time_seconds seconds
                """
            )
        )
    }
}
