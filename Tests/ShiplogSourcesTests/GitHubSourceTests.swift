import ShiplogModel
import Testing

@testable import ShiplogSources

@Suite struct GitHubSourceTests {
    let now = Timestamp(rfc3339: "2026-11-27T12:00:00Z")!
    let sha = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"

    func decode(_ path: String, _ event: String, delivery: String? = "d-1") throws -> SourceBatch {
        try GitHubSource.decode(Fixtures.bytes(path), event: event, delivery: delivery, receivedAt: now).get()
    }

    @Test func deploymentCreatedIsAStart() throws {
        let batch = try decode("github/deployment/payload.json", "deployment")
        let p = try #require(batch.events.first)
        let e = p.event
        #expect(e.type == .deploymentStarted)
        #expect(p.id == "github:deployment-145988746", "the signed body's deployment id, not the unsigned delivery header")
        #expect(e.service == "Hello-World")
        #expect(e.environment == "production")
        #expect(e.commit == sha)
        #expect(e.version == "f95f852bd8fc", "ref master is a branch: the commit stands in")
        #expect(e.time == Timestamp(rfc3339: "2019-05-15T15:20:53Z"))
        #expect(e.actor == "Codertocat")
        #expect(e.source == "github")
        #expect(e.annotations == ["github.repository": "Codertocat/Hello-World", "github.deployment_id": "145988746"])
        #expect(p.format == .github)
    }

    @Test(arguments: ["payload.json", "with-installation.payload.json"])
    func successfulStatusIsASuccessfulDeployment(file: String) throws {
        let e = try #require(try decode("github/deployment_status/\(file)", "deployment_status").events.first).event
        #expect(e.type == .deploymentSucceeded)
        #expect(e.service == "Hello-World")
        #expect(e.environment == "production")
        #expect(e.commit == sha)
        #expect(e.time == Timestamp(rfc3339: "2019-05-15T15:20:55Z"))
        #expect(e.url == nil, "an empty target_url is no link")
    }

    @Test func inProgressStatusIsAStartWithTheRunLink() throws {
        let e = try #require(try decode("github/deployment_status/gh-pages.payload.json", "deployment_status").events.first).event
        #expect(e.type == .deploymentStarted)
        #expect(e.environment == "github-pages")
        #expect(e.url == "https://github.com/CorsixTH/CorsixTH/runs/4687056418?check_suite_focus=true")
        #expect(e.time == Timestamp(rfc3339: "2022-01-03T01:28:40Z"))
    }

