import Foundation
import ShiplogModel
import ShiplogTestSupport
import Testing

/// `Alerts/` and `Dashboards/`: conventions, promtool, and a real Prometheus scraping shiplog.
@Suite struct ObservabilityTests {
    let dir = TemporaryDirectory()
    static let ruleFiles = ["Alerts/shiplog.rules.yaml", "Alerts/shiplog.alerts.yaml"]
    static let dashboards = ["Dashboards/dora-overview.json": "shiplog-dora", "Dashboards/promotion-flow.json": "shiplog-promotions"]

    func path(_ p: String) -> String { Files.repository.appendingPathComponent(p).path }

    func rules() throws -> [JSONValue] {
        try Self.ruleFiles.flatMap { file in
            try yamlDocuments(path(file)).flatMap { $0["groups"]?.arrayValue ?? [] }.flatMap { $0["rules"]?.arrayValue ?? [] }
        }
    }

    // MARK: Alerts

    @Test func rulesPassPromtoolLintAndUnitTests() throws {
        let check = try runTool(["promtool", "check", "rules", "--lint=all", "--lint-fatal"] + Self.ruleFiles.map(path))
        #expect(check.status == 0, "\(check.stdout)")
        #expect(!check.stdout.contains("WARNING") && !check.stdout.contains("FAILED"), "\(check.stdout)")
        let tests = try runTool(["promtool", "test", "rules", path("Alerts/tests/shiplog.test.yaml")])
        #expect(tests.status == 0, "\(tests.stdout)")
        #expect(tests.stdout.contains("SUCCESS"))
    }

    @Test func everyAlertFollowsTheConventionsAndIsTested() throws {
        let runbook = try Files.repositoryFile("docs/runbook.md")
        let unitTests = try Files.repositoryFile("Alerts/tests/shiplog.test.yaml")
        let alerts = try rules().filter { $0["alert"] != nil }
        #expect(alerts.count >= 10)
        for alert in alerts {
            let name = try #require(alert["alert"]?.stringValue)
            #expect(name.hasPrefix("Shiplog"), "\(name)")
            #expect(["critical", "warning", "info"].contains(alert["labels"]?["severity"]?.stringValue ?? ""), "\(name): severity")
            #expect(alert["for"]?.stringValue != nil, "\(name): for")
            for key in ["summary", "description", "runbook_url"] {
                #expect(alert["annotations"]?[key]?.stringValue?.isEmpty == false, "\(name): \(key)")
            }
            #expect(alert["annotations"]?["description"]?.stringValue?.contains("{{") == true, "\(name): the description is templated")
            let url = alert["annotations"]?["runbook_url"]?.stringValue ?? ""
            #expect(url.hasSuffix("docs/runbook.md#" + name.lowercased()), "\(name): \(url)")
            #expect(runbook.contains("\n## \(name)\n"), "\(name): a runbook section")
            #expect(unitTests.contains("alertname: \(name)\n"), "\(name): promtool unit tests")
        }
        let records = try rules().compactMap { $0["record"]?.stringValue }
        #expect(records.count >= 8)
        for record in records {
            #expect(record.split(separator: ":").count == 3, "\(record): level:metric:operations")
        }
    }

    // MARK: Dashboards

    /// Every PromQL expression of a dashboard (panels, annotations), as written.
    func expressions(_ dashboard: JSONValue) -> [String] {
        var out: [String] = []
        func walk(_ panels: [JSONValue]) {
            for p in panels {
                out += (p["targets"]?.arrayValue ?? []).compactMap { $0["expr"]?.stringValue }
                walk(p["panels"]?.arrayValue ?? [])
            }
        }
        walk(dashboard["panels"]?.arrayValue ?? [])
        out += (dashboard["annotations"]?["list"]?.arrayValue ?? []).compactMap { $0["expr"]?.stringValue }
        return out
    }

