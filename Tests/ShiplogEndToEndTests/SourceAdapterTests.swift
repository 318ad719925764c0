import Foundation
import ShiplogModel
import ShiplogTestSupport
import Testing

/// Every source adapter through the running binary: real payloads from `../shared/fixtures/`,
/// the shipped configuration in `deploy/`, a real Alertmanager.
@Suite struct SourceAdapterTests {
    let dir = TemporaryDirectory()
    var db: String { dir.path("sources.db") }

    func events(_ server: ServerProcess, _ query: String = "") async throws -> [JSONValue] {
        try await http("GET", server.baseURL + "/api/v1/events?limit=1000" + query).body["events"]?.arrayValue ?? []
    }

    func statuses(_ r: HTTPResult) -> [String] {
        (r.body["results"]?.arrayValue ?? []).compactMap { $0["status"]?.stringValue }
    }

    // MARK: CDEvents

    @Test func cdeventsInEveryBindingMode() async throws {
        let server = try ServerProcess(db: db)
        let url = server.baseURL + "/api/v1/cdevents"
        let deployed = try Files.fixture("cdevents/v0.5.1/conformance/service_deployed.json")
        let headers = [
            "ce-id": "271069a8-fc18-44f1-b38f-9d70a1695819", "ce-source": "/event/source/123",
            "ce-type": "dev.cdevents.service.deployed.0.3.0", "ce-specversion": "1.0",
        ]

        let binary = try await http("POST", url, body: deployed, headers: headers)
        #expect(binary.status == 201, "\(binary.text)")
        #expect(statuses(binary) == ["created"])
        let again = try await http("POST", url, body: deployed, headers: headers)
        #expect(again.status == 200)
        #expect(statuses(again) == ["duplicate"])

        // CloudEvents: source + id identify an event. The conformance files reuse one id for
        // different events; sent as they are, the second is a conflict.
        let rolledBack = try Files.fixture("cdevents/v0.4.1/conformance/service_rolledback.json")
        let conflict = try await http("POST", url, body: rolledBack)
        #expect(conflict.status == 409)
        #expect(conflict.body["field"] == .string("id"))

        let incident = try Files.fixture("cdevents/v0.4.1/conformance/incident_detected.json")
        let structured = try await http(
            "POST",
            url,
            body: #"{"specversion":"1.0","id":"x","source":"/m","type":"dev.cdevents.incident.detected.0.2.0","data":\#(incident)}"#,
            contentType: "application/cloudevents+json"
        )
        #expect(structured.status == 201, "\(structured.text)")

        let build = try Files.fixture("cdevents/v0.5.1/conformance/build_finished.json")
        let rolledBackUnique = rolledBack.replacingOccurrences(of: "271069a8-fc18-44f1-b38f-9d70a1695819", with: "rb-1")
        let batch = try await http(
            "POST",
            url,
            body:
                #"[{"specversion":"1.0","id":"b","source":"/ci","type":"t","data":\#(build)},{"specversion":"1.0","id":"r","source":"/cd","type":"t","data":\#(rolledBackUnique)}]"#,
            contentType: "application/cloudevents-batch+json"
        )
        #expect(batch.status == 201, "\(batch.text)")
        #expect(statuses(batch) == ["created"])
        #expect(batch.body["skipped"]?.arrayValue?.first?["index"]?.intValue == 0)

        let before = rowCount(db)
        let onlyBuild = try await http("POST", url, body: build)
        #expect(onlyBuild.status == 202)
        #expect(onlyBuild.body["skipped"]?.arrayValue?.count == 1)
        #expect(rowCount(db) == before, "a skipped CDEvent writes nothing")

        for (body, contentType, status) in [
            ("{nope", "application/json", 400), ("[]", "application/cloudevents-batch+json", 400),
            (deployed, "text/plain", 415), (#"{"context":{}}"#, "application/json", 400),
        ] {
            let r = try await http("POST", url, body: body, contentType: contentType)
            #expect(r.status == status, "\(body.prefix(20)) as \(contentType)")
            #expect(r.body["error"]?.stringValue?.isEmpty == false, "a JSON error body")
        }
        #expect(rowCount(db) == before)

        let stored = try await events(server)
        #expect(stored.count == 3)
        let deployment = try #require(stored.first { $0["event"]?["type"] == .string("deployment.succeeded") })
        #expect(deployment["format"] == .string("cdevents"))
        #expect(deployment["event"]?["service"] == .string("mySubject123"))
        #expect(deployment["event"]?["environment"] == .string("test123"))
        #expect(
            sqlite3(db, "SELECT raw FROM events WHERE type = 'deployment.succeeded'").output.contains("\"specversion\": \"0.5.1\""),
            "the raw body is kept"
        )

        let metrics = try await http("GET", server.baseURL + "/metrics").text
        #expect(metrics.contains(#"shiplog_events_ingested_total{source="cdevents",outcome="skipped"} 2"#))
        #expect(
            metrics.contains(
                #"shiplog_deployed_version_info{service="mySubject123",environment="test123",version="sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427"} 1"#
            )
        )
    }

    // MARK: GitHub

    func github(
        _ server: ServerProcess,
        event: String,
        delivery: String,
        body: String,
        secret: String? = "s3cret",
        signature: String? = nil,
        headers extra: [String: String] = [:]
    ) async throws -> HTTPResult {
        var headers = ["X-GitHub-Event": event, "X-GitHub-Delivery": delivery]
        if let secret { headers["X-Hub-Signature-256"] = signature ?? hmacSignature(body, secret: secret) }
        headers.merge(extra) { $1 }
        return try await http("POST", server.baseURL + "/api/v1/webhooks/github", body: body, headers: headers)
    }

    /// GitHub's signature, computed independently of shiplog with Python's hmac module.
    func hmacSignature(_ body: String, secret: String) -> String {
        let file = dir.write("body-\(UUID().uuidString)", body)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [
            "python3", "-c",
            "import hmac,hashlib,sys; print('sha256=' + hmac.new(sys.argv[1].encode(), open(sys.argv[2],'rb').read(), hashlib.sha256).hexdigest())",
            secret, file,
        ]
        let pipe = Pipe()
        p.standardOutput = pipe
        try! p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func githubWebhooksAreVerifiedAndIdempotent() async throws {
        let server = try ServerProcess(db: db, arguments: ["--github-secret", "s3cret", "--write-token", "wt"])
        let status = try Files.fixture("github/deployment_status/payload.json")
        let deployment = try Files.fixture("github/deployment/payload.json")

        let created = try await github(server, event: "deployment", delivery: "d-1", body: deployment)
        #expect(created.status == 201, "signed: no bearer token needed. \(created.text)")
        let success = try await github(server, event: "deployment_status", delivery: "d-2", body: status)
        #expect(success.status == 201)
        let redelivered = try await github(server, event: "deployment_status", delivery: "d-2", body: status)
        #expect(redelivered.status == 200)
        #expect(statuses(redelivered) == ["duplicate"])

        let wrong = try await github(
            server,
            event: "deployment_status",
            delivery: "d-3",
            body: status,
            signature: "sha256=" + String(repeating: "0", count: 64)
        )
        #expect(wrong.status == 401)
        #expect(wrong.body["field"] == .string("X-Hub-Signature-256"))
        let missing = try await github(server, event: "deployment_status", delivery: "d-4", body: status, secret: nil)
        #expect(missing.status == 401)
        let otherSecret = try await github(server, event: "deployment_status", delivery: "d-5", body: status, secret: "guess")
        #expect(otherSecret.status == 401)

        let ping = try await github(server, event: "ping", delivery: "d-6", body: #"{"zen":"Keep it logically awesome.","hook_id":1}"#)
        #expect(ping.status == 200)
        let push = try await github(server, event: "push", delivery: "d-7", body: try Files.fixture("github/push/payload.json"))
        #expect(push.status == 202)
        let garbage = try await github(server, event: "deployment", delivery: "d-8", body: "{not json")
        #expect(garbage.status == 400)
        #expect(garbage.body["error"]?.stringValue?.contains("not JSON") == true)
        let form = try await http(
            "POST",
            server.baseURL + "/api/v1/webhooks/github",
            body: "payload=%7B%7D",
            contentType: "application/x-www-form-urlencoded",
            headers: ["X-GitHub-Event": "deployment", "X-Hub-Signature-256": hmacSignature("payload=%7B%7D", secret: "s3cret")]
        )
        #expect(form.status == 415)

        #expect(rowCount(db) == 2)
        let stored = try await events(server, "&service=Hello-World")
        #expect(stored.map { $0["event"]?["type"]?.stringValue } == ["deployment.succeeded", "deployment.started"])
        #expect(stored.allSatisfy { $0["format"] == .string("github") })
        #expect(stored[0]["event"]?["commit"] == .string("f95f852bd8fca8fcc58a9a2d6c842781e32a215e"))
        #expect(stored[0]["event"]?["id"] == .string("github:deployment-status-209916254-success"))
    }

    @Test func withoutASecretTheGitHubRouteNeedsTheWriteToken() async throws {
        let server = try ServerProcess(db: db, arguments: ["--write-token", "wt"])
        let status = try Files.fixture("github/deployment_status/payload.json")
        let anonymous = try await github(server, event: "deployment_status", delivery: "d-1", body: status, secret: nil)
        #expect(anonymous.status == 401)
        let withToken = try await github(
            server,
            event: "deployment_status",
            delivery: "d-1",
            body: status,
            secret: nil,
            headers: ["Authorization": "Bearer wt"]
        )
        #expect(withToken.status == 201)
    }

    @Test func aMergedPullRequestGivesADeploymentOfItsMergeCommitALeadTime() async throws {
        let server = try ServerProcess(db: db, arguments: ["--github-secret", "s3cret"])
        // The captured merge, made to be the commit the deployment fixture ships, an hour before it.
        var merge = try Files.fixture("github/captured/pull_request/closed.01.json")
        merge = merge.replacingOccurrences(of: "44d21f9752bb9eb3952238ff7e25965b8f779d51", with: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e")
        merge = merge.replacingOccurrences(of: #""merged_at": "2025-05-21T17:35:21Z""#, with: #""merged_at": "2019-05-15T14:20:55Z""#)
        merge = merge.replacingOccurrences(of: #""name": "aaaaa-aaaaaaaaa""#, with: #""name": "Hello-World""#)
        #expect(merge.contains("2019-05-15T14:20:55Z") && merge.contains(#""name": "Hello-World""#))
        let merged = try await github(server, event: "pull_request", delivery: "m-1", body: merge)
        #expect(merged.status == 201, "\(merged.text)")
        let again = try await github(server, event: "pull_request", delivery: "m-2", body: merge)
        #expect(statuses(again) == ["duplicate"], "a redelivery under another delivery id")
        let unmergedBody = try Files.fixture("github/pull_request/closed.payload.json")
        let unmerged = try await github(server, event: "pull_request", delivery: "m-3", body: unmergedBody)
        #expect(unmerged.status == 202)
        #expect(unmerged.body["skipped"]?.arrayValue?.count == 1)
        let runBody = try Files.fixture("github/captured/workflow_run/completed.json")
        let run = try await github(server, event: "workflow_run", delivery: "m-4", body: runBody)
        #expect(run.status == 202)
        let deployed = try await github(
            server,
            event: "deployment_status",
            delivery: "m-5",
            body: try Files.fixture("github/deployment_status/payload.json")
        )
        #expect(deployed.status == 201)
        #expect(rowCount(db) == 2)
        let report = try shiplog(["report", "--db", db, "--env", "production", "--window", "3650d", "--format", "json"])
        let row = try #require(JSONValue.parse(report.stdout).arrayValue?.first { $0["service"] == .string("Hello-World") })
        #expect(row["leadTimeMedianSeconds"]?.doubleValue == 3600, "merged 14:20:55, deployed 15:20:55: \(row)")
        let metrics = try await http("GET", server.baseURL + "/metrics").text
        #expect(metrics.contains(#"shiplog_events_ingested_total{source="github",outcome="created"} 2"#))
        #expect(metrics.contains(#"shiplog_events_ingested_total{source="github",outcome="skipped"} 2"#))
    }

    // MARK: GitLab

    func gitlab(_ server: ServerProcess, _ body: String, token: String? = "gl-token", key: String? = nil) async throws -> HTTPResult {
        var headers = ["X-Gitlab-Event": "Deployment Hook"]
        if let token { headers["X-Gitlab-Token"] = token }
        if let key { headers["Idempotency-Key"] = key }
        return try await http("POST", server.baseURL + "/api/v1/webhooks/gitlab", body: body, headers: headers)
    }

    @Test func gitLabHooksAreCheckedIdempotentAndGiveALeadTime() async throws {
        let server = try ServerProcess(db: db, arguments: ["--gitlab-token", "gl-token", "--write-token", "wt"])
        // The captured merge, then a production deployment of its merge commit an hour later.
        let merge = try Files.fixture("gitlab/go-scm/pull_request_merge.json")
        let merged = try await gitlab(server, merge, key: "k-merge")
        #expect(merged.status == 201, "its token: no bearer token needed. \(merged.text)")
        var deployment = try Files.fixture("gitlab/go-gitlab/deployment.json")
        deployment = deployment.replacingOccurrences(of: "279484c09fbe69ededfced8c1bb6e6d24616b468", with: "78a76ee6b4992a6baf64c59fc4c44c7323d60438")
        deployment = deployment.replacingOccurrences(of: #""environment": "staging""#, with: #""environment": "production""#)
        deployment = deployment.replacingOccurrences(of: "root/test-deployment-webhooks\",", with: "gitlab-org/hello-world\",")
        deployment = deployment.replacingOccurrences(of: "2021-04-28 21:50:00 +0200", with: "2017-12-10 19:08:07 +0100")
        #expect(deployment.contains(#""path_with_namespace": "gitlab-org/hello-world""#))
        let deployed = try await gitlab(server, deployment, key: "k-deploy")
        #expect(deployed.status == 201, "\(deployed.text)")
        let resent = try await gitlab(server, deployment, key: "k-deploy")
        #expect(statuses(resent) == ["duplicate"], "a retry carries the same Idempotency-Key: \(resent.text)")
        let wrong = try await gitlab(server, deployment, token: "guess", key: "k-other")
        #expect(wrong.status == 401)
        #expect(wrong.body["field"] == .string("X-Gitlab-Token"))
        let missing = try await gitlab(server, deployment, token: nil, key: "k-other")
        #expect(missing.status == 401)
        let malformed = try await gitlab(server, try Files.fixture("gitlab/go-gitlab/group_merge_request.json"))
        #expect(malformed.status == 400, "the upstream file whose keys carry trailing spaces: \(malformed.text)")
        #expect(malformed.text.contains("object_attributes.state"))
        let push = try await gitlab(server, try Files.fixture("gitlab/go-gitlab/push.json"))
        #expect(push.status == 202)
        let form = try await http(
            "POST",
            server.baseURL + "/api/v1/webhooks/gitlab",
            body: "{}",
            contentType: "text/plain",
            headers: ["X-Gitlab-Token": "gl-token"]
        )
        #expect(form.status == 415)

        #expect(rowCount(db) == 2)
        let report = try shiplog(["report", "--db", db, "--env", "production", "--window", "3650d", "--format", "json"])
        let row = try #require(JSONValue.parse(report.stdout).arrayValue?.first { $0["service"] == .string("hello-world") })
        #expect(row["leadTimeMedianSeconds"]?.doubleValue == 3600, "merged 17:08:07Z, deployed 18:08:07Z: \(row)")
        let metrics = try await http("GET", server.baseURL + "/metrics").text
        #expect(metrics.contains(#"shiplog_events_ingested_total{source="gitlab",outcome="created"} 2"#))
    }

    // MARK: Flux

    @Test func theShippedFluxProviderSignsAndASuccessInProductionShowsInStatus() async throws {
        // What deploy/flux/ makes notification-controller send: its Secret's token signs the body.
        let secret = try #require(try yamlDocuments(Files.repository.appendingPathComponent("deploy/flux/secret.yaml").path).first)
        let token = try #require(secret["stringData"]?["token"]?.stringValue)
        let provider = try #require(try yamlDocuments(Files.repository.appendingPathComponent("deploy/flux/provider.yaml").path).first)
        let address = try #require(provider["spec"]?["address"]?.stringValue.flatMap(URL.init(string:)))
        #expect(provider["spec"]?["type"] == .string("generic-hmac"))
        let server = try ServerProcess(db: db, arguments: ["--flux-secret", token, "--write-token", "wt"])
        func send(_ body: String, signature: String? = nil) async throws -> HTTPResult {
            let signed = signature ?? hmacSignature(body, secret: token)
            return try await http(
                "POST",
                server.baseURL + address.path,
                body: body,
                headers: ["X-Signature": signed, "Gotk-Component": "kustomize-controller"]
            )
        }
        // The docs' body in its current form: bare metadata keys, a main@sha1: revision, the Alert's env.
        var success = try Files.fixture("flux/generic-webhook-body.json")
        success = success.replacingOccurrences(
            of: #""kustomize.toolkit.fluxcd.io/revision": "main/731f7eaddfb6af01cb2173e18f0f75b0ba780ef1""#,
            with: #""revision": "main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1", "env": "production""#
        )
        success = success.replacingOccurrences(of: #""severity":"error""#, with: #""severity":"info""#)
        success = success.replacingOccurrences(of: #""reason": "ValidationFailed""#, with: #""reason": "ReconciliationSucceeded""#)
        success = success.replacingOccurrences(
            of: "service/apps/webapp validation error: spec.type: Unsupported value: Ingress",
            with: "Service/apps/webapp configured"
        )
        #expect(success.contains("ReconciliationSucceeded") && success.contains(#""env": "production""#))
        let created = try await send(success)
        #expect(created.status == 201, "signed: no bearer token needed. \(created.text)")
        let retried = try await send(success)
        #expect(statuses(retried) == ["duplicate"], "Flux retries a failed send with the same body: \(retried.text)")
        let tampered = success.replacingOccurrences(of: "webapp", with: "webapq")
        let forged = try await send(tampered, signature: hmacSignature(success, secret: token))
        #expect(forged.status == 401)
        #expect(forged.body["field"] == .string("X-Signature"))
        let unsigned = try await http("POST", server.baseURL + address.path, body: success)
        #expect(unsigned.status == 401)
        let noEnvironment = try await send(try Files.fixture("flux/event-kustomization-validation-failed.json"))
        #expect(noEnvironment.status == 202, "no env in its metadata: acknowledged, not stored")
        #expect(rowCount(db) == 1)

        let status = try shiplog(["status", "--db", db, "--format", "json"])
        #expect(status.status == 0, "\(status.stderr)")
        let webapp = try #require(JSONValue.parse(status.stdout)["services"]?.arrayValue?.first { $0["service"] == .string("webapp") })
        let production = webapp["environments"]?.arrayValue?.first { $0["environment"] == .string("production") }
        #expect(production?["liveVersion"] == .string("731f7eaddfb6"), "\(webapp)")
        #expect(production?["deployedBy"] == .string("kustomize-controller"))
        let metrics = try await http("GET", server.baseURL + "/metrics").text
        #expect(metrics.contains(#"shiplog_events_ingested_total{source="flux",outcome="created"} 1"#))
        #expect(metrics.contains(#"shiplog_events_ingested_total{source="flux",outcome="rejected"} 2"#))
    }

    // MARK: PagerDuty

    func pagerduty(
        _ server: ServerProcess,
        _ body: String,
        secret: String? = "pd-secret",
        signature: String? = nil,
        contentType: String = "application/json"
    ) async throws -> HTTPResult {
        var headers: [String: String] = [:]
        if let secret { headers["X-PagerDuty-Signature"] = signature ?? "v1=" + hmacSignature(body, secret: secret).dropFirst("sha256=".count) }
        return try await http("POST", server.baseURL + "/api/v1/webhooks/pagerduty", body: body, contentType: contentType, headers: headers)
    }

    @Test func pagerDutyWebhooksAreVerifiedMappedAndIdempotent() async throws {
        let server = try ServerProcess(
            db: db,
            arguments: ["--pagerduty-secret", "pd-secret", "--write-token", "wt", "--pagerduty-service", "PLVTM9H=checkout/production"]
        )
        let triggered = try Files.fixture("pagerduty/zulip/triggered_v3.json")
        let opened = try await pagerduty(server, triggered)
        #expect(opened.status == 201, "signed: no bearer token needed. \(opened.text)")
        let redelivered = try await pagerduty(server, triggered)
        #expect(redelivered.status == 200)
        #expect(statuses(redelivered) == ["duplicate"], "\(redelivered.text)")
        let tampered = triggered.replacingOccurrences(of: "Test Incident 3", with: "Test Incident 4")
        #expect(tampered != triggered)
        let forged = try await pagerduty(server, tampered, signature: "v1=" + hmacSignature(triggered, secret: "pd-secret").dropFirst(7))
        #expect(forged.status == 401)
        #expect(forged.body["field"] == .string("X-PagerDuty-Signature"))
        let unsigned = try await pagerduty(server, triggered, secret: nil)
        #expect(unsigned.status == 401)
        let wrongType = try await pagerduty(server, triggered, contentType: "text/plain")
        #expect(wrongType.status == 415)
        let acknowledged = try await pagerduty(server, try Files.fixture("pagerduty/zulip/acknowledged_v3.json"))
        #expect(acknowledged.status == 202)
        let resolved = try await pagerduty(server, try Files.fixture("pagerduty/zulip/resolved_v3.json"))
        #expect(resolved.status == 201)
        let reopened = try await pagerduty(server, try Files.fixture("pagerduty/zulip/reopened_v3.json"))
        #expect(reopened.status == 201)
        let broken = try await pagerduty(server, #"{"event":{"event_type":"incident.triggered"}}"#)
        #expect(broken.status == 400)

        // The upstream test vector: PagerDuty's own signature over its own body, checked by the server.
        let vector = try Files.fixture("pagerduty/go-pagerduty/webhookv3_test.defaultBody.json")
        let vectorServer = try ServerProcess(
            db: dir.path("vector.db"),
            arguments: ["--pagerduty-secret", "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK"]
        )
        let good = try await pagerduty(vectorServer, vector, signature: "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd")
        #expect(good.status == 202, "verified, and priority_updated is acknowledged: \(good.text)")
        let bad = try await pagerduty(vectorServer, vector, signature: "v1=7020c8a7ec668a9b7012bc3dd82e483394b038f4230acc6785efbf2a7d8bcaf5")
        #expect(bad.status == 401)

        #expect(rowCount(db) == 3)
        let stored = try await events(server)
        #expect(Set(stored.compactMap { $0["event"]?["type"]?.stringValue }) == ["incident.opened", "incident.resolved"])
        #expect(stored.allSatisfy { $0["format"] == .string("pagerduty") })
        let checkout = try await events(server, "&service=checkout")
        #expect(checkout.first?["event"]?["incident"]?["id"] == .string("Q05XJA8GDXGOB3"))
        let status = try await http("GET", server.baseURL + "/api/v1/status")
        let production = status.body["services"]?.arrayValue?.first { $0["service"] == .string("checkout") }?["environments"]?.arrayValue?
            .first { $0["environment"] == .string("production") }
        #expect(production?["degraded"] == .bool(true))
        #expect(production?["openIncidents"]?.intValue == 1, "the reopened incident is open: \(status.text)")
        let metrics = try await http("GET", server.baseURL + "/metrics").text
        #expect(metrics.contains(#"shiplog_events_ingested_total{source="pagerduty",outcome="created"} 3"#))
        #expect(
            metrics.contains(#"shiplog_events_ingested_total{source="pagerduty",outcome="rejected"} 3"#),
            "two bad signatures and a bad body: \(metrics.split(separator: "\n").filter { $0.contains("pagerduty") })"
        )
    }

    // MARK: Argo CD

    @Test func argocdCapturedNotificationsAndTheShippedTemplate() async throws {
        let server = try ServerProcess(db: db, arguments: ["--write-token", "wt"])
        let url = server.baseURL + "/api/v1/webhooks/argocd"
        let auth = ["Authorization": "Bearer wt"]
        var counts: [Int: Int] = [:]
        for path in try Files.fixtures(in: "argocd/captured") {
            // Argo CD's webhook service sends no Content-Type unless configured to.
            let r = try await http("POST", url, body: try Files.fixture(path), contentType: nil, headers: auth)
            counts[r.status, default: 0] += 1
        }
        // 23 bodies: 4 show no sync (skipped), 2 repeat an earlier sync (duplicates), 17 events.
        #expect(counts == [201: 17, 202: 4, 200: 2])
        #expect(rowCount(db) == 17)
        let production = try await events(server, "&service=aaaaaaa")
        #expect(production.first?["event"]?["version"] == .string("6.9.2"))
        #expect(production.first?["event"]?["type"] == .string("deployment.succeeded"))

        // The shipped notification template, rendered the way Argo CD would with toJson.
        let cm = try Files.repositoryFile("deploy/argocd/notifications-cm.yaml")
        let bodies = cm.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix(#"{"trigger": "#) }
        #expect(bodies.count == 5)
        let captured = try JSONValue.parse(try Files.fixture("argocd/captured/002.json"))
        let expectedTypes = [
            "on-deployed": "deployment.succeeded", "on-sync-failed": "deployment.failed",
            "on-health-degraded": "incident.opened", "on-health-healthy": "incident.resolved", "on-sync-running": "deployment.started",
        ]
        for template in bodies {
            let rendered =
                template
                .replacingOccurrences(of: "{{toJson .context}}", with: captured["context"]!.compactJSON())
                .replacingOccurrences(of: "{{toJson .app}}", with: captured["app"]!.compactJSON())
            let trigger = try #require(try JSONValue.parse(rendered)["trigger"]?.stringValue)
            let r = try await http("POST", url, body: rendered, headers: auth)
            #expect(r.status == 201, "\(trigger): \(r.text)")
            let stored = try #require(r.body["results"]?.arrayValue?.first?["id"]?.stringValue)
            let event = try await events(server, "&service=aaaaaaaa-aaaaaaa").first { $0["event"]?["id"] == .string(stored) }
            #expect(event?["event"]?["type"] == .string(expectedTypes[trigger]!), "\(trigger)")
        }

        let unauthorized = try await http("POST", url, body: try Files.fixture("argocd/captured/002.json"), contentType: nil)
        #expect(unauthorized.status == 401)
        let malformed = try await http("POST", url, body: #"{"trigger":"on-deployed","app":[]}"#, headers: auth)
        #expect(malformed.status == 400)
        #expect(malformed.body["field"] == .string("app"))
    }

    // MARK: Alertmanager

    @Test(.timeLimit(.minutes(2)))
    func aRealAlertmanagerOpensAndResolvesIncidents() async throws {
        let server = try ServerProcess(db: db, arguments: ["--write-token", "wt"])
        let tokenFile = dir.write("token", "wt")
        // The shipped receiver, pointed at this server, with test-sized grouping intervals.
        var config = try Files.repositoryFile("deploy/alertmanager/alertmanager.yaml")
        let replacements = [
            "http://shiplog.shiplog-production.svc.cluster.local:8080": server.baseURL,
            "/etc/alertmanager/secrets/shiplog-write-token/token": tokenFile,
            "group_wait: 30s": "group_wait: 1s",
            "group_interval: 1m": "group_interval: 1s",
        ]
        for (from, to) in replacements {
            #expect(config.contains(from), "the shipped config names \(from)")
            config = config.replacingOccurrences(of: from, with: to)
        }
        let configPath = dir.write("alertmanager.yaml", config)
        let amPort = freeLoopbackPort()
        let alertmanager = try BackgroundProcess(
            [
                "prometheus-alertmanager", "--config.file=\(configPath)", "--storage.path=\(dir.path("am-data"))",
                "--web.listen-address=127.0.0.1:\(amPort)", "--cluster.listen-address=",
            ],
            log: dir.path("alertmanager.log")
        )
        let amURL = "http://127.0.0.1:\(amPort)"
        let ready = try await eventually(within: 30) {
            (try? await http("GET", amURL + "/-/ready"))?.status == 200
        }
        #expect(ready, "alertmanager did not start: \(alertmanager.log)")

        let startsAt = Timestamp.now().adding(seconds: -60).rfc3339
        func alert(endsAt: String?) -> String {
            let end = endsAt.map { #","endsAt":"\#($0)""# } ?? ""
            return
                #"[{"labels":{"alertname":"HighErrorRate","service":"checkout","environment":"production","severity":"critical"},"annotations":{"summary":"5% errors"},"startsAt":"\#(startsAt)"\#(end),"generatorURL":"http://prometheus.local/graph"},{"labels":{"alertname":"DiskFull","instance":"node-1"},"startsAt":"\#(startsAt)"}]"#
        }
        let posted = try await http("POST", amURL + "/api/v2/alerts", body: alert(endsAt: nil))
        #expect(posted.status == 200, "\(posted.text)")
        let opened = try await eventually(within: 30) {
            try await events(server, "&type=incident.opened").count == 1
        }
        #expect(opened, "Alertmanager's notification became an incident.opened")
        var metrics = try await http("GET", server.baseURL + "/metrics").text
        #expect(metrics.contains(#"shiplog_open_incidents{service="checkout",environment="production"} 1"#))
        #expect(metrics.contains(#"shiplog_degraded{service="checkout",environment="production"} 1"#))

        let resolvedAt = Timestamp.now().rfc3339
        #expect(try await http("POST", amURL + "/api/v2/alerts", body: alert(endsAt: resolvedAt)).status == 200)
        let resolved = try await eventually(within: 30) {
            try await events(server, "&type=incident.resolved").count == 1
        }
        #expect(resolved, "the resolution became an incident.resolved")
        let incident = try #require(try await events(server, "&type=incident.resolved").first?["event"])
        #expect(incident["service"] == .string("checkout"))
        #expect(incident["incident"]?["title"] == .string("HighErrorRate"))
        metrics = try await http("GET", server.baseURL + "/metrics").text
        #expect(metrics.contains(#"shiplog_open_incidents{service="checkout",environment="production"} 0"#))
        #expect(metrics.contains(#"shiplog_incidents_total{service="checkout",environment="production"} 1"#))
        #expect(try await events(server).count == 2, "the DiskFull alert has no service label: not recorded")
        withExtendedLifetime(alertmanager) {}
    }

    @Test func alertmanagerBadBodiesAndRedelivery() async throws {
        let server = try ServerProcess(db: db, arguments: ["--alert-service-label", "app"])
        let url = server.baseURL + "/api/v1/webhooks/alertmanager"
        let body =
            #"{"version":"4","status":"firing","receiver":"shiplog","alerts":[{"status":"firing","labels":{"alertname":"X","app":"api","environment":"staging"},"startsAt":"2026-11-01T10:00:00Z","fingerprint":"f00"}]}"#
        #expect(try await http("POST", url, body: body).status == 201)
        let again = try await http("POST", url, body: body)
        #expect(again.status == 200)
        #expect(statuses(again) == ["duplicate"])
        let bad = try await http("POST", url, body: #"{"version":"4","alerts":"none"}"#)
        #expect(bad.status == 400)
        #expect(bad.body["field"] == .string("alerts"))
        #expect(try await http("POST", url, body: "x", contentType: "text/plain").status == 415)
        #expect(rowCount(db) == 1)
    }
}
