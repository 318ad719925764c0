import ShiplogModel
import Testing

@testable import ShiplogSources

@Suite struct GitLabSourceTests {
    let now = Timestamp(rfc3339: "2026-11-27T12:00:00Z")!

    func decode(_ path: String, key: String? = nil, services: GitLabSource.ServiceMap = [:]) throws -> SourceBatch {
        try GitLabSource.decode(Fixtures.bytes(path), idempotencyKey: key, services: services, receivedAt: now).get()
    }

    /// `gitlab/go-gitlab/deployment.json`, field by field (worked out by hand from the file).
    @Test func aSuccessfulDeploymentHook() throws {
        let batch = try decode("gitlab/go-gitlab/deployment.json", key: "7c3f6c2e-0d6e-4b7a-9a5e-1f0e7a1b2c3d")
        let p = try #require(batch.events.first)
        let e = p.event
        #expect(e.type == .deploymentSucceeded)
        #expect(p.id == "gitlab:7c3f6c2e-0d6e-4b7a-9a5e-1f0e7a1b2c3d", "GitLab's Idempotency-Key: retries and resends carry it")
        #expect(e.service == "test-deployment-webhooks", "the project's path; names cannot hold the namespace's /")
        #expect(e.environment == "staging")
        #expect(e.commit == "279484c09fbe69ededfced8c1bb6e6d24616b468", "the full SHA commit_url ends with")
        #expect(e.version == "1.0.0", "ref 1.0.0 is a tag-like version")
        #expect(e.time == Timestamp(rfc3339: "2021-04-28T19:50:00Z"), "2021-04-28 21:50:00 +0200")
        #expect(e.actor == "user1")
        #expect(e.url == "http://10.126.0.2:3000/root/test-deployment-webhooks/-/jobs/796")
        #expect(e.message == "Add new file")
        #expect(e.source == "gitlab")
        #expect(e.annotations == ["gitlab.project": "root/test-deployment-webhooks", "gitlab.deployment_id": "15"])
        #expect(p.format == .gitlab)
        #expect(p.raw == (try Fixtures.bytes("gitlab/go-gitlab/deployment.json")))
        let unkeyed = try #require(try decode("gitlab/go-gitlab/deployment.json").events.first)
        #expect(unkeyed.id == "gitlab:deployment-30-15-success", "without the header: project, deployment and status from the body")
        let mapped = try #require(
            try decode("gitlab/go-gitlab/deployment.json", services: ["root/test-deployment-webhooks": "deployer"]).events.first
        )
        #expect(mapped.event.service == "deployer")
    }

    func withStatus(_ status: String, environment: String = "staging") throws -> [UInt8] {
        var text = String(decoding: try Fixtures.bytes("gitlab/go-gitlab/deployment.json"), as: UTF8.self)
        text = text.replacingOccurrences(of: #""status": "success""#, with: #""status": "\#(status)""#)
        text = text.replacingOccurrences(of: #""environment": "staging""#, with: #""environment": "\#(environment)""#)
        return Array(text.utf8)
    }

    @Test func deploymentStatusesMapAsDocumented() throws {
        let expected: [String: EventType?] = [
            "running": .deploymentStarted, "success": .deploymentSucceeded, "failed": .deploymentFailed, "canceled": nil,
        ]
        for (status, type) in expected {
            let batch = try GitLabSource.decode(try withStatus(status), idempotencyKey: nil, receivedAt: now).get()
            #expect(batch.events.first?.event.type == type, "\(status)")
            #expect(batch.skipped.count == (type == nil ? 1 : 0), "\(status)")
        }
        let review = try GitLabSource.decode(try withStatus("success", environment: "review/feature-x"), idempotencyKey: nil, receivedAt: now).get()
        #expect(review.events.isEmpty, "a review app's environment is no valid name: acknowledged, not stored")
        #expect(review.skipped.first?.reason.contains("review/feature-x") == true)
    }

    @Test func aMergedMergeRequestIsAChangeMerged() throws {
        let p = try #require(try decode("gitlab/go-scm/pull_request_merge.json").events.first)
        let e = p.event
        #expect(e.type == .changeMerged)
        #expect(e.commit == "78a76ee6b4992a6baf64c59fc4c44c7323d60438", "merge_commit_sha")
        #expect(e.time == Timestamp(rfc3339: "2017-12-10T17:08:07Z"), "updated_at of the merge: GitLab sends no merged_at")
        #expect(e.service == "hello-world")
        #expect(e.environment == nil)
        #expect(e.actor == "sytses")
        #expect(e.url == "https://gitlab.com/gitlab-org/hello-world/merge_requests/1")
        #expect(e.message == "update readme")
        #expect(e.annotations == ["gitlab.project": "gitlab-org/hello-world", "gitlab.merge_request": "1", "gitlab.target_branch": "master"])
        #expect(p.id == "gitlab:merge-request-6632669-merged")
    }

    @Test(arguments: [
        "gitlab/go-scm/pull_request_close.json", "gitlab/go-gitlab/merge_request.json", "gitlab/go-gitlab/push.json",
        "gitlab/go-gitlab/tag_push.json", "gitlab/go-gitlab/pipeline.json", "gitlab/go-gitlab/job.json", "gitlab/go-gitlab/issue.json",
        "gitlab/go-gitlab/release.json", "gitlab/go-scm/push_merge.json", "gitlab/go-scm/pipeline_hook.json",
    ])
    func otherHooksAreAcknowledgedNotStored(path: String) throws {
        let batch = try decode(path)
        #expect(batch.events.isEmpty, "\(path)")
        #expect(batch.skipped.count == 1, "\(path)")
    }

    @Test func theMalformedUpstreamMergeIsRefusedNamingTheField() throws {
        // Its keys carry trailing spaces ("state ": "merged "): a merge without a state.
        guard
            case .failure(let error) = GitLabSource.decode(
                try Fixtures.bytes("gitlab/go-gitlab/group_merge_request.json"),
                idempotencyKey: nil,
                receivedAt: now
            )
        else {
            Issue.record("a merge without state must be refused")
            return
        }
        #expect(error.field == "object_attributes.state" || error.events.first?.errors.first?.field == "object_attributes.state", "\(error)")
    }

    @Test func bothTimeFormsBecomeRFC3339() {
        #expect(GitLabSource.rfc3339("2021-04-28 21:50:00 +0200") == "2021-04-28T21:50:00+02:00")
        #expect(GitLabSource.rfc3339("2021-04-28 21:50:00 -0530") == "2021-04-28T21:50:00-05:30")
        #expect(GitLabSource.rfc3339("2017-12-10 17:08:07 UTC") == "2017-12-10T17:08:07Z")
        #expect(GitLabSource.rfc3339("2013-12-03T17:23:34Z") == "2013-12-03T17:23:34Z")
        #expect(GitLabSource.rfc3339("yesterday at noon") == "yesterday at noon", "left for validation to refuse")
    }
}
