import Testing

@testable import ShiplogModel

let now = Timestamp(rfc3339: "2026-01-10T12:00:00Z")!

func validate(_ text: String) -> Result<Event, EventValidationError> {
    Event.validate(try! JSONValue.parse(text), now: now)
}

/// The (field, message) pairs of a failed validation.
func errors(_ text: String) -> [FieldError] {
    switch validate(text) {
    case .success: return []
    case .failure(let e): return e.errors
    }
}

func fields(_ text: String) -> [String] { errors(text).map(\.field) }

@Suite struct EventValidationTests {
    @Test func fullEventReadsEveryField() throws {
        let event = try validate(
            """
            {"id": "run-42", "type": "deployment.succeeded", "service": "checkout", "environment": "production",
             "time": "2026-01-10T13:00:00+02:00", "version": "1.4.2",
             "artifact": "ghcr.io/acme/checkout@sha256:abc", "commit": "9f1c2e7", "commitTime": "2026-01-09T08:00:00Z",
             "changes": [{"commit": "a1", "time": "2026-01-08T00:00:00Z"}, {"commit": "b2"}],
             "namespace": "shop", "workload": "checkout-api", "revision": 7, "changeCause": "bump",
             "actor": "alice", "source": "github-actions", "url": "https://ci/run/42", "message": "hi",
             "hotfix": true, "annotations": {"team": "payments"}, "schemaVersion": 1}
            """
        ).get()
        #expect(event.id == "run-42")
        #expect(event.type == .deploymentSucceeded)
        #expect(event.service == "checkout")
        #expect(event.environment == "production")
        #expect(event.time == Timestamp(rfc3339: "2026-01-10T11:00:00Z"))
        #expect(event.version == "1.4.2")
        #expect(event.artifact == "ghcr.io/acme/checkout@sha256:abc")
        #expect(event.artifactIdentity == "sha256:abc")
        #expect(event.commit == "9f1c2e7")
        #expect(event.commitTime == Timestamp(rfc3339: "2026-01-09T08:00:00Z"))
        #expect(event.changes == [Change(commit: "a1", time: Timestamp(rfc3339: "2026-01-08T00:00:00Z")), Change(commit: "b2")])
        // commitTime belongs to commit alone, never to an entry of changes (PRODUCT.md §1).
        #expect(event.shippedChanges.map(\.time) == [Timestamp(rfc3339: "2026-01-08T00:00:00Z"), nil])
        #expect(
            event.statedCommitTimes.map { "\($0.commit)@\($0.time)" } == [
                "9f1c2e7@\(Timestamp(rfc3339: "2026-01-09T08:00:00Z")!.nanoseconds)",
                "a1@\(Timestamp(rfc3339: "2026-01-08T00:00:00Z")!.nanoseconds)",
            ])
        #expect(event.namespace == "shop")
        #expect(event.workload == "checkout-api")
        #expect(event.revision == "7")
        #expect(event.changeCause == "bump")
        #expect(event.actor == "alice")
        #expect(event.source == "github-actions")
        #expect(event.url == "https://ci/run/42")
        #expect(event.message == "hi")
        #expect(event.hotfix)
        #expect(event.annotations == ["team": "payments"])
    }

    @Test func requiredFields() {
        #expect(fields(#"{}"#) == ["type", "service", "environment"].filter { $0 != "environment" })
        #expect(fields(#"{"type": "deployment.succeeded"}"#) == ["service", "environment"])
        #expect(fields(#"{"type": "deployment.succeeded", "service": "a"}"#) == ["environment"])
        #expect(fields(#"{"type": "change.merged", "service": "a", "commit": "abc"}"#).isEmpty)
        #expect(fields(#"{"type": "change.merged", "service": "a"}"#) == ["commit"])
        #expect(fields(#"{"type": "incident.opened", "service": "a", "environment": "prod"}"#) == ["incident"])
        #expect(fields(#"{"type": "incident.opened", "service": "a", "environment": "prod", "incident": {}}"#) == ["incident.id"])
        #expect(fields(#"{"type": "incident.resolved", "service": "a", "environment": "prod", "incident": {"id": "INC-1"}}"#).isEmpty)
        #expect(fields(#"{"type": "deployment.succeeded", "service": "a", "environment": "prod", "incident": {"id": "INC-1"}}"#) == ["incident"])
    }

    @Test func typeMustBeKnown() {
        let e = errors(#"{"type": "deployment.done", "service": "a", "environment": "b"}"#)
        #expect(e.map(\.field) == ["type"])
        #expect(e[0].message.contains("unknown type \"deployment.done\""))
        #expect(e[0].message.contains("deployment.rolled_back"))
        #expect(fields(#"{"type": 3, "service": "a", "environment": "b"}"#) == ["type"])
        for type in EventType.allCases where type != .changeMerged && type != .artifactPublished && !type.isIncident {
            #expect(fields(#"{"type": "\#(type.rawValue)", "service": "a", "environment": "b"}"#).isEmpty)
        }
    }

    @Test func artifactPublishedNeedsAnArtifactNotAnEnvironment() {
        #expect(fields(#"{"type": "artifact.published", "service": "a"}"#) == ["artifact"])
        #expect(errors(#"{"type": "artifact.published", "service": "a"}"#)[0].message.contains("artifact or a version"))
        #expect(fields(#"{"type": "artifact.published", "service": "a", "version": "1.2"}"#).isEmpty)
        #expect(
            fields(
                #"{"type": "artifact.published", "service": "a", "artifact": "ghcr.io/a@sha256:\#(String(repeating: "0", count: 64))", "commit": "c1", "commitTime": "2026-01-01T00:00:00Z"}"#
            ).isEmpty
        )
        #expect(fields(#"{"type": "artifact.published", "service": "a", "version": "1.2", "commitTime": "yesterday"}"#) == ["commitTime"])
    }

    @Test(arguments: ["a", "A1", "checkout-api", "svc_2.v1", "9", String(repeating: "x", count: 128)])
    func validNames(name: String) {
        #expect(fields(#"{"type": "deployment.started", "service": "\#(name)", "environment": "\#(name)"}"#).isEmpty)
    }

    @Test(arguments: ["", "-a", ".a", "_a", "a b", "a/b", "ä", "a:b", String(repeating: "x", count: 129)])
    func invalidNames(name: String) {
        #expect(fields(#"{"type": "deployment.started", "service": "\#(name)", "environment": "ok"}"#) == ["service"])
        #expect(fields(#"{"type": "deployment.started", "service": "ok", "environment": "\#(name)"}"#) == ["environment"])
    }

    @Test func idLength() {
        let ok = String(repeating: "i", count: 200)
        #expect(fields(#"{"id": "\#(ok)", "type": "deployment.started", "service": "a", "environment": "b"}"#).isEmpty)
        let e = errors(#"{"id": "\#(ok)x", "type": "deployment.started", "service": "a", "environment": "b"}"#)
        #expect(e.map(\.field) == ["id"])
        #expect(e[0].message == "is 201 bytes long; at most 200 allowed")
        #expect(fields(#"{"id": "", "type": "deployment.started", "service": "a", "environment": "b"}"#) == ["id"])
        #expect(fields(#"{"id": 5, "type": "deployment.started", "service": "a", "environment": "b"}"#) == ["id"])
    }

    @Test func timeInTheFuture() {
        // now is 12:00:00Z; five minutes of skew are allowed.
        #expect(fields(#"{"type": "deployment.started", "service": "a", "environment": "b", "time": "2026-01-10T12:05:00Z"}"#).isEmpty)
        let e = errors(#"{"type": "deployment.started", "service": "a", "environment": "b", "time": "2026-01-10T12:05:00.001Z"}"#)
        #expect(e.map(\.field) == ["time"])
        #expect(e[0].message.contains("more than 5 minutes in the future"))
        #expect(fields(#"{"type": "deployment.started", "service": "a", "environment": "b", "time": "2026-01-10T14:04:00+02:00"}"#).isEmpty)
    }

    @Test func timesMustBeRFC3339() {
        let e = errors(#"{"type": "deployment.started", "service": "a", "environment": "b", "time": "10/01/2026", "commitTime": "2026-01-10"}"#)
        #expect(e.map(\.field) == ["time", "commitTime"])
        #expect(e[0].message.contains("expected RFC 3339"))
    }

    @Test func changes() {
        let base = #""type": "deployment.succeeded", "service": "a", "environment": "b""#
        #expect(fields("{\(base), \"changes\": {}}") == ["changes"])
        #expect(fields("{\(base), \"changes\": [\"abc\"]}") == ["changes[0]"])
        #expect(fields("{\(base), \"changes\": [{\"time\": \"2026-01-01T00:00:00Z\"}]}") == ["changes[0].commit"])
        #expect(fields("{\(base), \"changes\": [{\"commit\": \"a\"}, {\"commit\": \"b\", \"time\": \"soon\"}]}") == ["changes[1].time"])
        #expect(fields("{\(base), \"changes\": [{\"commit\": \"a\", \"author\": \"x\"}]}") == ["changes[0].author"])
    }

    @Test func incidentFields() {
        let base = #""type": "incident.opened", "service": "a", "environment": "b""#
        #expect(fields("{\(base), \"incident\": \"INC-1\"}") == ["incident"])
        #expect(fields("{\(base), \"incident\": {\"id\": \"1\", \"severity\": 2}}") == ["incident.severity"])
        #expect(fields("{\(base), \"incident\": {\"id\": \"1\", \"owner\": \"x\"}}") == ["incident.owner"])
        let e = try! validate("{\(base), \"incident\": {\"id\": \"1\", \"severity\": \"sev1\", \"title\": \"down\", \"url\": \"u\"}}").get()
        #expect(e.incident == Incident(id: "1", severity: "sev1", title: "down", url: "u"))
    }

    @Test func optionalStringsMustBeNonEmptyStringsWithinLimits() {
        let base = #""type": "deployment.succeeded", "service": "a", "environment": "b""#
        for key in ["version", "artifact", "commit", "namespace", "workload", "changeCause", "actor", "source", "url", "message"] {
            #expect(fields("{\(base), \"\(key)\": 1}") == [key])
            #expect(fields("{\(base), \"\(key)\": \"\"}") == [key])
            #expect(fields("{\(base), \"\(key)\": null}").isEmpty)
        }
        #expect(fields("{\(base), \"version\": \"\(String(repeating: "v", count: 257))\"}") == ["version"])
        #expect(fields("{\(base), \"message\": \"\(String(repeating: "m", count: 16_384))\"}").isEmpty)
        #expect(fields("{\(base), \"message\": \"\(String(repeating: "m", count: 16_385))\"}") == ["message"])
    }

    @Test func revisionHotfixAnnotations() {
        let base = #""type": "deployment.succeeded", "service": "a", "environment": "b""#
        #expect(fields("{\(base), \"revision\": \"12\"}").isEmpty)
        #expect(fields("{\(base), \"revision\": 1.5}") == ["revision"])
        #expect(fields("{\(base), \"hotfix\": \"yes\"}") == ["hotfix"])
        #expect(fields("{\(base), \"annotations\": [\"a\"]}") == ["annotations"])
        #expect(fields("{\(base), \"annotations\": {\"a\": 1}}") == ["annotations.a"])
        #expect(fields("{\(base), \"annotations\": {\"\": \"x\"}}") == ["annotations."])
    }

    @Test func unknownFieldsAreNamed() {
        let e = errors(#"{"type": "deployment.succeeded", "service": "a", "environment": "b", "comitTime": "2026-01-01T00:00:00Z"}"#)
        #expect(e == [FieldError(field: "comitTime", message: "unknown field")])
        #expect(fields(#"{"type": "deployment.succeeded", "service": "a", "environment": "b", "schemaVersion": 2}"#) == ["schemaVersion"])
    }

    @Test func everyProblemIsReportedAtOnce() {
        #expect(
            fields(#"{"type": "nope", "service": "", "environment": "a b", "time": "x", "hotfix": 1}"#) == [
                "type", "service", "environment", "time", "hotfix",
            ]
        )
    }

    @Test func notAnObject() {
        #expect(errors("[1]").first?.message == "an event must be a JSON object, not an array")
    }
}
