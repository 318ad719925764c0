import ShiplogModel
import Testing

@testable import ShiplogSources

@Suite struct PagerDutySourceTests {
    let now = Timestamp(rfc3339: "2026-11-27T12:00:00Z")!

    func decode(_ path: String, _ services: PagerDutySource.ServiceMap = .init()) throws -> SourceBatch {
        try PagerDutySource.decode(Fixtures.bytes(path), services: services, receivedAt: now).get()
    }

    /// Each V3 fixture, field by field (worked out by hand from the files).
    @Test func triggeredOpensAnIncidentUnderTheServicesOwnName() throws {
        let batch = try decode("pagerduty/zulip/triggered_v3.json")
        let p = try #require(batch.events.first)
        let e = p.event
        #expect(e.type == .incidentOpened)
        #expect(p.id == "pagerduty:01BZYIL05THJDFF2Y08X9SVMTU", "event.id: a redelivery is a duplicate")
        #expect(e.time == Timestamp(rfc3339: "2021-06-04T13:35:29.781Z"))
        #expect(e.service == "pig208", "an unmapped PagerDuty service whose name is a valid service name keeps it")
        #expect(e.environment == "production")
        let incident = Incident(id: "PFQZPSY", severity: "high", title: "Test Incident 3", url: "https://pig208.pagerduty.com/incidents/PFQZPSY")
        #expect(e.incident == incident)
        #expect(e.actor == "PIG 208")
        #expect(e.source == "pagerduty")
        #expect(e.annotations == ["pagerduty.event_type": "incident.triggered", "pagerduty.service_id": "PA2P440", "pagerduty.incident_number": "9"])
        #expect(p.format == .pagerduty)
        #expect(p.raw == (try Fixtures.bytes("pagerduty/zulip/triggered_v3.json")))
    }

    @Test func resolvedResolvesTheIncidentOfTheSameID() throws {
        let e = try #require(try decode("pagerduty/zulip/resolved_v3.json").events.first).event
        #expect(e.type == .incidentResolved)
        #expect(e.incident?.id == "PCPZE64")
        #expect(e.time == Timestamp(rfc3339: "2021-06-04T13:16:53.816Z"))
        #expect(e.service == "pig208")
    }

    @Test func reopenedOpensAgainAndTheMapNamesServiceAndEnvironment() throws {
        // "Default Service" is no valid service name: without a mapping it is acknowledged, not stored.
        let unmapped = try decode("pagerduty/zulip/reopened_v3.json")
        #expect(unmapped.events.isEmpty)
        #expect(unmapped.skipped.first?.reason.contains("--pagerduty-service PLVTM9H=SERVICE[/ENVIRONMENT]") == true)
        let byID = PagerDutySource.ServiceMap(entries: ["PLVTM9H": .init(service: "checkout", environment: "staging")])
        let e = try #require(try decode("pagerduty/zulip/reopened_v3.json", byID).events.first).event
        #expect(e.type == .incidentOpened)
        #expect(e.service == "checkout")
        #expect(e.environment == "staging")
        #expect(e.time == Timestamp(rfc3339: "2026-04-01T02:15:02.274Z"))
        let url = "https://harsh0303.pagerduty.com/incidents/Q05XJA8GDXGOB3"
        #expect(e.incident == Incident(id: "Q05XJA8GDXGOB3", severity: "P3", title: "Test Incident 2", url: url))
        #expect(e.actor == "Harsh Santwani")
        let byName = PagerDutySource.ServiceMap(entries: ["Default Service": .init(service: "web")], defaultEnvironment: "prod")
        let named = try #require(try decode("pagerduty/zulip/reopened_v3.json", byName).events.first).event
        #expect(named.service == "web")
        #expect(named.environment == "prod")
    }

    @Test(arguments: ["pagerduty/zulip/acknowledged_v3.json", "pagerduty/go-pagerduty/webhookv3_test.defaultBody.json"])
    func acknowledgementsAndOtherTypesAreAcknowledgedNotStored(path: String) throws {
        let batch = try decode(path)
        #expect(batch.events.isEmpty)
        #expect(batch.skipped.count == 1)
    }

    @Test func theUpstreamTestVectorVerifies() throws {
        let body = try Fixtures.bytes("pagerduty/go-pagerduty/webhookv3_test.defaultBody.json")
        #expect(body.count == 1655)
        let secret = "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK"
        let valid = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd"
        let other = "v1=7020c8a7ec668a9b7012bc3dd82e483394b038f4230acc6785efbf2a7d8bcaf5"
        #expect(PagerDutySource.verifySignature(valid, body: body, secret: secret))
        #expect(PagerDutySource.signature(body: body, secret: secret) == valid)
        #expect(!PagerDutySource.verifySignature(other, body: body, secret: secret))
        #expect(PagerDutySource.verifySignature("\(other), \(valid)", body: body, secret: secret), "any entry may match (rotation)")
        #expect(PagerDutySource.verifySignature("v2=abcd,\(valid)", body: body, secret: secret), "other versions are ignored")
        #expect(!PagerDutySource.verifySignature(valid, body: body + [0x20], secret: secret))
        #expect(!PagerDutySource.verifySignature(valid, body: body, secret: "other"))
        #expect(!PagerDutySource.verifySignature(valid.replacingOccurrences(of: "v1=", with: "v2="), body: body, secret: secret))
        #expect(!PagerDutySource.verifySignature(nil, body: body, secret: secret))
        #expect(!PagerDutySource.verifySignature("v1=zz", body: body, secret: secret))
    }

    @Test func badBodiesAreRefusedWithTheField() throws {
        func refused(_ text: String) -> SourceError? {
            guard case .failure(let error) = PagerDutySource.decode(Array(text.utf8), receivedAt: now) else { return nil }
            return error
        }
        #expect(refused("[]") != nil)
        #expect(refused("{}")?.field == "event")
        #expect(refused(#"{"event":{"id":"x","event_type":"incident.triggered","occurred_at":"2026-01-01T00:00:00Z"}}"#) != nil, "no incident")
        #expect(
            refused(
                #"{"event":{"id":"x","event_type":"incident.triggered","occurred_at":"2026-01-01T00:00:00Z","data":{"service":{"summary":"api"}}}}"#
            )
                != nil,
            "no incident id"
        )
        #expect(
            refused(
                #"{"event":{"id":"x","event_type":"incident.resolved","occurred_at":"yesterday","data":{"id":"P1","service":{"summary":"api"}}}}"#
            )
                != nil,
            "a time that is not RFC 3339"
        )
    }

    @Test func mappingOptionsParse() {
        #expect(PagerDutySource.ServiceMap.entry(parsing: "PF9KMXH=api")?.1 == .init(service: "api"))
        #expect(PagerDutySource.ServiceMap.entry(parsing: "API Service=api/staging")?.0 == "API Service")
        #expect(PagerDutySource.ServiceMap.entry(parsing: "API Service=api/staging")?.1 == .init(service: "api", environment: "staging"))
        for bad in ["api", "=api", "P1=", "P1=bad name", "P1=a/b/c", "P1=api/"] {
            #expect(PagerDutySource.ServiceMap.entry(parsing: bad) == nil, "\(bad)")
        }
    }
}
