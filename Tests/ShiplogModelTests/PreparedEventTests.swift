import Testing

@testable import ShiplogModel

@Suite struct PreparedEventTests {
    let received = Timestamp(rfc3339: "2026-01-10T12:00:00Z")!

    func prepare(_ text: String, at time: Timestamp? = nil) -> PreparedEvent {
        PreparedEvent(try! validate(text).get(), raw: Array(text.utf8), format: .native, receivedAt: time ?? received)
    }

    @Test func defaultsTimeToReceiveTime() {
        let p = prepare(#"{"type": "deployment.started", "service": "a", "environment": "b"}"#)
        #expect(p.time == received)
        #expect(p.canonical.contains(#""time":"2026-01-10T12:00:00Z""#))
    }

    @Test func derivedIdDependsOnContentAndTime() {
        let text = #"{"type": "deployment.started", "service": "a", "environment": "b"}"#
        let a = prepare(text)
        let b = prepare(text, at: received.adding(seconds: 1))
        #expect(a.id.count == 64)
        #expect(a.id != b.id, "two posts without a time are two events")
        #expect(a.contentDigest == b.contentDigest, "what the store fills in is not part of the sent content")

        let timed = #"{"type": "deployment.started", "service": "a", "environment": "b", "time": "2026-01-10T11:00:00Z"}"#
        #expect(prepare(timed).id == prepare(timed, at: received.adding(seconds: 60)).id, "a retried post with a time is a duplicate")
        // Formatting and key order do not matter: the id comes from canonical content.
        let reordered = #"{"time": "2026-01-10T13:00:00+02:00", "environment": "b", "service": "a", "type": "deployment.started"}"#
        #expect(prepare(timed).id == prepare(reordered).id)
    }

    @Test func explicitIdIsKept() {
        let p = prepare(#"{"id": "x1", "type": "deployment.started", "service": "a", "environment": "b"}"#)
        #expect(p.id == "x1")
        let later = prepare(#"{"id": "x1", "type": "deployment.started", "service": "a", "environment": "b"}"#, at: received.adding(seconds: 5))
        #expect(p.contentDigest == later.contentDigest)
        #expect(p.time != later.time)
        let other = prepare(#"{"id": "x1", "type": "deployment.started", "service": "a", "environment": "c"}"#)
        #expect(p.contentDigest != other.contentDigest)
    }

    @Test func canonicalTextIsStable() {
        let p = prepare(
            #"{"id":"1","type":"deployment.succeeded","service":"a","environment":"b","time":"2026-01-10T11:00:00.50+00:00","hotfix":false,"annotations":{"z":"1","a":"2"}}"#
        )
        #expect(
            p.canonical
                == #"{"annotations":{"a":"2","z":"1"},"environment":"b","id":"1","service":"a","time":"2026-01-10T11:00:00.5Z","type":"deployment.succeeded"}"#
        )
    }

    @Test func artifactIdentity() {
        var e = Event(type: .deploymentSucceeded, service: "a", environment: "b", version: "1.0")
        #expect(e.artifactIdentity == "1.0")
        e.artifact = "ghcr.io/acme/a:1.0@sha256:0123"
        #expect(e.artifactIdentity == "sha256:0123")
        e.artifact = "pkg:oci/a@sha256%3A0123?repository_url=ghcr.io/acme"
        #expect(e.artifactIdentity == "sha256:0123", "an OCI purl's version is its digest")
        e.artifact = "pkg:oci/a?repository_url=ghcr.io/acme"
        #expect(e.artifactIdentity == "1.0", "without a digest the version identifies the artifact")
        e.artifact = "pkg:oci/a?digest=sha256%3A0456"
        #expect(e.artifactIdentity == "sha256:0456")
    }
}
