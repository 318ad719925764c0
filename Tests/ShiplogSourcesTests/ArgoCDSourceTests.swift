import ShiplogModel
import Testing

@testable import ShiplogSources

@Suite struct ArgoCDSourceTests {
    let now = Timestamp(rfc3339: "2026-11-27T12:00:00Z")!

    /// What each captured notification (no trigger: the state decides) must become, worked out
    /// from its Application: type, service, environment, time, commit, version.
    struct Expected: Sendable, CustomStringConvertible {
        var file: String
        var type: EventType?
        var service = "", environment = "", time = "", commit: String? = nil, version = ""
        var description: String { file }
    }

    static let podinfoApp = ("aaaaaaaaa", "argocd")
    static let chartApp = ("aaaaaaa", "aaaaaaa")
    static let expected: [Expected] = [
        Expected(file: "000_cli_template", type: nil),
        Expected(
            file: "001",
            type: .deploymentSucceeded,
            service: "aaaaa-aaaaaaa",
            environment: "cdviz-dev",
            time: "2025-08-14T12:19:19Z",
            commit: "251202611b4faf9105c06eb03df7a28d7a495c69",
            version: "0.4.0-11-gd6f6e7b"
        ),
        Expected(
            file: "002",
            type: .deploymentSucceeded,
            service: "aaaaaaaa-aaaaaaa",
            environment: "aaaaaaaa-aaaaaaa",
            time: "2025-10-02T15:21:07Z",
            commit: "90460e57069cadc1332ca8137268028bf3f12765",
            version: "0.6.2"
        ),
        Expected(file: "003", type: nil),
        Expected(
            file: "004",
            type: .deploymentSucceeded,
            service: "aaaaa-aaaaaaaaa",
            environment: "cdviz-dev",
            time: "2025-08-14T12:19:21Z",
            commit: "251202611b4faf9105c06eb03df7a28d7a495c69",
            version: "0.8.0"
        ),
        Expected(file: "005", type: nil),
        Expected(file: "006", type: nil),
        Expected(
            file: "007_sync_podinfo_1_1",
            type: .deploymentStarted,
            service: podinfoApp.0,
            environment: podinfoApp.1,
            time: "2025-10-02T16:20:55Z",
            commit: "94fcc5e8673e0d2d7fbca6b1c6c455ba308314fc",
            version: "94fcc5e8673e0d2d7fbca6b1c6c455ba308314fc"
        ),
        Expected(
            file: "008_sync_podinfo_1_2",
            type: .deploymentSucceeded,
            service: podinfoApp.0,
            environment: podinfoApp.1,
            time: "2025-10-02T16:20:59Z",
            commit: "94fcc5e8673e0d2d7fbca6b1c6c455ba308314fc",
            version: "94fcc5e8673e0d2d7fbca6b1c6c455ba308314fc"
        ),
        Expected(
            file: "009_sync_podinfo_1_3",
            type: .deploymentStarted,
            service: chartApp.0,
            environment: chartApp.1,
            time: "2025-10-02T16:21:00Z",
            commit: nil,
            version: "6.9.0"
        ),
        Expected(
            file: "010_sync_podinfo_1_4",
            type: .incidentOpened,
            service: chartApp.0,
            environment: chartApp.1,
            time: "2025-10-02T16:31:04Z",
            commit: nil,
            version: ""
        ),
        Expected(
            file: "011_sync_podinfo_2_1",
            type: .deploymentStarted,
            service: podinfoApp.0,
            environment: podinfoApp.1,
            time: "2025-10-02T16:45:15Z",
            commit: "a390e57286ce93cd869ef0cd157c287a7082d504",
            version: "a390e57286ce93cd869ef0cd157c287a7082d504"
        ),
        Expected(
            file: "012_sync_podinfo_2_2",
            type: .incidentOpened,
            service: chartApp.0,
            environment: chartApp.1,
            time: "2025-10-02T16:31:04Z",
            commit: nil,
            version: ""
        ),
        Expected(
            file: "013_sync_podinfo_2_3",
            type: .deploymentSucceeded,
            service: podinfoApp.0,
            environment: podinfoApp.1,
            time: "2025-10-02T16:45:19Z",
            commit: "a390e57286ce93cd869ef0cd157c287a7082d504",
            version: "a390e57286ce93cd869ef0cd157c287a7082d504"
        ),
        Expected(
            file: "014_sync_podinfo_3_1",
            type: .deploymentStarted,
            service: podinfoApp.0,
            environment: podinfoApp.1,
            time: "2025-10-02T16:53:16Z",
            commit: "2396abec0a4a8bb67cbe5395fbf28dadf45e0b48",
            version: "2396abec0a4a8bb67cbe5395fbf28dadf45e0b48"
        ),
        Expected(
            file: "015_sync_podinfo_3_2",
            type: .deploymentStarted,
            service: chartApp.0,
            environment: chartApp.1,
            time: "2025-10-02T16:53:19Z",
            commit: nil,
            version: "6.9.0"
        ),
        Expected(
            file: "016_sync_podinfo_3_3",
            type: .deploymentSucceeded,
            service: podinfoApp.0,
            environment: podinfoApp.1,
            time: "2025-10-02T16:53:20Z",
            commit: "2396abec0a4a8bb67cbe5395fbf28dadf45e0b48",
            version: "2396abec0a4a8bb67cbe5395fbf28dadf45e0b48"
        ),
        Expected(
            file: "017_sync_podinfo_3_4",
            type: .deploymentSucceeded,
            service: chartApp.0,
            environment: chartApp.1,
            time: "2025-10-02T16:53:20Z",
            commit: nil,
            version: "6.9.0"
        ),
        Expected(
            file: "018_sync_podinfo_4_1",
            type: .deploymentStarted,
            service: podinfoApp.0,
            environment: podinfoApp.1,
            time: "2025-10-02T16:57:40Z",
            commit: "224f6a2da219e7efa4178277707ac90007e133b9",
            version: "224f6a2da219e7efa4178277707ac90007e133b9"
        ),
        Expected(
            file: "019_sync_podinfo_4_2",
            type: .deploymentSucceeded,
            service: podinfoApp.0,
            environment: podinfoApp.1,
            time: "2025-10-02T16:57:43Z",
            commit: "224f6a2da219e7efa4178277707ac90007e133b9",
            version: "224f6a2da219e7efa4178277707ac90007e133b9"
        ),
        Expected(
            file: "020_sync_podinfo_4_3",
            type: .deploymentStarted,
            service: chartApp.0,
            environment: chartApp.1,
            time: "2025-10-02T16:57:44Z",
            commit: nil,
            version: "6.9.2"
        ),
        Expected(
            file: "021_remove_podinfo_1_1",
            type: .deploymentSucceeded,
            service: podinfoApp.0,
            environment: podinfoApp.1,
            time: "2025-10-02T16:57:43Z",
            commit: "224f6a2da219e7efa4178277707ac90007e133b9",
            version: "224f6a2da219e7efa4178277707ac90007e133b9"
        ),
        Expected(
            file: "022_remove_podinfo_2_1",
            type: .deploymentSucceeded,
            service: chartApp.0,
            environment: chartApp.1,
            time: "2025-10-02T16:57:44Z",
            commit: nil,
            version: "6.9.2"
        ),
    ]

