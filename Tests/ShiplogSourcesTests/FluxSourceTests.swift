import ShiplogModel
import Testing

@testable import ShiplogSources

@Suite struct FluxSourceTests {
    let now = Timestamp(rfc3339: "2026-11-27T12:00:00Z")!

    func text(_ path: String) throws -> String { String(decoding: try Fixtures.bytes(path), as: UTF8.self) }

    func decode(_ body: String, from: FluxSource.EnvironmentSource = .metadata("env")) throws -> SourceBatch {
        try FluxSource.decode(Array(body.utf8), environmentFrom: from, receivedAt: now).get()
    }

    /// Both fixtures (the docs' generic webhook body and event), field by field.
    @Test(arguments: ["flux/generic-webhook-body.json", "flux/event-kustomization-validation-failed.json"])
    func aFailedKustomizationIsAFailedDeployment(path: String) throws {
        let body = try text(path)
        #expect(try decode(body).events.isEmpty, "no env metadata: acknowledged, not stored")
        #expect(try decode(body).skipped.first?.reason.contains("metadata.env") == true)
        let p = try #require(try decode(body, from: .namespace).events.first)
        let e = p.event
        #expect(e.type == .deploymentFailed, "severity error, ValidationFailed")
        #expect(e.service == "webapp")
        #expect(e.environment == "apps", "the namespace, when configured so")
        #expect(e.commit == "731f7eaddfb6af01cb2173e18f0f75b0ba780ef1", "the legacy main/<sha> revision, with its group-prefixed key")
        #expect(e.version == "731f7eaddfb6")
        #expect(e.time == Timestamp(rfc3339: "2022-10-28T07:26:19Z"))
        #expect(e.namespace == "apps")
        #expect(e.workload == "webapp")
        #expect(e.actor == "kustomize-controller")
        #expect(e.message == "service/apps/webapp validation error: spec.type: Unsupported value: Ingress")
        #expect(e.source == "flux")
        #expect(
            e.annotations == [
                "flux.kind": "Kustomization", "flux.reason": "ValidationFailed", "flux.revision": "main/731f7eaddfb6af01cb2173e18f0f75b0ba780ef1",
            ]
        )
        #expect(p.format == .flux)
        #expect(p.id.hasPrefix("flux:") && p.id.count == 37)
        #expect(try decode(body, from: .namespace).events.first?.id == p.id, "a retried send is the same event")
    }

    /// The current form: bare metadata keys (notification-controller ≥ 1.5), `main@sha1:`,
    /// the Alert's eventMetadata.
    func current(
        reason: String = "ReconciliationSucceeded",
        severity: String = "info",
        kind: String = "Kustomization",
        revision: String
    )
        throws -> String
    {
        var body = try text("flux/generic-webhook-body.json")
        body = body.replacingOccurrences(
            of: #""kustomize.toolkit.fluxcd.io/revision": "main/731f7eaddfb6af01cb2173e18f0f75b0ba780ef1""#,
            with: #""revision": "\#(revision)", "env": "production""#
        )
        body = body.replacingOccurrences(of: #""severity":"error""#, with: #""severity":"\#(severity)""#)
        body = body.replacingOccurrences(of: #""reason": "ValidationFailed""#, with: #""reason": "\#(reason)""#)
        body = body.replacingOccurrences(of: #""kind": "Kustomization""#, with: #""kind": "\#(kind)""#)
        body = body.replacingOccurrences(
            of: "kustomize.toolkit.fluxcd.io/v1",
            with: kind == "HelmRelease" ? "helm.toolkit.fluxcd.io/v2" : "kustomize.toolkit.fluxcd.io/v1"
        )
        return body
    }

    @Test func reasonsMapAsDocumented() throws {
        let sha = "731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"
        let success = try #require(try decode(try current(revision: "main@sha1:\(sha)")).events.first).event
        #expect(success.type == .deploymentSucceeded)
        #expect(success.environment == "production", "from the Alert's eventMetadata")
        #expect(success.commit == sha)
        let cases: [(String, String, String, EventType?)] = [
            ("HelmRelease", "InstallSucceeded", "info", .deploymentSucceeded),
            ("HelmRelease", "UpgradeSucceeded", "info", .deploymentSucceeded),
            ("HelmRelease", "RollbackSucceeded", "info", .deploymentRolledBack),
            ("HelmRelease", "UpgradeFailed", "error", .deploymentFailed),
            ("Kustomization", "HealthCheckFailed", "error", .deploymentFailed),
            ("Kustomization", "DependencyNotReady", "error", nil),
            ("Kustomization", "Progressing", "info", nil),
            ("GitRepository", "NewArtifact", "info", nil),
        ]
        for (kind, reason, severity, type) in cases {
            let batch = try decode(try current(reason: reason, severity: severity, kind: kind, revision: "1.4.2"))
            #expect(batch.events.first?.event.type == type, "\(kind) \(reason)")
            #expect(batch.skipped.count == (type == nil ? 1 : 0), "\(kind) \(reason)")
        }
        let chart = try #require(try decode(try current(reason: "UpgradeSucceeded", kind: "HelmRelease", revision: "1.4.2")).events.first).event
        #expect(chart.version == "1.4.2", "a HelmRelease's revision is its chart version")
        #expect(chart.commit == nil)
    }

    @Test func signaturesInEveryHashFluxMayName() throws {
        let body = try Fixtures.bytes("flux/generic-webhook-body.json")
        let good = FluxSource.signature(body: body, secret: "token")
        #expect(FluxSource.verifySignature(good, body: body, secret: "token"))
        #expect(!FluxSource.verifySignature(good, body: body + [0x0A], secret: "token"))
        #expect(!FluxSource.verifySignature(good, body: body, secret: "other"))
        #expect(!FluxSource.verifySignature("sha1=" + good.dropFirst(7), body: body, secret: "token"))
        #expect(!FluxSource.verifySignature(nil, body: body, secret: "token"))
        // HMAC-SHA384 and -SHA512 of "" under "key", as Python's hmac module computes them.
        #expect(
            FluxSource.verifySignature(
                "sha384=99f44bb4e73c9d0ef26533596c8d8a32a5f8c10a9b997d30d89a7e35ba1ccf200b985f72431202b891fe350da410e43f",
                body: [],
                secret: "key"
            )
        )
        #expect(
            FluxSource.verifySignature(
                "sha512=84fa5aa0279bbc473267d05a53ea03310a987cecc4c1535ff29b6d76b8f1444a728df3aadb89d4a9a6709e1998f373566e8f824a8ca93b1821f0b69bc2a2f65e",
                body: [],
                secret: "key"
            )
        )
    }

    @Test func environmentOptionsParse() {
        #expect(FluxSource.EnvironmentSource(parsing: "namespace") == .namespace)
        #expect(FluxSource.EnvironmentSource(parsing: "label:cluster") == .metadata("cluster"))
        #expect(FluxSource.EnvironmentSource(parsing: "label:") == nil)
        #expect(FluxSource.EnvironmentSource(parsing: "env") == nil)
    }

    @Test func badBodiesAreRefused() {
        #expect((try? FluxSource.decode(Array("[]".utf8), receivedAt: now).get()) == nil)
        #expect((try? FluxSource.decode(Array("{}".utf8), receivedAt: now).get()) == nil)
        let noReason = #"{"involvedObject":{"kind":"Kustomization","name":"web","namespace":"production"}}"#
        #expect((try? FluxSource.decode(Array(noReason.utf8), environmentFrom: .namespace, receivedAt: now).get()) == nil)
    }
}
