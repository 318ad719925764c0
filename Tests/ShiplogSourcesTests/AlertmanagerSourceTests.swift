import ShiplogModel
import Testing

@testable import ShiplogSources

@Suite struct AlertmanagerSourceTests {
    let now = Timestamp(rfc3339: "2026-11-27T12:00:00Z")!

    func payload(status: String, alerts: [String]) -> [UInt8] {
        Array(
            #"{"version":"4","groupKey":"{}:{alertname=\"HighErrorRate\"}","truncatedAlerts":0,"status":"\#(status)","receiver":"shiplog","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://alertmanager:9093","alerts":[\#(alerts.joined(separator: ","))]}"#
                .utf8
        )
    }

    func alert(
        status: String,
        labels: String = #""service":"checkout","environment":"production","severity":"critical""#,
        summary: String = "error rate 5%",
        endsAt: String = "0001-01-01T00:00:00Z"
    ) -> String {
        #"{"status":"\#(status)","labels":{"alertname":"HighErrorRate",\#(labels)},"annotations":{"summary":"\#(summary)"},"startsAt":"2026-11-27T10:00:00.123Z","endsAt":"\#(endsAt)","generatorURL":"http://prometheus:9090/graph?g0.expr=x","fingerprint":"a1b2c3d4e5f60718"}"#
    }

    @Test func firingOpensAndResolvedResolves() throws {
        let opened = try AlertmanagerSource.decode(payload(status: "firing", alerts: [alert(status: "firing")]), receivedAt: now).get()
        let o = try #require(opened.events.first)
        #expect(o.event.type == .incidentOpened)
        #expect(o.event.service == "checkout")
        #expect(o.event.environment == "production")
        #expect(o.event.time == Timestamp(rfc3339: "2026-11-27T10:00:00.123Z"))
        #expect(
            o.event.incident
                == Incident(id: "a1b2c3d4e5f60718", severity: "critical", title: "HighErrorRate", url: "http://prometheus:9090/graph?g0.expr=x")
        )
        #expect(o.event.source == "alertmanager")
        #expect(o.format == .alertmanager)

        let resolved = try AlertmanagerSource.decode(
            payload(status: "resolved", alerts: [alert(status: "resolved", endsAt: "2026-11-27T10:42:00Z")]),
            receivedAt: now
        ).get()
        let r = try #require(resolved.events.first)
        #expect(r.event.type == .incidentResolved)
        #expect(r.event.time == Timestamp(rfc3339: "2026-11-27T10:42:00Z"))
        #expect(r.event.incident?.id == "a1b2c3d4e5f60718")
        #expect(r.id != o.id)
    }

    @Test func aRepeatedNotificationIsTheSameEventEvenWhenAnnotationsChange() throws {
        let first = try AlertmanagerSource.decode(
            payload(status: "firing", alerts: [alert(status: "firing", summary: "error rate 5%")]),
            receivedAt: now
        ).get().events[0]
        let later = try AlertmanagerSource.decode(
            payload(status: "firing", alerts: [alert(status: "firing", summary: "error rate 7%")]),
            receivedAt: now.adding(seconds: 3600)
        ).get().events[0]
        #expect(first.id == later.id)
        #expect(first.contentDigest == later.contentDigest)
    }

    @Test func alertsWithoutServiceLabelsAreSkipped() throws {
        let batch = try AlertmanagerSource.decode(
            payload(
                status: "firing",
                alerts: [
                    alert(status: "firing", labels: #""severity":"warning""#),
                    alert(status: "firing"),
                    alert(status: "firing", labels: #""service":"has space","environment":"production""#),
                ]
            ),
            receivedAt: now
        ).get()
        #expect(batch.events.count == 1)
        #expect(batch.skipped.map(\.index) == [0, 2])
        #expect(batch.skipped[0].reason.contains("no service and environment labels"))
    }

    @Test func labelNamesAreConfigurable() throws {
        let names = AlertmanagerSource.LabelNames(service: "app", environment: "env")
        let batch = try AlertmanagerSource.decode(
            payload(status: "firing", alerts: [alert(status: "firing", labels: #""app":"api","env":"staging""#)]),
            labels: names,
            receivedAt: now
        ).get()
        #expect(batch.events.first?.event.service == "api")
        #expect(batch.events.first?.event.environment == "staging")
    }

    @Test func badBodiesAreRefused() {
        func error(_ body: [UInt8]) -> SourceError? {
            if case .failure(let e) = AlertmanagerSource.decode(body, receivedAt: now) { return e }
            return nil
        }
        #expect(error(Array("nope".utf8))?.message.contains("not JSON") == true)
        #expect(error(Array("[]".utf8))?.message.contains("JSON object") == true)
        #expect(error(Array(#"{"version":"4"}"#.utf8))?.field == "alerts")
        #expect(error(payload(status: "firing", alerts: []))?.field == "alerts")
        #expect(error(payload(status: "firing", alerts: [alert(status: "sleeping")]))?.field == "status")
        let badTime = alert(status: "firing").replacingOccurrences(of: "2026-11-27T10:00:00.123Z", with: "yesterday")
        #expect(error(payload(status: "firing", alerts: [badTime]))?.field == "time")
    }
}