    @Test func theTableCoversEveryCapturedBody() throws {
        let files = try Fixtures.files(in: "argocd/captured").map { String($0.split(separator: "/").last!.dropLast(5)) }
        #expect(files == Self.expected.map(\.file))
    }

    @Test(arguments: expected)
    func capturedNotification(_ x: Expected) throws {
        let body = try Fixtures.bytes("argocd/captured/\(x.file).json")
        let batch = try ArgoCDSource.decode(body, receivedAt: now).get()
        guard let type = x.type else {
            #expect(batch.events.isEmpty)
            #expect(batch.skipped.first?.reason.contains("no finished or running sync") == true)
            return
        }
        let p = try #require(batch.events.first)
        let e = p.event
        #expect(e.type == type)
        #expect(e.service == x.service)
        #expect(e.environment == x.environment)
        #expect(e.namespace == x.environment, "no environment label: the destination namespace is both")
        #expect(e.time == Timestamp(rfc3339: x.time))
        #expect(e.commit == x.commit)
        #expect((e.version ?? "") == x.version)
        if type.isIncident {
            // Health is not a deployment: one incident per Application, resolved when it is Healthy again.
            #expect(e.incident?.id == "argocd:argocd/\(e.annotations["argocd.application"]!.split(separator: "/").last!):health")
        }
        #expect(e.source == "argocd")
        #expect(e.url == "https://demo.cdviz.dev/applications/argocd/\(e.annotations["argocd.application"]!.split(separator: "/").last!)")
        #expect(p.id.hasPrefix("argocd:argocd/"))
        #expect(p.raw == body)
        #expect(p.format == .argocd)
    }

