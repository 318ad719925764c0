import Foundation
import ShiplogModel
import ShiplogTestSupport
import Testing

/// Promotion pipelines as people run them, end to end through the built binary: the shipped
/// GitHub Actions workflow's own shell steps, and Argo CD syncs of config-repo revisions
/// tied to the build by its image. Production must get its lead time from the application
/// commit in both.
@Suite struct PipelineFlowTests {
    let dir = TemporaryDirectory()
    var db: String { dir.path("flow.db") }
    static let digest = "sha256:" + String(repeating: "5e", count: 32)

    func metric(_ text: String, _ name: String, _ environment: String, service: String) -> Double? {
        let prefix = "\(name){service=\"\(service)\",environment=\"\(environment)\"} "
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }

    /// Replaces each `${{ … }}` of a workflow script with its value; an expression the test
    /// does not know fails the test (the workflow changed: teach the test).
    func substitute(_ script: String, _ values: [String: String]) throws -> String {
        var out = ""
        var rest = Substring(script)
        while let open = rest.range(of: "${{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else { throw HarnessError("unclosed ${{ in \(script)") }
            let expression = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard let value = values[expression] else { throw HarnessError("the test does not know ${{ \(expression) }}") }
            out += value
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    @Test(.timeLimit(.minutes(2)))
    func theShippedGitHubActionsWorkflowGivesProductionItsLeadTime() async throws {
        let server = try ServerProcess(db: db, arguments: ["--write-token", "wt"])
        // The repository the workflow checks out: one commit, made two hours ago.
        let repo = TemporaryDirectory()
        let committed = Timestamp.now().adding(seconds: -7200)
        let git = ["GIT_COMMITTER_DATE": committed.rfc3339, "GIT_AUTHOR_DATE": committed.rfc3339]
        for args in [["init", "-q"], ["-c", "user.name=ci", "-c", "user.email=ci@example.com", "commit", "-q", "--allow-empty", "-m", "change"]] {
            let r = try runProcess(["git"] + args, in: repo.url.path, environment: git)
            #expect(r.status == 0, "git \(args): \(r.stderr)")
        }
        let sha = try runProcess(["git", "rev-parse", "HEAD"], in: repo.url.path).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(sha.count == 40)

        let workflow = try #require(try yamlDocuments(Files.repository.appendingPathComponent("deploy/github-actions/promote.yaml").path).first)
        func step(_ job: String, _ name: String) throws -> String {
            let steps = workflow["jobs"]?[job]?["steps"]?.arrayValue ?? []
            let run = steps.first { $0["name"]?.stringValue == name }?["run"]?.stringValue
            return try #require(run, "\(job): \(name)")
        }
        let environment = [
            "PATH": URL(fileURLWithPath: shiplogBinary).deletingLastPathComponent().path + ":"
                + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
            "SERVICE": "checkout", "IMAGE": "ghcr.io/acme/checkout",
            "SHIPLOG_SERVER": server.baseURL, "SHIPLOG_TOKEN": "wt",
        ]
        var values = [
            "github.run_id": "9001", "github.run_attempt": "1", "github.sha": sha, "github.actor": "octocat",
            "github.server_url": "https://github.com", "github.repository": "acme/checkout",
            "steps.version.outputs.version": "1.4.2", "steps.push.outputs.digest": Self.digest,
            "needs.build.outputs.digest": Self.digest, "needs.build.outputs.version": "1.4.2",
            "steps.deploy.outcome == 'success' && 'succeeded' || 'failed'": "succeeded",
        ]
        let scripts: [(String, String)] = [
            ("build", try step("build", "Record the build")),
            ("dev", try step("dev", "Record the deployment")),
            ("staging", try step("staging", "Record the deployment")),
            ("production", try step("production", "Gate — the same digest succeeded in dev and staging")),
            ("production", try step("production", "Record the deployment")),
        ]
        for (job, script) in scripts {
            values["github.job"] = job
            let r = try runProcess(["bash", "-euo", "pipefail", "-c", try substitute(script, values)], in: repo.url.path, environment: environment)
            #expect(r.status == 0, "\(job): \(r.stderr)")
        }
        let stages = scripts.dropFirst().map(\.1)
        #expect(stages.allSatisfy { !$0.contains("--commit") }, "the stages pass only the image")

        let text = try await http("GET", server.baseURL + "/metrics").text
        for env in ["dev", "staging", "production"] {
            #expect(metric(text, "shiplog_lead_time_seconds_count", env, service: "checkout") == 1, "\(env)")
            #expect(metric(text, "shiplog_deployments_without_lead_time_total", env, service: "checkout") == 0, "\(env)")
            let lead = try #require(metric(text, "shiplog_lead_time_seconds_sum", env, service: "checkout"))
            #expect(lead >= 7200 && lead < 7200 + 120, "\(env): \(lead) s since the commit")
        }
        #expect(metric(text, "shiplog_unverified_promotions_total", "production", service: "checkout") == 0)
        let build = try await http("GET", server.baseURL + "/api/v1/events?type=artifact.published").body["events"]?.arrayValue ?? []
        #expect(build.count == 1)
        #expect(build.first?["event"]?["commit"]?.stringValue == sha)

        // Why production has that lead time, as a person would ask.
        let explained = try shiplog(
            ["explain", "--service", "checkout", "--env", "production", "--format", "json"],
            environment: ["SHIPLOG_SERVER": server.baseURL]
        )
        #expect(explained.status == 0, "\(explained.stderr)")
        let body = try JSONValue.parse(explained.stdout)
        let lead = try #require(body["leadTimes"]?.arrayValue?.first)
        #expect(lead["commit"]?.stringValue == sha)
        #expect(lead["commitTimeFrom"]?["type"] == .string("artifact.published"))
        #expect(lead["tiedToArtifactBy"]?["id"] == .string("9001-1-build"))
        #expect(lead["deployment"]?["id"] == .string("9001-1-production"))
        #expect(body["promotions"]?.arrayValue?.first?["previous"]?["id"] == .string("9001-1-staging"))
        let table = try shiplog(["explain", "--service", "checkout", "--env", "production"], environment: ["SHIPLOG_SERVER": server.baseURL])
        #expect(table.stdout.contains("Lead time: median 2h"), "\(table.stdout)")
        #expect(table.stdout.contains("(id 9001-1-build)"))
    }

    @Test func explainNeedsTheReadTokenAndRefusesBadParameters() async throws {
        #expect(
            try shiplog(
                ["events", "import", "--db", db, "-"],
                stdin: #"{"id":"x1","type":"deployment.failed","service":"web","environment":"dev","version":"1"}"# + "\n"
            ).status == 0
        )
        let server = try ServerProcess(db: db, arguments: ["--read-token", "rt"])
        let url = server.baseURL + "/api/v1/explain?service=web&environment=dev"
        #expect(try await http("GET", url).status == 401)
        let ok = try await http("GET", url, headers: ["Authorization": "Bearer rt"])
        #expect(ok.status == 200, "\(ok.text)")
        #expect(ok.body["deployments"]?.arrayValue?.first?["failedBy"]?["id"] == .string("x1"), "a failed deployment fails itself")
        #expect(ok.body["figures"]?["changeFailureRatio"]?.doubleValue == 1)
        for (query, field) in [
            ("service=web", "environment"), ("environment=dev", "service"), ("service=web&environment=dev&window=106752d", "window"),
            ("service=web&environment=dev&window=0s", "window"), ("service=we%20b&environment=dev", "service"),
            ("service=web&environment=dev&x=1", "x"),
        ] {
            let r = try await http("GET", server.baseURL + "/api/v1/explain?" + query, headers: ["Authorization": "Bearer rt"])
            #expect(r.status == 400, "\(query)")
            #expect(r.body["field"] == .string(field), "\(query): \(r.text)")
        }
        let missing = try await http(
            "GET",
            server.baseURL + "/api/v1/explain?service=web&environment=production",
            headers: ["Authorization": "Bearer rt"]
        )
        #expect(missing.status == 404)
        #expect(try await http("GET", server.baseURL + "/healthz").status == 200, "still serving")
        server.stop()
        // The local file, and the same words on stderr for a bad window.
        let local = try shiplog(["explain", "--db", db, "--service", "web", "--env", "dev"])
        #expect(local.status == 0)
        #expect(local.stdout.contains("failed 1 (change failure 100.0%)"), "\(local.stdout)")
        let bad = try shiplog(["explain", "--db", db, "--service", "web", "--env", "dev", "--window", "106752d"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("3650d"))
    }

    /// Captured Argo CD notification bodies: the sync's revision is a config-repo commit (or a
    /// chart version), the application commit comes from the build's `artifact.published`.
    @Test(.timeLimit(.minutes(2)))
    func anArgoCDSyncGetsTheLeadTimeOfTheImageItDeployed() async throws {
        let server = try ServerProcess(db: db)
        let captured = try JSONValue.parse(try Files.fixture("argocd/captured/002.json"))
        let finishedAt = try #require(captured["app"]?["status"]?["operationState"]?["finishedAt"]?.stringValue)
        let finished = try #require(Timestamp(rfc3339: finishedAt))

        // As captured: the image is named by tag (0.6.2), so the build names that version.
        let tagBuild =
            #"{"type":"artifact.published","service":"aaaaaaaa-aaaaaaa","version":"0.6.2","commit":"a1b2c3d","commitTime":"\#(finished.adding(seconds: -3 * 3600).rfc3339)","time":"\#(finished.adding(seconds: -3000).rfc3339)"}"#
        #expect(try await http("POST", server.baseURL + "/api/v1/events", body: tagBuild).status == 201)
        let synced = try await http(
            "POST",
            server.baseURL + "/api/v1/webhooks/argocd",
            body: try Files.fixture("argocd/captured/002.json"),
            contentType: nil
        )
        #expect(synced.status == 201, "\(synced.text)")

        // The same sync of an image pinned by digest (what the docs recommend), for another app;
        // this time the build arrives after the sync.
        var app = try Files.fixture("argocd/captured/002.json")
        app = app.replacingOccurrences(of: "aaaaaaaa-aaaaaaa", with: "pinned-app")
            .replacingOccurrences(of: "ghcr.io/cdviz-dev/pinned-app:0.6.2\"", with: "ghcr.io/cdviz-dev/pinned-app:0.6.2@\(Self.digest)\"")
        #expect(app.contains(Self.digest))
        #expect(try await http("POST", server.baseURL + "/api/v1/webhooks/argocd", body: app, contentType: nil).status == 201)
        let pinnedBuild =
            #"{"type":"artifact.published","service":"pinned-app","artifact":"ghcr.io/cdviz-dev/pinned-app@\#(Self.digest)","commit":"e4f5a6b","commitTime":"\#(finished.adding(seconds: -5400).rfc3339)","time":"\#(finished.adding(seconds: -3000).rfc3339)"}"#
        #expect(try await http("POST", server.baseURL + "/api/v1/events", body: pinnedBuild).status == 201)

        let text = try await http("GET", server.baseURL + "/metrics").text
        #expect(
            metric(text, "shiplog_lead_time_seconds_sum", "aaaaaaaa-aaaaaaa", service: "aaaaaaaa-aaaaaaa") == 10_800,
            "3 h from a1b2c3d, not the manifest commit"
        )
        #expect(metric(text, "shiplog_lead_time_seconds_count", "aaaaaaaa-aaaaaaa", service: "aaaaaaaa-aaaaaaa") == 1)
        #expect(metric(text, "shiplog_lead_time_seconds_sum", "pinned-app", service: "pinned-app") == 5_400, "the build that came later")
        #expect(metric(text, "shiplog_deployments_without_lead_time_total", "pinned-app", service: "pinned-app") == 0)
        let stored =
            try await http("GET", server.baseURL + "/api/v1/events?service=pinned-app&type=deployment.succeeded").body["events"]?.arrayValue ?? []
        #expect(stored.first?["event"]?["artifact"]?.stringValue == "ghcr.io/cdviz-dev/pinned-app:0.6.2@\(Self.digest)")
    }
}

/// Runs a program (found on PATH) to completion in a directory.
func runProcess(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> RunResult {
    try runProgram("/usr/bin/env", arguments, environment: environment, directory: directory)
}
