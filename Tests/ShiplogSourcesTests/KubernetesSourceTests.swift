import ShiplogModel
import Testing

@testable import ShiplogSources

@Suite struct KubernetesSourceTests {
    func fields(_ text: String) -> [String: JSONValue]? {
        guard case .success(let f) = KubernetesSource.eventFields(fromDeployment: try! JSONValue.parse(text)) else { return nil }
        return Dictionary(uniqueKeysWithValues: f)
    }

    /// kubewatch's captured CloudEvents carry whole Deployments: the new object reads like any other.
    @Test(arguments: ["update.json", "update_missing_oldobj.json", "update_same.json"])
    func aCapturedDeploymentFromKubewatch(file: String) throws {
        let event = try JSONValue.parse(try Fixtures.bytes("kubernetes/captured/deployment/\(file)"))
        let object = try #require(event["data"]?["obj"])
        guard case .success(let list) = KubernetesSource.eventFields(fromDeployment: object) else {
            Issue.record("\(file): the Deployment is refused")
            return
        }
        let f = Dictionary(uniqueKeysWithValues: list)
        #expect(f["service"] == .string("aaaaaaaaa"), "app.kubernetes.io/name")
        #expect(f["namespace"] == .string("aaaaaaaaa"))
        #expect(f["version"] == .string("v2.9.0"), "the image's tag; the old object had v2.8.0")
        #expect(f["revision"] == .string("5"))
        #expect(f["artifact"] == nil, "no digest in robustadev/aaaaaaaaa:v2.9.0")
    }

    @Test func aKubewatchEventWithoutTheNewObjectHasNothingToRead() throws {
        let event = try JSONValue.parse(try Fixtures.bytes("kubernetes/captured/deployment/update_missing_obj.json"))
        #expect(event["data"]?["obj"] == nil)
        guard case .failure(let error) = KubernetesSource.eventFields(fromDeployment: event["data"]?["obj"] ?? .null) else {
            Issue.record("nothing is no Deployment")
            return
        }
        #expect(!error.message.isEmpty)
    }

    @Test func readsADeployment() throws {
        let f = try #require(
            fields(
                """
                {"apiVersion": "apps/v1", "kind": "Deployment",
                 "metadata": {"name": "checkout-api", "namespace": "shop",
                              "labels": {"app.kubernetes.io/name": "checkout", "app.kubernetes.io/version": "1.4.2"},
                              "annotations": {"deployment.kubernetes.io/revision": "7", "kubernetes.io/change-cause": "bump"}},
                 "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "ghcr.io/acme/checkout:1.4.2-rc@sha256:0123abcd"},
                                                               {"name": "sidecar", "image": "envoy:1.30"}]}}}}
                """
            )
        )
        #expect(f["type"] == .string("deployment.succeeded"))
        #expect(f["service"] == .string("checkout"))
        #expect(f["namespace"] == .string("shop"))
        #expect(f["workload"] == .string("checkout-api"))
        #expect(f["revision"] == .string("7"))
        #expect(f["changeCause"] == .string("bump"))
        #expect(f["version"] == .string("1.4.2"), "the version label wins over the image tag")
        #expect(f["artifact"] == .string("ghcr.io/acme/checkout:1.4.2-rc@sha256:0123abcd"))
    }

    @Test func fallsBackToTheNameAndTheFirstImageTag() throws {
        let f = try #require(
            fields(
                """
                {"kind": "Deployment", "metadata": {"name": "web"},
                 "spec": {"template": {"spec": {"containers": [{"image": "registry.local:5000/team/web:2.0"}]}}}}
                """
            )
        )
        #expect(f["service"] == .string("web"))
        #expect(f["version"] == .string("2.0"))
        #expect(f["artifact"] == nil, "no digest, no artifact reference")
        #expect(f["namespace"] == nil)
    }

    @Test func imageTags() {
        #expect(KubernetesSource.imageTag("nginx") == nil)
        #expect(KubernetesSource.imageTag("nginx:1.25") == "1.25")
        #expect(KubernetesSource.imageTag("registry:5000/app") == nil)
        #expect(KubernetesSource.imageTag("registry:5000/app:v3@sha256:ab") == "v3")
    }

    @Test func refusesWhatIsNotADeployment() {
        for (text, expected) in [
            (#"[1]"#, "expected a Deployment object"),
            (#"{"kind": "Service", "metadata": {"name": "x"}}"#, "expected kind Deployment, not Service"),
            (#"{"kind": "Deployment", "metadata": {}}"#, "no metadata.name"),
        ] {
            guard case .failure(let e) = KubernetesSource.eventFields(fromDeployment: try! JSONValue.parse(text)) else {
                Issue.record("accepted \(text)")
                continue
            }
            #expect(e.message.contains(expected))
        }
    }
}