    @Test func theSameSyncSeenTwiceIsTheSameEvent() throws {
        func event(_ file: String) throws -> PreparedEvent {
            try #require(try ArgoCDSource.decode(Fixtures.bytes("argocd/captured/\(file).json"), receivedAt: now).get().events.first)
        }
        #expect(try event("019_sync_podinfo_4_2").id == event("021_remove_podinfo_1_1").id)
        #expect(try event("019_sync_podinfo_4_2").contentDigest == event("021_remove_podinfo_1_1").contentDigest)
        #expect(try event("010_sync_podinfo_1_4").contentDigest == event("012_sync_podinfo_2_2").contentDigest)
        #expect(try event("013_sync_podinfo_2_3").id != event("019_sync_podinfo_4_2").id)
    }

    func withTrigger(_ trigger: String, file: String, labels: String? = nil) throws -> [UInt8] {
        var text = String(decoding: try Fixtures.bytes("argocd/captured/\(file).json"), as: UTF8.self)
        if let labels {
            text = text.replacingOccurrences(of: #""app.kubernetes.io/name": "aaaaaaaa-aaaaaaa","#, with: labels)
        }
        return Array(#"{"trigger": "\#(trigger)", "#.utf8) + Array(text.utf8.drop { $0 != UInt8(ascii: "{") }.dropFirst())
    }

    @Test func theTriggerDecides() throws {
        let deployed = try ArgoCDSource.decode(withTrigger("on-deployed", file: "002"), receivedAt: now).get().events[0]
        #expect(deployed.event.type == .deploymentSucceeded)
        #expect(deployed.event.actor == "aaaaa")
        #expect(deployed.event.workload == "aaaaaaaa-aaaaaaa")

        let degraded = try ArgoCDSource.decode(withTrigger("on-health-degraded", file: "017_sync_podinfo_3_4"), receivedAt: now).get().events[0]
        #expect(degraded.event.type == .incidentOpened)
        #expect(degraded.event.time == Timestamp(rfc3339: "2025-10-02T16:53:25Z"), "the health transition's time")
        let healthy = try ArgoCDSource.decode(withTrigger("on-health-healthy", file: "002"), receivedAt: now).get().events[0]
        #expect(healthy.event.type == .incidentResolved)
        #expect(healthy.event.incident?.id == "argocd:argocd/aaaaaaaa-aaaaaaa:health")
        #expect(healthy.id != degraded.id)
        // A redelivery of the same transition is the same event.
        let again = try ArgoCDSource.decode(withTrigger("on-health-degraded", file: "017_sync_podinfo_3_4"), receivedAt: now).get().events[0]
        #expect(again.id == degraded.id)

        let failed = try ArgoCDSource.decode(withTrigger("on-sync-failed", file: "008_sync_podinfo_1_2"), receivedAt: now).get().events[0]
        #expect(failed.event.type == .deploymentFailed)
        #expect(failed.event.time == Timestamp(rfc3339: "2025-10-02T16:20:59Z"))

        let running = try ArgoCDSource.decode(withTrigger("on-sync-running", file: "007_sync_podinfo_1_1"), receivedAt: now).get().events[0]
        #expect(running.event.type == .deploymentStarted)

        let other = try ArgoCDSource.decode(withTrigger("on-created", file: "002"), receivedAt: now).get()
        #expect(other.events.isEmpty && other.skipped[0].reason.contains("on-created"))
    }

    @Test func theEnvironmentLabelWins() throws {
        let body = try withTrigger("on-deployed", file: "002", labels: #""app.kubernetes.io/name": "checkout", "environment": "staging","#)
        let e = try ArgoCDSource.decode(body, receivedAt: now).get().events[0].event
        #expect(e.service == "checkout")
        #expect(e.environment == "staging")
        #expect(e.namespace == "aaaaaaaa-aaaaaaa")
    }

    @Test func badBodiesAreRefused() {
        func error(_ text: String) -> SourceError? {
            if case .failure(let e) = ArgoCDSource.decode(Array(text.utf8), receivedAt: now) { return e }
            return nil
        }
        #expect(error("")?.message.contains("empty") == true)
        #expect(error("trigger=on-deployed")?.message.contains("not JSON") == true)
        #expect(error(#"[{"trigger": "on-deployed"}]"#)?.message.contains("is a JSON object, not an array") == true)
        #expect(error(#"{"trigger": "on-deployed"}"#)?.field == "app")
        #expect(error(#"{"trigger": "on-deployed", "app": {"kind": "Deployment", "metadata": {"name": "x"}}}"#)?.field == "app.kind")
        #expect(
            error(
                #"{"trigger": "on-deployed", "app": {"metadata": {"name": "bad name!"}, "status": {"operationState": {"finishedAt": "2026-01-01T00:00:00Z"}}}}"#
            )?.field == "service"
        )
    }
}
