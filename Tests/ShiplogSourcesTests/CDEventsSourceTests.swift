import ShiplogModel
import Testing

@testable import ShiplogSources

@Suite struct CDEventsSourceTests {
    let now = Timestamp(rfc3339: "2026-11-27T12:00:00Z")!
    static let digest = "sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427"
    static let purl = "pkg:oci/myapp@sha256%3A0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427"

    func one(_ path: String, mode: CDEventsSource.Mode = .binary(headers: [:])) throws -> PreparedEvent {
        let batch = try CDEventsSource.decode(Fixtures.bytes(path), mode: mode, receivedAt: now).get()
        #expect(batch.skipped.isEmpty)
        return try #require(batch.events.count == 1 ? batch.events[0] : nil)
    }

    @Test(arguments: ["v0.4.1", "v0.5.1"])
    func serviceDeployedAndUpgradedAreSuccessfulDeployments(spec: String) throws {
        for name in ["service_deployed", "service_upgraded"] {
            let p = try one("cdevents/\(spec)/conformance/\(name).json")
            let e = p.event
            #expect(e.type == .deploymentSucceeded)
            #expect(p.id == "cdevents:/event/source/123:271069a8-fc18-44f1-b38f-9d70a1695819")
            #expect(e.service == "mySubject123")
            #expect(e.environment == "test123")
            #expect(e.time == Timestamp(rfc3339: "2023-03-20T14:27:05.315384Z"))
            #expect(e.artifact == Self.purl)
            #expect(e.version == Self.digest, "a purl without a tag qualifier: its version, percent-decoded")
            #expect(e.artifactIdentity == Self.digest)
            #expect(e.source == "/event/source/123")
            #expect(p.format == .cdevents)
            #expect(p.raw == (try Fixtures.bytes("cdevents/\(spec)/conformance/\(name).json")))
        }
    }

    @Test(arguments: ["v0.4.1", "v0.5.1"])
    func serviceRolledBackIsARollback(spec: String) throws {
        let e = try one("cdevents/\(spec)/conformance/service_rolledback.json").event
        #expect(e.type == .deploymentRolledBack)
        #expect(e.service == "mySubject123")
        #expect(e.environment == "test123")
        #expect(e.artifactIdentity == Self.digest)
    }

    @Test(arguments: ["v0.4.1", "v0.5.1"])
    func incidentsOpenAndResolve(spec: String) throws {
        let detected = try one("cdevents/\(spec)/conformance/incident_detected.json")
        #expect(detected.event.type == .incidentOpened)
        #expect(detected.id == "cdevents:/monitoring/prod1:F4BD2B55-B6F6-4F44-AF72-BD2D0E7A8708")
        #expect(detected.event.service == "myApp")
        #expect(detected.event.environment == "prod1")
        #expect(detected.event.time == Timestamp(rfc3339: "2022-11-11T13:52:20.079Z"))
        #expect(detected.event.incident == Incident(id: "incident-123", title: "Response time above threshold of 100ms"))

        let reported = try one("cdevents/\(spec)/conformance/incident_reported.json").event
        #expect(reported.type == .incidentOpened)
        #expect(
            reported.incident
                == Incident(
                    id: "incident-123",
                    severity: "medium",
                    title: "Response time above threshold of 100ms",
                    url: "https://my-issues.example/incidents/ticket-345"
                )
        )