    /// A query's samples as (labels, value), in label order.
    func sortedSamples(_ result: [JSONValue]) -> [(String, Double)] {
        result.map { sample -> (String, Double) in
            let labels = (sample["metric"]?.objectMembers ?? []).map { "\($0.0)=\($0.1)" }.sorted().joined(separator: ",")
            return (labels, sample["value"]?.arrayValue?.last?.stringValue.flatMap(Double.init) ?? .nan)
        }
        .sorted { $0.0 < $1.0 }
    }

    /// Grafana's variables replaced by values a query could have.
    func substituted(_ expr: String, service: String = "checkout", environment: String = "production") -> String {
        expr.replacingOccurrences(of: "$__rate_interval", with: "1m")
            .replacingOccurrences(of: "$__interval", with: "1m")
            .replacingOccurrences(of: "$__range", with: "1h")
            .replacingOccurrences(of: "${window}", with: "30")
            .replacingOccurrences(of: "$window", with: "30")
            .replacingOccurrences(of: "$service", with: service)
            .replacingOccurrences(of: "$environment", with: environment)
    }

    func dashboard(_ file: String) throws -> JSONValue {
        try JSONValue.parse(try Files.repositoryFile(file))
    }

    @Test func dashboardsFollowTheRules() throws {
        var exprs: [String] = []
        for (file, uid) in Self.dashboards {
            let d = try dashboard(file)
            #expect(d["uid"] == .string(uid), "\(file): a stable uid")
            #expect(d["editable"] == .bool(false), "\(file)")
            let variables = d["templating"]?["list"]?.arrayValue ?? []
            let datasource = variables.first { $0["name"] == .string("datasource") }
            #expect(datasource?["type"] == .string("datasource") && datasource?["query"] == .string("prometheus"), "\(file): ${datasource}")
            for name in ["service", "environment"] {
                #expect(variables.contains { $0["name"] == .string(name) }, "\(file): $\(name)")
            }
            var panels: [JSONValue] = []
            func walk(_ list: [JSONValue]) {
                for p in list {
                    if p["type"] == .string("row") { walk(p["panels"]?.arrayValue ?? []) } else { panels.append(p) }
                }
            }
            walk(d["panels"]?.arrayValue ?? [])
            #expect(panels.count >= 8, "\(file)")
            for p in panels {
                let title = p["title"]?.stringValue ?? "?"
                #expect(p["description"]?.stringValue?.isEmpty == false, "\(file) \(title): description")
                #expect(p["fieldConfig"]?["defaults"]?["unit"]?.stringValue?.isEmpty == false, "\(file) \(title): unit")
                #expect(p["datasource"]?["uid"] == .string("${datasource}"), "\(file) \(title): datasource")
                let targets = p["targets"]?.arrayValue ?? []
                #expect(!targets.isEmpty, "\(file) \(title): queries")
                for t in targets {
                    #expect(t["datasource"]?["uid"] == .string("${datasource}"), "\(file) \(title): target datasource")
                }
            }
            let annotations = d["annotations"]?["list"]?.arrayValue ?? []
            #expect(
                annotations.contains { $0["name"] == .string("Deployments") && $0["datasource"]?["uid"] == .string("${datasource}") },
                "\(file): deployment annotations"
            )
            exprs += expressions(d)
        }
        // Rates over Grafana's rate interval; increase() over the range or the step.
        let rate = try NSRegularExpression(pattern: #"\b(i?rate)\([^\[]*\[([^\]]+)\]"#)
        for e in exprs {
            for m in rate.matches(in: e, range: NSRange(e.startIndex..., in: e)) {
                #expect(String(e[Range(m.range(at: 2), in: e)!]) == "$__rate_interval", "\(e)")
            }
        }
        // promtool parses every query, written as recording rules.
        var rules = "groups:\n  - name: dashboard-queries\n    rules:\n"
        for (i, e) in exprs.enumerated() {
            let escaped = substituted(e).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            rules += "      - record: dashboard:query_\(i):expr\n        expr: \"\(escaped)\"\n"
        }
        let check = try runTool(["promtool", "check", "rules", dir.write("queries.yaml", rules)])
        #expect(check.status == 0, "\(check.stdout)")
        #expect(check.stdout.contains("SUCCESS: \(exprs.count) rules found"), "\(check.stdout)")
    }

