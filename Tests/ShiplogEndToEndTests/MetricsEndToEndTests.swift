import Foundation
import ShiplogModel
import ShiplogTestSupport
import Testing

/// `/metrics`, `status`, `report` and `gate` as users and Prometheus see them.
@Suite struct MetricsEndToEndTests {
    let dir = TemporaryDirectory()
    var db: String { dir.path("metrics.db") }

    /// A small pipeline history, a week ago: 1.0 goes dev → staging → production; 1.1 reaches
    /// dev only; production has one incident, resolved; web failed in dev.
    let base = Timestamp.now().adding(seconds: -7 * 86_400)
    func t(_ hours: Double) -> String { base.adding(seconds: hours * 3600).rfc3339 }

    var history: String {
        let lines = [
            #"{"id":"1","type":"change.merged","service":"checkout","commit":"c1","time":"\#(t(0))"}"#,
            #"{"id":"2","type":"deployment.succeeded","service":"checkout","environment":"dev","version":"1.0","commit":"c1","time":"\#(t(1))"}"#,
            #"{"id":"3","type":"deployment.succeeded","service":"checkout","environment":"staging","version":"1.0","commit":"c1","time":"\#(t(2))"}"#,
            #"{"id":"4","type":"deployment.succeeded","service":"checkout","environment":"production","version":"1.0","commit":"c1","time":"\#(t(4))","namespace":"shop","workload":"checkout"}"#,
            #"{"id":"5","type":"incident.opened","service":"checkout","environment":"production","incident":{"id":"INC-1","severity":"sev2"},"time":"\#(t(5))"}"#,
            #"{"id":"6","type":"incident.resolved","service":"checkout","environment":"production","incident":{"id":"INC-1"},"time":"\#(t(5.5))"}"#,
            #"{"id":"7","type":"deployment.succeeded","service":"checkout","environment":"dev","version":"1.1","commit":"c2","commitTime":"\#(t(23))","time":"\#(t(24))"}"#,
            #"{"id":"8","type":"deployment.failed","service":"web","environment":"dev","version":"0.1","time":"\#(t(24))"}"#,
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    func promtool(_ text: String) throws -> RunResult {
        try runTool(["promtool", "check", "metrics"], stdin: text)
    }

    func openMetricsParse(_ text: String) throws -> RunResult {
        let script = """
            import sys
            from prometheus_client.openmetrics.parser import text_string_to_metric_families
            families = list(text_string_to_metric_families(open(sys.argv[1]).read()))
            print(len(families))
            """
        return try runTool(["python3", "-c", script, dir.write("exposition-\(UUID().uuidString).txt", text)])
    }

    @Test func scrapePassesPromtoolAndTheOpenMetricsParser() async throws {
        #expect(try shiplog(["events", "import", "--db", db, "-"], stdin: history).status == 0)
        let server = try ServerProcess(db: db)
        let text = try await http("GET", server.baseURL + "/metrics")
        #expect(text.status == 200)
        #expect(text.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(text.text.contains(#"shiplog_deployments_total{service="checkout",environment="production"} 1"#))
        #expect(text.text.contains(#"shiplog_incidents_total{service="checkout",environment="production"} 1"#))
        #expect(text.text.contains(#"shiplog_deployment_failures_total{service="checkout",environment="production"} 1"#))
        #expect(text.text.contains(#"shiplog_time_to_restore_seconds_sum{service="checkout",environment="production"} 1800.0"#))
        #expect(text.text.contains(#"shiplog_lead_time_seconds_sum{service="checkout",environment="dev"} 7200.0"#), "3600 for c1, 3600 for c2")
        #expect(text.text.contains(#"shiplog_promotion_duration_seconds_sum{service="checkout",environment="production"} 7200.0"#))
        #expect(text.text.contains(#"shiplog_degraded{service="web",environment="dev"} 1"#))
        #expect(text.text.contains(#"shiplog_event_log_last_sequence 8"#))
        let check = try promtool(text.text)
        #expect(check.status == 0)
        #expect(check.stdout.isEmpty, "promtool check metrics: \(check.stdout)")

        let om = try await http(
            "GET",
            server.baseURL + "/metrics",
            headers: ["Accept": "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"]
        )
        #expect(om.headers["content-type"] == "application/openmetrics-text; version=1.0.0; charset=utf-8")
        #expect(om.text.hasSuffix("# EOF\n"))
        let parsed = try openMetricsParse(om.text)
        #expect(parsed.status == 0, "\(parsed.stdout)")
        #expect(Int(parsed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 >= 25)
    }

    @Test func liveUpdatesLateEventsAndRestart() async throws {
        let server = try ServerProcess(db: db)
        #expect(try await http("POST", server.baseURL + "/api/v1/events", body: history, contentType: "application/x-ndjson").status == 201)
        // A late rollback in production (before the incident) recomputes that pair.
        let late = #"{"id":"9","type":"deployment.rolled_back","service":"checkout","environment":"production","version":"0.9","time":"\#(t(4.5))"}"#
        #expect(try await http("POST", server.baseURL + "/api/v1/events", body: late).status == 201)
        let before = try await http("GET", server.baseURL + "/metrics").text
        #expect(before.contains(#"shiplog_rollbacks_total{service="checkout",environment="production"} 1"#))
        // 1.0 was rolled back (failed), then the rollback was live during INC-1 (failed): 2.
        #expect(before.contains(#"shiplog_deployment_failures_total{service="checkout",environment="production"} 2"#))
        #expect(before.contains(#"shiplog_deployed_version_info{service="checkout",environment="production",version="0.9"} 1"#))
        #expect(before.contains(#"shiplog_events_ingested_total{source="native",outcome="created"} 9"#))
        server.stop()

        let restarted = try ServerProcess(db: db)
        let after = try await http("GET", restarted.baseURL + "/metrics").text
        #expect(after.doraPart.withoutPending == before.doraPart.withoutPending, "the same figures after a restart")
        #expect(after.contains(#"shiplog_time_to_restore_seconds_count{service="checkout",environment="production"} 2"#))
    }

    /// The server saves its projection as a snapshot (after `--snapshot-every` events and at
    /// shutdown) and a restart applies only what follows it — also after kill -9, and never
    /// with a snapshot that belongs to another log.
    @Test func restartsFromASnapshot() async throws {
        #expect(try shiplog(["events", "import", "--db", db, "-"], stdin: history).status == 0)
        let first = try ServerProcess(db: db, arguments: ["--snapshot-every", "5"])
        #expect(try await eventually(within: 10) { first.stderr.contains("projection snapshot saved") })
        #expect(first.stderr.contains("through=8"), "the 8 imported events are more than 5: saved at start")
        let late = #"{"id":"9","type":"deployment.rolled_back","service":"checkout","environment":"production","version":"0.9","time":"\#(t(4.5))"}"#
        let more =
            #"{"id":"10","type":"deployment.succeeded","service":"checkout","environment":"staging","version":"1.1","commit":"c2","time":"\#(t(30))"}"#
        for body in [late, more] { #expect(try await http("POST", first.baseURL + "/api/v1/events", body: body).status == 201) }
        let firstScrape = try await http("GET", first.baseURL + "/metrics").text
        #expect(firstScrape.contains("shiplog_projection_snapshot_sequence 8\n"))
        #expect(firstScrape.contains("shiplog_event_log_last_sequence 10\n"))
        let expected = firstScrape.doraPart.withoutPending
        #expect(expected.contains(#"shiplog_rollbacks_total{service="checkout",environment="production"} 1"#))
        first.stop(SIGKILL)

        let afterKill = try ServerProcess(db: db, arguments: ["--snapshot-every", "5"])
        #expect(afterKill.stderr.contains("snapshot through row 8, then 2 events"), "\(afterKill.stderr)")
        #expect(try await http("GET", afterKill.baseURL + "/metrics").text.doraPart.withoutPending == expected)
        #expect(afterKill.stop() == 0)
        #expect(afterKill.stderr.contains("through=10"), "saved again at shutdown: \(afterKill.stderr)")

        let afterStop = try ServerProcess(db: db)
        #expect(try await http("GET", afterStop.baseURL + "/metrics").text.contains("shiplog_projection_snapshot_sequence 10\n"))
        #expect(afterStop.stderr.contains("snapshot through row 10, then 0 events"), "\(afterStop.stderr)")
        #expect(try await http("GET", afterStop.baseURL + "/metrics").text.doraPart.withoutPending == expected)
        afterStop.stop()

        let full = try ServerProcess(db: db, arguments: ["--snapshot-every", "0"])
        #expect(full.stderr.contains("from=10 events"), "\(full.stderr)")
        #expect(try await http("GET", full.baseURL + "/metrics").text.doraPart.withoutPending == expected)
        full.stop()
        #expect(try shiplog(["verify", "--db", db]).status == 0)

        // The CLI reads the snapshot too, and gets what a whole replay gets.
        // (`report`, not `status`: status shows how long a promotion has waited, to the second.)
        let fromSnapshot = try shiplog(["report", "--db", db, "--window", "30d", "--format", "json"])
        #expect(fromSnapshot.status == 0, "\(fromSnapshot.stderr)")
        let saved = try Data(contentsOf: URL(fileURLWithPath: db + ".snapshot"))
        try FileManager.default.removeItem(atPath: db + ".snapshot")
        let replayed = try shiplog(["report", "--db", db, "--window", "30d", "--format", "json"])
        #expect(replayed.stdout == fromSnapshot.stdout)
        #expect(replayed.stdout.contains("checkout"))
        try saved.write(to: URL(fileURLWithPath: db + ".snapshot"))

        // Another log given this log's snapshot: not its key (and its row 10 differs), so it replays itself.
        let other = dir.path("other.db")
        let otherHistory =
            history.replacingOccurrences(of: #""version":"1.0""#, with: #""version":"2.0""#)
            + #"{"id":"x9","type":"incident.opened","service":"web","environment":"dev","incident":{"id":"I"},"time":"\#(t(25))"}"# + "\n"
            + #"{"id":"x10","type":"incident.resolved","service":"web","environment":"dev","incident":{"id":"I"},"time":"\#(t(26))"}"# + "\n"
        #expect(try shiplog(["events", "import", "--db", other, "-"], stdin: otherHistory).status == 0)
        #expect(FileManager.default.fileExists(atPath: db + ".snapshot"), "the snapshot is a file beside the database")
        try FileManager.default.copyItem(atPath: db + ".snapshot", toPath: other + ".snapshot")
        let foreign = try ServerProcess(db: other)
        #expect(foreign.stderr.contains("does not carry this database's authentication code"), "\(foreign.stderr)")
        let otherMetrics = try await http("GET", foreign.baseURL + "/metrics").text
        #expect(otherMetrics.contains(#"shiplog_deployed_version_info{service="checkout",environment="production",version="2.0"} 1"#))
        #expect(otherMetrics.contains(#"shiplog_incidents_total{service="web",environment="dev"} 1"#))
        foreign.stop()

        // A damaged file (one byte changed) is noticed and not used.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: db + ".snapshot"))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: db + ".snapshot"))
        let damaged = try ServerProcess(db: db)
        #expect(damaged.stderr.contains("does not carry this database's authentication code"), "\(damaged.stderr)")
        #expect(try await http("GET", damaged.baseURL + "/metrics").text.doraPart.withoutPending == expected)
        damaged.stop()

        // A forged file (the fresh snapshot saved at shutdown, its payload edited and a plain
        // checksum recomputed over it) is refused too.
        let fresh = try Data(contentsOf: URL(fileURLWithPath: db + ".snapshot"))
        let forge = try runTool([
            "python3", "-c",
            "import hashlib,sys; d=bytearray(open(sys.argv[1],'rb').read()[:-32]); d[len(d)//2]^=1; open(sys.argv[1],'wb').write(bytes(d) + hashlib.sha256(bytes(d)).digest())",
            db + ".snapshot",
        ])
        #expect(forge.status == 0, "\(forge.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: db + ".snapshot")) != fresh)
        let refused = try ServerProcess(db: db)
        #expect(refused.stderr.contains("does not carry this database's authentication code"), "\(refused.stderr)")
        #expect(try await http("GET", refused.baseURL + "/metrics").text.doraPart.withoutPending == expected)
    }

    @Test func statusReportAndGate() async throws {
        #expect(try shiplog(["events", "import", "--db", db, "-"], stdin: history).status == 0)
        let status = try shiplog(["status", "--db", db])
        #expect(status.status == 0, "\(status.stderr)")
        let lines = status.stdout.split(separator: "\n").map(String.init)
        #expect(lines[0].split(separator: " ", omittingEmptySubsequences: true) == ["SERVICE", "DEV", "STAGING", "PRODUCTION", "WAITING"])
        #expect(lines[1].hasPrefix("checkout") && lines[1].contains("1.1 → staging for"))
        #expect(lines[2].hasPrefix("web") && lines[2].contains("(degraded)"))

        let json = try JSONValue.parse(try shiplog(["status", "--db", db, "--format", "json"]).stdout)
        let checkout = json["services"]?.arrayValue?.first
        #expect(checkout?["environments"]?.arrayValue?.map { $0["liveVersion"] } == [.string("1.1"), .string("1.0"), .string("1.0")])

        let report = try shiplog(["report", "--db", db, "--window", "30d", "--format", "json"])
        let rows = try JSONValue.parse(report.stdout).arrayValue ?? []
        #expect(rows.count == 1)
        #expect(rows.first?["deployments"]?.intValue == 1)
        #expect(rows.first?["changeFailureRatio"] == .number("1.0"))
        #expect(rows.first?["changeFailureLevel"] == .string("low"))
        #expect(rows.first?["timeToRestoreMedianSeconds"] == .number("1800.0"))
        #expect(rows.first?["timeToRestoreLevel"] == .string("elite"))
        #expect(rows.first?["leadTimeLevel"] == .string("elite"))
        let table = try shiplog(["report", "--db", db])
        #expect(table.stdout.contains("checkout"))
        #expect(table.stdout.contains("CHANGE FAILURE"))

        let pass = try shiplog(["gate", "--db", db, "--service", "checkout", "--env", "production", "--version", "1.0"])
        #expect(pass.status == 0)
        #expect(pass.stdout.contains("passed dev, staging"))
        let closed = try shiplog(["gate", "--db", db, "--service", "checkout", "--env", "production", "--version", "1.1"])
        #expect(closed.status == 1)
        #expect(closed.stderr.contains("has not succeeded in staging"))

        // The same through a server.
        let server = try ServerProcess(db: db)
        let env = ["SHIPLOG_SERVER": server.baseURL]
        #expect(try shiplog(["gate", "--service", "checkout", "--env", "production", "--version", "1.0"], environment: env).status == 0)
        let remoteClosed = try shiplog(["gate", "--service", "checkout", "--env", "production", "--version", "1.1"], environment: env)
        #expect(remoteClosed.status == 1)
        #expect(remoteClosed.stderr.contains("has not succeeded in staging"))
        let remoteStatus = try JSONValue.parse(try shiplog(["status", "--format", "json"], environment: env).stdout)
        #expect(
            remoteStatus["services"]?.arrayValue?.first?["environments"]?.arrayValue?.map { $0["liveVersion"] } == [
                .string("1.1"), .string("1.0"), .string("1.0"),
            ]
        )
        let remoteReport = try JSONValue.parse(try shiplog(["report", "--format", "json"], environment: env).stdout)
        #expect(remoteReport == (try JSONValue.parse(report.stdout)))
        let api = try await http("GET", server.baseURL + "/api/v1/gate?service=checkout&environment=production&version=1.1")
        #expect(api.status == 412)
        #expect(api.body["missing"] == .string("staging"))
        #expect(api.body["reason"] == .string("missing"))
    }

    /// The README's tour as a user runs it: CI records the digest with version 1.4.2, every
    /// environment deploys the digest, and the production gate is asked by version. Then a
    /// version rolled back from in staging must not pass, locally and through a server alike.
    @Test func theTourPassesItsGateAndARollbackClosesIt() async throws {
        let image = "ghcr.io/acme/checkout@sha256:" + String(repeating: "c0", count: 32)
        func record(_ args: [String]) throws {
            let r = try shiplog(["events", "record", "--db", db] + args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
        }
        try record([
            "--type", "artifact.published", "--service", "checkout", "--artifact", image, "--version", "1.4.2",
            "--commit", "9f1c2e7", "--commit-time", "2026-01-09T08:00:00Z", "--id", "run-1-build",
        ])
        for (env, minute) in [("dev", "10"), ("staging", "20")] {
            try record([
                "--type", "deployment.succeeded", "--service", "checkout", "--env", env, "--artifact", image,
                "--time", "2026-01-09T09:\(minute):00Z", "--id", "run-1-\(env)",
            ])
        }
        let gate = ["gate", "--service", "checkout", "--env", "production", "--version", "1.4.2"]
        let pass = try shiplog(gate + ["--db", db])
        #expect(pass.status == 0, "\(pass.stderr)")
        #expect(pass.stdout.contains("passed dev, staging"))
        #expect(try shiplog(["gate", "--db", db, "--service", "checkout", "--env", "production", "--version", image]).status == 0)
        let status = try JSONValue.parse(try shiplog(["status", "--db", db, "--format", "json"]).stdout)
        #expect(
            status["services"]?.arrayValue?.first?["environments"]?.arrayValue?.map { $0["liveVersion"] } == [
                .string("1.4.2"), .string("1.4.2"), .null,
            ],
            "people see the version the digest is known by"
        )
        let listed = try JSONValue.parse(try shiplog(["events", "list", "--db", db, "--env", "staging", "--format", "json"]).stdout)
        #expect(listed.arrayValue?.first?["event"]?["artifact"] == .string(image))

        // 1.4.3 reaches staging and is rolled back to 1.4.2.
        try record(["--type", "deployment.succeeded", "--service", "checkout", "--env", "dev", "--version", "1.4.3", "--time", "2026-01-09T10:00:00Z"])
        try record(["--type", "deployment.succeeded", "--service", "checkout", "--env", "staging", "--version", "1.4.3", "--time", "2026-01-09T10:10:00Z"])
        try record([
            "--type", "deployment.rolled_back", "--service", "checkout", "--env", "staging", "--version", "1.4.2",
            "--time", "2026-01-09T10:20:00Z", "--id", "rollback-1",
        ])
        let closed = try shiplog(["gate", "--db", db, "--service", "checkout", "--env", "production", "--version", "1.4.3"])
        #expect(closed.status == 1)
        #expect(closed.stderr.contains("failed in staging") && closed.stderr.contains("rollback-1"), "\(closed.stderr)")
        #expect(try shiplog(gate + ["--db", db]).status == 0, "the version a rollback returned to has passed")

        let server = try ServerProcess(db: db)
        let env = ["SHIPLOG_SERVER": server.baseURL]
        #expect(try shiplog(gate, environment: env).status == 0)
        let remote = try shiplog(["gate", "--service", "checkout", "--env", "production", "--version", "1.4.3"], environment: env)
        #expect(remote.status == 1)
        #expect(remote.stderr == closed.stderr, "the same answer through a server")
        let api = try await http("GET", server.baseURL + "/api/v1/gate?service=checkout&environment=production&version=1.4.3")
        #expect(api.status == 412)
        #expect(api.body["reason"] == .string("failed"))
        #expect(api.body["failedBy"]?["id"] == .string("rollback-1"))
    }
}

extension MetricsEndToEndTests {
    /// The server checks its own chain periodically; a tampered row turns the gauge to 0.
    @Test func theServerVerifiesItsLogAndExposesTheOutcome() async throws {
        #expect(try shiplog(["events", "import", "--db", db, "-"], stdin: history).status == 0)
        let server = try ServerProcess(db: db, arguments: ["--verify-interval", "1s"])
        func sample(_ name: String) async throws -> Double? {
            let text = try await http("GET", server.baseURL + "/metrics").text
            return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
        }
        #expect(try await eventually(within: 20) { try await sample("shiplog_event_log_verified") == 1 })
        let checkedAt = try #require(try await sample("shiplog_event_log_last_verification_timestamp_seconds"))
        #expect(abs(checkedAt - Timestamp.now().seconds) < 30)

        let tamper = sqlite3(
            db,
            "PRAGMA busy_timeout = 10000; DROP TRIGGER events_refuse_update; UPDATE events SET event = replace(event, '1.0', '6.6') WHERE seq = 3;"
        )
        #expect(tamper.status == 0, "\(tamper.output)")
        #expect(try await eventually(within: 20) { try await sample("shiplog_event_log_verified") == 0 })
        #expect(server.stderr.contains("event log verification failed"))

        let off = try ServerProcess(db: dir.path("other.db"), arguments: ["--verify-interval", "0"])
        let text = try await http("GET", off.baseURL + "/metrics").text
        #expect(!text.contains("shiplog_event_log_verified"), "no check, no gauge")
        let bad = try shiplog(["serve", "--db", dir.path("x.db"), "--verify-interval", "soon"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--verify-interval soon"))
    }
}

extension MetricsEndToEndTests {
    /// `events import` into the database of a running server (as through kubectl exec): the
    /// server adds the imported events to its metrics within a catch-up interval, and its
    /// own appends meanwhile are neither lost nor counted twice.
    @Test func eventsImportedIntoARunningServersDatabaseReachItsMetrics() async throws {
        let server = try ServerProcess(db: db, arguments: ["--catch-up-interval", "1s"])
        #expect(
            try await http(
                "POST",
                server.baseURL + "/api/v1/events",
                body: #"{"id":"live-1","type":"deployment.succeeded","service":"checkout","environment":"dev","version":"0.9","time":"\#(t(-1))"}"#
            ).status == 201
        )
        let imported = try shiplog(["events", "import", "--db", db, "-"], stdin: history)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(
            try await http(
                "POST",
                server.baseURL + "/api/v1/events",
                body: #"{"id":"live-2","type":"deployment.failed","service":"web","environment":"dev","version":"0.2","time":"\#(t(30))"}"#
            ).status == 201
        )
        func deployments(_ service: String, _ env: String) async throws -> String? {
            let text = try await http("GET", server.baseURL + "/metrics").text
            let prefix = #"shiplog_deployments_total{service="\#(service)",environment="\#(env)"} "#
            return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
        }
        #expect(try await eventually(within: 20) { try await deployments("checkout", "production") == "1" })
        #expect(try await deployments("checkout", "dev") == "3", "live-1 and the two imported")
        #expect(try await deployments("web", "dev") == "2", "one imported, one posted after the import")
        #expect(!server.stderr.contains("could not apply"), "\(server.stderr)")

        // The same figures as a server that replays the whole log at start.
        let live = try await http("GET", server.baseURL + "/metrics").text
        #expect(server.stop(SIGTERM) == 0)
        let restarted = try ServerProcess(db: db, arguments: ["--snapshot-every", "0"])
        let replayed = try await http("GET", restarted.baseURL + "/metrics").text
        // Everything but the one family that moves with the clock between the two scrapes.
        func timeless(_ text: String) -> [Substring] {
            text.doraPart.split(separator: "\n").filter { !$0.hasPrefix("shiplog_promotion_pending_seconds{") }
        }
        #expect(timeless(live) == timeless(replayed))

        let bad = try shiplog(["serve", "--db", dir.path("x.db"), "--catch-up-interval", "often"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--catch-up-interval often"))
    }
}

extension String {
    /// The exposition without shiplog's self-metrics.
    var doraPart: String {
        guard let r = range(of: "# HELP shiplog_build_info") else { return self }
        return String(self[..<r.lowerBound])
    }

    /// Without the pending gauges, which grow with the clock.
    var withoutPending: String {
        split(separator: "\n").filter { !$0.hasPrefix("shiplog_promotion_pending_seconds{") }.joined(separator: "\n")
    }
}