        let resolved = try one("cdevents/\(spec)/conformance/incident_resolved.json").event
        #expect(resolved.type == .incidentResolved)
        #expect(resolved.service == "myApp")
        #expect(resolved.environment == "prod1")
        #expect(resolved.incident?.id == "incident-123")
    }

    @Test(arguments: ["v0.4.1", "v0.5.1"])
    func changeMergedNamesItsCommitAndRepository(spec: String) throws {
        let e = try one("cdevents/\(spec)/conformance/change_merged.json").event
        #expect(e.type == .changeMerged)
        #expect(e.commit == "mySubject123")
        #expect(e.service == "TestOrg")
        #expect(e.environment == nil)
        #expect(e.time == Timestamp(rfc3339: "2023-03-20T14:27:05.315384Z"))
    }

    @Test(arguments: ["v0.4.1", "v0.5.1"])
    func artifactPackagedAndPublishedAreBuilds(spec: String) throws {
        let packaged = try one("cdevents/\(spec)/conformance/artifact_packaged.json").event
        #expect(packaged.type == .artifactPublished)
        #expect(packaged.service == "myapp", "the purl's name")
        #expect(packaged.artifact == "pkg:golang/mygit.com/myorg/myapp@234fd47e07d1004f0aed9c")
        #expect(packaged.version == "234fd47e07d1004f0aed9c")
        #expect(packaged.commit == "myChange123", "subject.content.change.id")
        #expect(packaged.environment == nil)
        #expect(packaged.time == Timestamp(rfc3339: "2023-03-20T14:27:05.315384Z"))

        let published = try one("cdevents/\(spec)/conformance/artifact_published.json").event
        #expect(published.type == .artifactPublished)
        #expect(published.service == "myapp")
        #expect(published.artifactIdentity == "234fd47e07d1004f0aed9c")
        #expect(published.commit == nil, "this conformance event names no change")
    }

    @Test(arguments: ["v0.4.1", "v0.5.1"])
    func everyOtherConformanceEventIsSkippedNotRefused(spec: String) throws {
        let mapped: Set<String> = [
            "service_deployed", "service_upgraded", "service_rolledback", "incident_detected",
            "incident_reported", "incident_resolved", "change_merged", "artifact_packaged", "artifact_published",
        ]
        var skipped = 0
        for path in try Fixtures.files(in: "cdevents/\(spec)/conformance") {
            let name = String(path.split(separator: "/").last!.dropLast(5))
            let batch = try CDEventsSource.decode(Fixtures.bytes(path), mode: .binary(headers: [:]), receivedAt: now).get()
            if mapped.contains(name) {
                #expect(batch.events.count == 1, "\(path)")
            } else {
                #expect(batch.events.isEmpty, "\(path)")
                #expect(batch.skipped.count == 1 && batch.skipped[0].reason.contains("not a deployment, incident, merge or build"), "\(path)")
                skipped += 1
            }
        }
        #expect(skipped >= 12)
    }

    @Test func structuredModeReadsTheCDEventFromData() throws {
        let cdevent = String(decoding: try Fixtures.bytes("cdevents/v0.5.1/conformance/service_deployed.json"), as: UTF8.self)
        let envelope =
            #"{"specversion":"1.0","id":"ce-1","source":"/ci","type":"dev.cdevents.service.deployed.0.3.0","datacontenttype":"application/json","data":\#(cdevent)}"#
        let batch = try CDEventsSource.decode(Array(envelope.utf8), mode: .structured, receivedAt: now).get()
        #expect(batch.events.count == 1)
        #expect(batch.events[0].id == "cdevents:/event/source/123:271069a8-fc18-44f1-b38f-9d70a1695819", "the CDEvent's own context is the key")
        #expect(batch.events[0].raw == Array(envelope.utf8))
    }

    /// Tekton's own CloudEvents (not CDEvents) in binary mode, as its controller sends them: a
    /// TaskRun is a build step, acknowledged and not stored.
    @Test func aTektonTaskRunEventIsAcknowledgedNotStored() throws {
        let body = try Fixtures.bytes("tekton/taskrun-unknown.data.json")
        let headers = [
            "ce-id": "5ba3a4a6-0c3d-4bd8-a0b4-1c4a2f0e6e7b", "ce-source": "/apis/tekton.dev/v1beta1/namespaces/default/taskruns/curl-run-6gplk",
            "ce-type": "dev.tekton.event.taskrun.unknown.v1", "ce-specversion": "1.0", "ce-subject": "curl-run-6gplk",
        ]
        let batch = try CDEventsSource.decode(body, mode: .binary(headers: headers), receivedAt: now).get()
        #expect(batch.events.isEmpty)
        #expect(batch.skipped.count == 1)
        #expect(batch.skipped.first?.reason.contains("dev.tekton.event.taskrun.unknown.v1") == true, "\(batch.skipped)")
    }

    @Test func binaryModeFallsBackToTheHeaders() throws {
        let body =
            #"{"context":{"specversion":"0.5.0","type":"dev.cdevents.service.deployed.0.3.0","timestamp":"2026-11-27T10:00:00Z"},"subject":{"id":"web","content":{"environment":{"id":"dev"},"artifactId":"pkg:oci/web@sha256%3Aabcdef0123?tag=1.4.0"}}}"#
        let batch = try CDEventsSource.decode(Array(body.utf8), mode: .binary(headers: ["ce-id": "42", "ce-source": "/tekton"]), receivedAt: now)
            .get()
        let e = try #require(batch.events.first)
        #expect(e.id == "cdevents:/tekton:42")
        #expect(e.event.version == "1.4.0", "the tag qualifier is the human version")
        #expect(e.event.artifactIdentity == "sha256:abcdef0123")
    }

    @Test func batchModeMapsSkipsAndKeepsEachElement() throws {
        let deployed = String(decoding: try Fixtures.bytes("cdevents/v0.5.1/conformance/service_deployed.json"), as: UTF8.self)
        let build = String(decoding: try Fixtures.bytes("cdevents/v0.5.1/conformance/build_finished.json"), as: UTF8.self)
        let body =
            #"[{"specversion":"1.0","id":"1","source":"/a","type":"t","data":\#(build)}, {"specversion":"1.0","id":"2","source":"/a","type":"t","data":\#(deployed)}]"#
        let batch = try CDEventsSource.decode(Array(body.utf8), mode: .batch, receivedAt: now).get()
        #expect(batch.events.count == 1)
        #expect(batch.events[0].event.type == .deploymentSucceeded)
        #expect(batch.skipped.map(\.index) == [0])
        #expect(String(decoding: batch.events[0].raw, as: UTF8.self).hasPrefix(#"{"specversion":"1.0","id":"2""#))
    }

    @Test func badInputIsRefusedWithTheField() throws {
        func error(_ body: String, _ mode: CDEventsSource.Mode = .binary(headers: [:])) -> SourceError? {
            if case .failure(let e) = CDEventsSource.decode(Array(body.utf8), mode: mode, receivedAt: now) { return e }
            return nil
        }
        #expect(error("not json")?.message.contains("not JSON") == true)
        #expect(error("")?.message.contains("empty") == true)
        #expect(error(#"{"subject":{}}"#)?.field == "context")
        let v3 = #"{"context":{"specversion":"0.3.0","id":"1","source":"/s","type":"dev.cdevents.service.deployed.0.1.0"},"subject":{"id":"a"}}"#
        #expect(error(v3)?.message.contains("0.3.0 is not supported") == true)
        let notCD = #"{"context":{"specversion":"0.5.0","id":"1","source":"/s","type":"com.example.thing"},"subject":{"id":"a"}}"#
        #expect(error(notCD)?.field == "context.type")
        let noEnv =
            #"{"context":{"specversion":"0.5.0","id":"1","source":"/s","type":"dev.cdevents.service.deployed.0.3.0","timestamp":"2026-01-01T00:00:00Z"},"subject":{"id":"a","content":{}}}"#
        let e = try #require(error(noEnv))
        #expect(e.field == "environment")
        #expect(e.message.contains("subject.content.environment.id"), "names the source field: \(e.message)")
        #expect(error(#"[{"data":{}}, 3]"#, .batch)?.events.map(\.index) == [0, 1])
        #expect(error(#"{"id":"x"}"#, .batch)?.message.contains("JSON array") == true)
    }
}