    // MARK: A real Prometheus

    /// Prometheus scrapes shiplog (with a known history) as two replicas, the way it scrapes
    /// several pods on one PostgreSQL database, and a static kube-state-metrics stand-in, with
    /// `Alerts/` as its rules. Every dashboard query and recording rule has data, counts each
    /// figure once whatever the number of replicas, every metric named exists, and a fresh
    /// production deployment with missing replicas makes the correlation alert pending.
    @Test(.timeLimit(.minutes(3)))
    func prometheusEvaluatesTheRulesAndDashboards() async throws {
        let db = dir.path("shiplog.db")
        let day = Timestamp.now().adding(seconds: -3 * 86_400)
        func t(_ hours: Double) -> String { day.adding(seconds: hours * 3600).rfc3339 }
        let history =
            [
                #"{"id":"m1","type":"change.merged","service":"checkout","commit":"c1","time":"\#(t(0))"}"#,
                #"{"id":"h1","type":"deployment.succeeded","service":"checkout","environment":"dev","version":"1.0","commit":"c1","time":"\#(t(1))"}"#,
                #"{"id":"h2","type":"deployment.succeeded","service":"checkout","environment":"staging","version":"1.0","commit":"c1","time":"\#(t(2))"}"#,
                #"{"id":"h3","type":"deployment.succeeded","service":"checkout","environment":"production","version":"1.0","commit":"c1","time":"\#(t(5))","namespace":"shop","workload":"checkout"}"#,
                #"{"id":"h4","type":"incident.opened","service":"checkout","environment":"production","incident":{"id":"I-1"},"time":"\#(t(6))"}"#,
                #"{"id":"h5","type":"incident.resolved","service":"checkout","environment":"production","incident":{"id":"I-1"},"time":"\#(t(7))"}"#,
                #"{"id":"h6","type":"deployment.succeeded","service":"checkout","environment":"dev","version":"1.1","commit":"c2","commitTime":"\#(t(20))","time":"\#(t(21))"}"#,
                #"{"id":"h7","type":"deployment.succeeded","service":"web","environment":"production","version":"3.0","time":"\#(t(22))","hotfix":true,"namespace":"shop","workload":"web"}"#,
                // Backfilled before Prometheus ever scraped: a failure and a rollback in cart's staging.
                #"{"id":"h8","type":"deployment.succeeded","service":"cart","environment":"staging","version":"1","time":"\#(t(30))"}"#,
                #"{"id":"h9","type":"deployment.failed","service":"cart","environment":"staging","version":"2","time":"\#(t(31))"}"#,
                #"{"id":"h10","type":"deployment.succeeded","service":"cart","environment":"staging","version":"2.1","time":"\#(t(32))"}"#,
                #"{"id":"h11","type":"deployment.rolled_back","service":"cart","environment":"staging","version":"1","time":"\#(t(33))"}"#,
            ].joined(separator: "\n") + "\n"
        #expect(try shiplog(["events", "import", "--db", db, "-"], stdin: history).status == 0)
        let server = try ServerProcess(db: db)

        // kube-state-metrics, standing in as a static file: checkout wants 3 replicas, has 1.
        let ksmDir = dir.url.appendingPathComponent("ksm")
        try FileManager.default.createDirectory(at: ksmDir, withIntermediateDirectories: true)
        let ksm = """
            # HELP kube_deployment_spec_replicas Number of desired pods for a deployment.
            # TYPE kube_deployment_spec_replicas gauge
            kube_deployment_spec_replicas{namespace="shop",deployment="checkout"} 3
            kube_deployment_spec_replicas{namespace="shop",deployment="web"} 2
            # HELP kube_deployment_status_replicas_available The number of available replicas per deployment.
            # TYPE kube_deployment_status_replicas_available gauge
            kube_deployment_status_replicas_available{namespace="shop",deployment="checkout"} 1
            kube_deployment_status_replicas_available{namespace="shop",deployment="web"} 2

            """
        try ksm.write(to: ksmDir.appendingPathComponent("metrics"), atomically: true, encoding: .utf8)
        let ksmPort = freeLoopbackPort()
        let ksmServer = try BackgroundProcess(
            ["python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", ksmDir.path, "\(ksmPort)"],
            log: dir.path("ksm.log")
        )

        let promPort = freeLoopbackPort()
        let config = """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
            \(Self.ruleFiles.map { "  - \(path($0))" }.joined(separator: "\n"))
            scrape_configs:
              - job_name: shiplog
                honor_labels: true
                static_configs:
                  - {targets: ["127.0.0.1:\(server.port)"], labels: {instance: shiplog-0, pod: shiplog-0}}
                  - {targets: ["127.0.0.1:\(server.port)"], labels: {instance: shiplog-1, pod: shiplog-1}}
              - job_name: kube-state-metrics
                honor_labels: true
                static_configs: [{targets: ["127.0.0.1:\(ksmPort)"]}]
            """
        let prometheus = try BackgroundProcess(
            [
                "prometheus", "--config.file=\(dir.write("prometheus.yml", config))", "--storage.tsdb.path=\(dir.path("tsdb"))",
                "--web.listen-address=127.0.0.1:\(promPort)", "--web.enable-lifecycle",
            ],
            log: dir.path("prometheus.log")
        )
        let api = "http://127.0.0.1:\(promPort)/api/v1"
        func query(_ q: String, at time: Double? = nil) async throws -> [JSONValue] {
            let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let r = try await http("GET", "\(api)/query?query=\(encoded)" + (time.map { "&time=\($0)" } ?? ""))
            #expect(r.body["status"] == .string("success"), "\(q): \(r.text)")
            return r.body["data"]?["result"]?.arrayValue ?? []
        }
        let scraping = try await eventually(within: 60) {
            let both = try? await query(#"count_over_time(up{job=~"shiplog|kube-state-metrics"}[1m]) >= 3 and up == 1"#)
            return both?.count == 3
        }
        #expect(scraping, "Prometheus scrapes the targets: \(prometheus.log.suffix(2000)) \(ksmServer.log.suffix(500))")

        // Things happen while Prometheus watches: a fresh production deployment of checkout
        // (its Deployment misses two replicas), a failure and a rollback of web in production.
        let now = Timestamp.now()
        let live =
            [
                #"{"id":"l1","type":"deployment.succeeded","service":"checkout","environment":"production","version":"1.1","commit":"c2","time":"\#(now.adding(seconds: -30).rfc3339)","namespace":"shop","workload":"checkout"}"#,
                #"{"id":"l2","type":"deployment.failed","service":"web","environment":"production","version":"3.1","time":"\#(now.adding(seconds: -20).rfc3339)","namespace":"shop","workload":"web"}"#,
                #"{"id":"l3","type":"deployment.rolled_back","service":"web","environment":"production","version":"3.0","time":"\#(now.adding(seconds: -10).rfc3339)","namespace":"shop","workload":"web"}"#,
            ].joined(separator: "\n") + "\n"
        #expect(try await http("POST", server.baseURL + "/api/v1/events", body: live, contentType: "application/x-ndjson").status == 201)
        let pending = try await eventually(within: 30) {
            let r = try await http("GET", "\(api)/alerts")
            return (r.body["data"]?["alerts"]?.arrayValue ?? []).contains {
                $0["labels"]?["alertname"] == .string("ShiplogProductionDeploymentUnavailableReplicas")
                    && $0["labels"]?["service"] == .string("checkout") && $0["labels"]?["deployment"] == .string("checkout")
                    && $0["state"] == .string("pending")
            }
        }
        #expect(pending, "the correlation alert is pending for checkout")
        let alerts = try await http("GET", "\(api)/alerts").body["data"]?["alerts"]?.arrayValue ?? []
        #expect(
            !alerts.contains {
                $0["labels"]?["alertname"] == .string("ShiplogProductionDeploymentUnavailableReplicas") && $0["labels"]?["service"] == .string("web")
            },
            "web has all its replicas: no correlation alert"
        )
        #expect(alerts.contains { $0["labels"]?["alertname"] == .string("ShiplogRollbackPerformed") && $0["labels"]?["service"] == .string("web") })

        // Every recording rule has a value.
        let rules = try rules()
        let records = Set(rules.compactMap { $0["record"]?.stringValue })
        for record in records.sorted() {
            let hasValue = try await eventually(within: 15) { try await !query(record).isEmpty }
            #expect(hasValue, "recording rule \(record) has no value")
        }

        // Every dashboard query returns data.
        for file in Self.dashboards.keys.sorted() {
            for e in expressions(try dashboard(file)) {
                let q = substituted(e, service: ".+")
                let hasData = try await eventually(within: 15) { try await !query(q).isEmpty }
                #expect(hasData, "\(file): no data for \(q)")
            }
        }

        // Two replicas show what one shows: the same series, the same values (not twice them).
        // Panels on recording rules are left to the rules' own test with three replicas.
        for file in Self.dashboards.keys.sorted() {
            for e in expressions(try dashboard(file)) where !e.contains(":shiplog_") {
                let both = substituted(e, service: ".+")
                let one = substituted(e, service: #".+", instance="shiplog-0"#)
                var last = ""
                let same = try await eventually(within: 15) {
                    let at = Timestamp.now().seconds.rounded(.down)
                    let a = try await query(both, at: at)
                    let b = try await query(one, at: at)
                    last = "\(a) vs one replica \(b)"
                    return a.count == b.count && !a.contains { $0["metric"]?["instance"] != nil || $0["metric"]?["pod"] != nil }
                        && zip(sortedSamples(a), sortedSamples(b)).allSatisfy { x, y in
                            x.0 == y.0 && (x.1 == y.1 || (x.1.isNaN && y.1.isNaN) || abs(x.1 - y.1) <= 0.25 * max(abs(x.1), abs(y.1)))
                        }
                }
                #expect(same, "\(file): \(both) counts replicas: \(last)")
            }
        }

        // Rollbacks and failures of the backfilled history are annotations at their own times.
        for file in Self.dashboards.keys.sorted() {
            let annotations = try dashboard(file)["annotations"]?["list"]?.arrayValue ?? []
            for (name, hours) in [("Rollbacks", 33.0), ("Failed deployments", 32.0)] {
                let expr = try #require(annotations.first { $0["name"] == .string(name) }, "\(file): \(name)")
                #expect(expr["useValueForTime"] == .bool(true), "\(file): \(name)")
                let q = substituted(try #require(expr["expr"]?.stringValue), service: "cart", environment: "staging")
                let result = try await query(q)
                let value = result.first?["value"]?.arrayValue?.last?.stringValue.flatMap(Double.init)
                #expect(
                    value == Timestamp(rfc3339: t(hours))!.seconds.rounded(.down) * 1000 || value == Timestamp(rfc3339: t(hours))!.seconds * 1000,
                    "\(file): \(name) at \(t(hours)): \(result)"
                )
            }
        }

        // No rule or panel names a metric that nothing exposes.
        let exposition = try await http("GET", server.baseURL + "/metrics").text
        var exposed = Set<String>()
        for line in exposition.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            let name = String(parts[2])
            exposed.insert(name)
            if parts[3] == "histogram" { exposed.formUnion(["_bucket", "_sum", "_count"].map { name + $0 }) }
        }
        exposed.formUnion(["kube_deployment_spec_replicas", "kube_deployment_status_replicas_available", "up"])
        exposed.formUnion(records)
        let names = try NSRegularExpression(pattern: #"\b(shiplog_[a-z0-9_]+|kube_[a-z0-9_]+|[a-z_]+:[a-z0-9_]+:[a-z0-9_]+)\b"#)
        var used = rules.compactMap { $0["expr"]?.stringValue }
        for file in Self.dashboards.keys { used += expressions(try dashboard(file)) }
        for e in used {
            for m in names.matches(in: e, range: NSRange(e.startIndex..., in: e)) {
                let name = String(e[Range(m.range, in: e)!])
                #expect(exposed.contains(name), "\(name) is not exposed (in \(e.prefix(80)))")
            }
        }
        withExtendedLifetime((ksmServer, prometheus)) {}
    }
}