    func withState(_ state: String, payload: String = "{}") throws -> [UInt8] {
        var text = String(decoding: try Fixtures.bytes("github/deployment_status/payload.json"), as: UTF8.self)
        text = text.replacingOccurrences(of: #""state": "success""#, with: #""state": "\#(state)""#)
        text = text.replacingOccurrences(of: #""payload": {}"#, with: #""payload": \#(payload)"#)
        return Array(text.utf8)
    }

    @Test func statesMapAsDocumented() throws {
        let expected: [String: EventType?] = [
            "success": .deploymentSucceeded, "failure": .deploymentFailed, "error": .deploymentFailed,
            "pending": .deploymentStarted, "queued": .deploymentStarted, "waiting": .deploymentStarted,
            "in_progress": .deploymentStarted, "inactive": nil,
        ]
        for (state, type) in expected {
            let batch = try GitHubSource.decode(withState(state), event: "deployment_status", delivery: "x", receivedAt: now).get()
            #expect(batch.events.first?.event.type == type, "\(state)")
            #expect(batch.skipped.count == (type == nil ? 1 : 0), "\(state)")
        }
        guard case .failure(let e) = GitHubSource.decode(try withState("exploded"), event: "deployment_status", delivery: "x", receivedAt: now) else {
            Issue.record("an unknown state must be refused")
            return
        }
        #expect(e.field == "deployment_status.state")
    }

    @Test func thePayloadCarriesShiplogFieldsAsObjectOrString() throws {
        let object =
            #"{"service": "checkout", "version": "2.1.0", "artifact": "ghcr.io/acme/checkout@sha256:abc123", "hotfix": true, "namespace": "shop", "workload": "checkout-api"}"#
        let string = "\"" + object.replacingOccurrences(of: "\"", with: "\\\"") + "\""
        for payload in [object, string] {
            let e = try #require(
                try GitHubSource.decode(withState("success", payload: payload), event: "deployment_status", delivery: "x", receivedAt: now).get()
                    .events.first
            ).event
            #expect(e.service == "checkout")
            #expect(e.version == "2.1.0")
            #expect(e.artifactIdentity == "sha256:abc123")
            #expect(e.hotfix)
            #expect(e.namespace == "shop" && e.workload == "checkout-api")
        }
    }

    @Test func versionFromTheRef() {
        #expect(GitHubSource.version(ref: "v1.2.3", sha: sha) == "v1.2.3")
        #expect(GitHubSource.version(ref: "refs/tags/release-7", sha: sha) == "release-7")
        #expect(GitHubSource.version(ref: "2.0", sha: sha) == "2.0")
        #expect(GitHubSource.version(ref: "main", sha: sha) == "f95f852bd8fc")
        #expect(GitHubSource.version(ref: sha, sha: sha) == "f95f852bd8fc")
        #expect(GitHubSource.version(ref: "main", sha: nil) == "main")
    }

    /// The delivery header is not signed: the key comes from the body, so a signed body
    /// replayed under new delivery ids is one event.
    @Test func theKeyComesFromTheSignedBodyNotTheDelivery() throws {
        let a = try #require(try decode("github/deployment_status/payload.json", "deployment_status", delivery: "d-1").events.first)
        let b = try #require(try decode("github/deployment_status/payload.json", "deployment_status", delivery: "d-2").events.first)
        let none = try #require(try decode("github/deployment_status/payload.json", "deployment_status", delivery: nil).events.first)
        #expect(a.id == "github:deployment-status-209916254-success")
        #expect(b.id == a.id && none.id == a.id)
        let progress = try #require(try decode("github/deployment_status/gh-pages.payload.json", "deployment_status").events.first)
        #expect(progress.id == "github:deployment-status-209916254-in_progress", "another state of the status is another event")
        let text = String(decoding: try Fixtures.bytes("github/deployment_status/payload.json"), as: UTF8.self)
        let unnumbered = text.replacingOccurrences(of: #""id": 209916254,"#, with: "")
        #expect(unnumbered != text)
        let withoutID = try #require(
            try GitHubSource.decode(Array(unnumbered.utf8), event: "deployment_status", delivery: "d-9", receivedAt: now).get().events.first
        )
        #expect(withoutID.id == "github:d-9", "a body without the status id falls back to the delivery")
    }

    @Test func otherEventsAreSkippedAndBadBodiesRefused() throws {
        let push = try decode("github/push/payload.json", "push")
        #expect(push.events.isEmpty && push.skipped.count == 1)
        let body = try Fixtures.bytes("github/deployment/payload.json")
        guard case .failure(let missing) = GitHubSource.decode(body, event: nil, delivery: nil, receivedAt: now) else {
            Issue.record("no event header must be refused")
            return
        }
        #expect(missing.field == "X-GitHub-Event")
        guard case .failure(let garbage) = GitHubSource.decode(Array("{oops".utf8), event: "deployment", delivery: nil, receivedAt: now) else {
            Issue.record("bad JSON must be refused")
            return
        }
        #expect(garbage.message.contains("not JSON"))
        guard case .failure(let wrong) = GitHubSource.decode(Array("{}".utf8), event: "deployment_status", delivery: nil, receivedAt: now) else {
            Issue.record("a status without deployment_status must be refused")
            return
        }
        #expect(wrong.field == "deployment_status")
    }

    @Test func aMergedPullRequestIsAChangeMergedAtItsMergeCommit() throws {
        let batch = try decode("github/captured/pull_request/closed.01.json", "pull_request", delivery: "d-pr")
        let p = try #require(batch.events.first)
        let e = p.event
        #expect(e.type == .changeMerged)
        #expect(e.commit == "44d21f9752bb9eb3952238ff7e25965b8f779d51", "merge_commit_sha: what a deployment of main ships")
        #expect(e.time == Timestamp(rfc3339: "2025-05-21T17:35:21Z"), "merged_at")
        #expect(e.service == "aaaaa-aaaaaaaaa", "repository.name, as for deployments")
        #expect(e.environment == nil)
        #expect(e.actor == "aaaaaA")
        #expect(e.url == "https://github.com/aaaaa-aaa/aaaaa-aaaaaaaaa/pull/97")
        #expect(e.message == "wip")
        #expect(e.source == "github")
        #expect(e.annotations == ["github.repository": "aaaaa-aaa/aaaaa-aaaaaaaaa", "github.pull_request": "97", "github.base_ref": "main"])
        #expect(p.id == "github:pull-request-1111111111-merged", "from the signed body: a redelivery is a duplicate")
        let again = try decode("github/captured/pull_request/closed.01.json", "pull_request", delivery: "d-other")
        #expect(again.events.first?.id == p.id)
        #expect(p.raw == (try Fixtures.bytes("github/captured/pull_request/closed.01.json")))
    }

    @Test func aPullRequestClosedWithoutMergingIsSkipped() throws {
        // It has a merge_commit_sha too (GitHub's test merge): only `merged` tells a merge.
        let batch = try decode("github/pull_request/closed.payload.json", "pull_request")
        #expect(batch.events.isEmpty)
        #expect(batch.skipped.map(\.reason) == ["the pull request was closed without merging"])
        var text = String(decoding: try Fixtures.bytes("github/captured/pull_request/closed.01.json"), as: UTF8.self)
        text = text.replacingOccurrences(of: #""action": "closed""#, with: #""action": "reopened""#)
        let reopened = try GitHubSource.decode(Array(text.utf8), event: "pull_request", delivery: nil, receivedAt: now).get()
        #expect(reopened.events.isEmpty && reopened.skipped.count == 1)
    }

    @Test(arguments: [
        "github/workflow_run/completed.payload.json", "github/workflow_run/completed.with-pull-requests.payload.json",
        "github/captured/workflow_run/completed.json", "github/captured/workflow_run/in_progress.json",
        "github/captured/workflow_run/requested.json",
    ])
    func workflowRunsAreAcknowledgedNotStored(path: String) throws {
        let batch = try decode(path, "workflow_run")
        #expect(batch.events.isEmpty)
        #expect(batch.skipped.first?.reason.contains("deployment_status") == true)
    }

    @Test func signatures() throws {
        let body = try Fixtures.bytes("github/deployment/payload.json")
        let good = GitHubSource.signature(body: body, secret: "s3cret")
        #expect(good.hasPrefix("sha256=") && good.count == 71)
        #expect(GitHubSource.verifySignature(good, body: body, secret: "s3cret"))
        #expect(GitHubSource.verifySignature(good.uppercased().replacingOccurrences(of: "SHA256=", with: "sha256="), body: body, secret: "s3cret"))
        #expect(!GitHubSource.verifySignature(good, body: body, secret: "other"))
        #expect(!GitHubSource.verifySignature(good, body: body + [0x20], secret: "s3cret"))
        #expect(!GitHubSource.verifySignature(nil, body: body, secret: "s3cret"))
        #expect(!GitHubSource.verifySignature("sha1=abc", body: body, secret: "s3cret"))
        #expect(!GitHubSource.verifySignature("sha256=zz", body: body, secret: "s3cret"))
        // The HMAC of the empty message under key "key" (RFC 4231-style known answer).
        #expect(GitHubSource.signature(body: [], secret: "key") == "sha256=5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0")
    }
}
