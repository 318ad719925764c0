import Foundation
import ShiplogModel
import ShiplogTestSupport
import Testing

/// `deploy/`: every overlay renders and validates, the PrometheusRule is `Alerts/`, and the
/// shipped pipeline and controller configuration parse.
@Suite struct DeployTests {
    let dir = TemporaryDirectory()
    static let overlays = ["dev", "staging", "production"]

    func path(_ p: String) -> String { Files.repository.appendingPathComponent(p).path }

    /// The overlay rendered with `kubectl kustomize`, as documents.
    func render(_ overlay: String) throws -> (file: String, documents: [JSONValue]) {
        let r = try runTool(["kubectl", "kustomize", path("deploy/overlays/\(overlay)")])
        #expect(r.status == 0, "\(overlay): \(r.stdout)")
        let file = dir.write("\(overlay).yaml", r.stdout)
        return (file, try yamlDocuments(file))
    }

    func resource(_ documents: [JSONValue], kind: String) throws -> JSONValue {
        try #require(documents.first { $0["kind"] == .string(kind) }, "no \(kind)")
    }

    @Test(arguments: overlays)
    func overlayRendersAndValidates(_ overlay: String) throws {
        let (file, documents) = try render(overlay)
        let validate = try runTool(["python3", "-m", "kubernetes_validate", "--strict", "--kubernetes-version", "1.37.0", file])
        #expect(validate.status == 0, "\(validate.stdout)")
        #expect(!validate.stdout.contains("ERROR") && !validate.stdout.contains("FAIL"), "\(validate.stdout)")
        #expect(validate.stdout.contains("passed for resource statefulset/shiplog"), "\(validate.stdout)")

        let namespace = "shiplog-\(overlay)"
        for d in documents where d["kind"] != .string("Namespace") {
            #expect(d["metadata"]?["namespace"] == .string(namespace), "\(d["kind"]?.stringValue ?? "?") in \(namespace)")
        }
        let set = try resource(documents, kind: "StatefulSet")
        #expect(set["spec"]?["replicas"]?.intValue == 1, "one writer")
        #expect(set["spec"]?["volumeClaimTemplates"]?.arrayValue?.first?["metadata"]?["name"] == .string("data"))
        #expect(set["spec"]?["persistentVolumeClaimRetentionPolicy"]?["whenDeleted"] == .string("Retain"), "the log is never pruned")
        let pod = try #require(set["spec"]?["template"]?["spec"])
        #expect(pod["securityContext"]?["runAsNonRoot"] == .bool(true))
        let container = try #require(pod["containers"]?.arrayValue?.first)
        #expect(container["securityContext"]?["readOnlyRootFilesystem"] == .bool(true))
        #expect(container["securityContext"]?["allowPrivilegeEscalation"] == .bool(false))
        #expect(container["readinessProbe"]?["httpGet"]?["path"] == .string("/readyz"))
        #expect(container["livenessProbe"]?["httpGet"]?["path"] == .string("/healthz"))
        #expect(container["resources"]?["requests"]?["memory"] != nil && container["resources"]?["limits"]?["memory"] != nil)
        let token = container["env"]?.arrayValue?.first { $0["name"] == .string("SHIPLOG_WRITE_TOKEN") }
        #expect(token?["valueFrom"]?["secretKeyRef"]?["name"] == .string("shiplog-write-token"))
        let mounts = container["volumeMounts"]?.arrayValue?.compactMap { $0["mountPath"]?.stringValue } ?? []
        #expect(mounts.contains("/var/lib/shiplog"))
        let config = try resource(documents, kind: "ConfigMap")
        #expect(config["data"]?["SHIPLOG_DB"] == .string("/var/lib/shiplog/shiplog.db"))
        let configName = try #require(config["metadata"]?["name"]?.stringValue)
        #expect(container["envFrom"]?.arrayValue?.first?["configMapRef"]?["name"] == .string(configName), "the pod reads the generated ConfigMap")

        let monitor = try resource(documents, kind: "ServiceMonitor")
        #expect(monitor["spec"]?["endpoints"]?.arrayValue?.allSatisfy { $0["honorLabels"] == .bool(true) } == true)
        let service = try resource(documents, kind: "Service")
        for (key, value) in monitor["spec"]?["selector"]?["matchLabels"]?.objectMembers ?? [] {
            #expect(service["metadata"]?["labels"]?[key] == value, "the ServiceMonitor selects the Service")
        }
        let image = container["image"]?.stringValue ?? ""
        if overlay == "production" {
            #expect(image.contains("@sha256:"), "production pins a digest: \(image)")
        } else {
            #expect(!image.contains("@sha256:"), "\(image)")
        }
    }

    @Test func overlaysDifferAsEnvironmentsDo() throws {
        var levels: [String: String] = [:]
        var storage: [String: String] = [:]
        for overlay in Self.overlays {
            let documents = try render(overlay).documents
            levels[overlay] = try resource(documents, kind: "ConfigMap")["data"]?["SHIPLOG_LOG_LEVEL"]?.stringValue
            storage[overlay] = try resource(documents, kind: "StatefulSet")["spec"]?["volumeClaimTemplates"]?.arrayValue?.first?["spec"]?[
                "resources"
            ]?["requests"]?["storage"]?.stringValue
        }
        #expect(levels == ["dev": "debug", "staging": "info", "production": "info"])
        #expect(storage == ["dev": "1Gi", "staging": "5Gi", "production": "50Gi"])
    }

    /// With a read token, /metrics needs it: the ServiceMonitor and the server read the same Secret.
    @Test func theScrapeSendsTheReadToken() throws {
        let documents = try render("production").documents
        let monitor = try resource(documents, kind: "ServiceMonitor")
        let credentials = monitor["spec"]?["endpoints"]?.arrayValue?.first?["authorization"]?["credentials"]
        #expect(credentials?["name"] == .string("shiplog-read-token") && credentials?["key"] == .string("token"))
        let set = try resource(documents, kind: "StatefulSet")
        let env = set["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["env"]?.arrayValue ?? []
        let read = env.first { $0["name"] == .string("SHIPLOG_READ_TOKEN") }?["valueFrom"]?["secretKeyRef"]
        #expect(read?["name"] == .string("shiplog-read-token") && read?["optional"] == .bool(true))
    }

    /// `deploy/flux/`: a Provider and an Alert that post Kustomization and HelmRelease events to
    /// shiplog's Flux route, signed with the Secret's token. Kubernetes' schemas know only the
    /// Secret; the Flux objects are checked field by field against notification-controller's
    /// v1beta3 API (the request they make is sent in SourceAdapterTests).
    @Test func theFluxProviderAndAlertPostToShiplog() throws {
        let r = try runTool(["kubectl", "kustomize", path("deploy/flux")])
        #expect(r.status == 0, "\(r.stdout)")
        let file = dir.write("flux.yaml", r.stdout)
        let documents = try yamlDocuments(file)
        #expect(Set(documents.compactMap { $0["kind"]?.stringValue }) == ["Secret", "Provider", "Alert"])
        let secret = try resource(documents, kind: "Secret")
        let secretFile = dir.write("flux-secret.yaml", secret.compactJSON())  // JSON is YAML
        let validate = try runTool(["python3", "-m", "kubernetes_validate", "--strict", "--kubernetes-version", "1.37.0", secretFile])
        #expect(validate.status == 0 && validate.stdout.contains("passed for resource secret/shiplog-flux"), "\(validate.stdout)")
        #expect(secret["stringData"]?["token"]?.stringValue?.isEmpty == false, "generic-hmac signs with the key token")

        let provider = try resource(documents, kind: "Provider")
        let alert = try resource(documents, kind: "Alert")
        for object in [provider, alert] {
            #expect(object["apiVersion"] == .string("notification.toolkit.fluxcd.io/v1beta3"))
            #expect(object["metadata"]?["namespace"] == secret["metadata"]?["namespace"], "one namespace: refs are local")
        }
        #expect(provider["spec"]?["type"] == .string("generic-hmac"))
        #expect(provider["spec"]?["secretRef"]?["name"] == secret["metadata"]?["name"])
        let address = try #require(provider["spec"]?["address"]?.stringValue.flatMap(URL.init(string:)))
        #expect(address.path == "/api/v1/webhooks/flux")
        #expect(address.host == "shiplog.shiplog-production.svc.cluster.local" && address.port == 8080, "the base's Service")
        #expect(alert["spec"]?["providerRef"]?["name"] == provider["metadata"]?["name"])
        #expect(alert["spec"]?["eventSeverity"] == .string("info"), "successes are info events")
        let kinds = alert["spec"]?["eventSources"]?.arrayValue?.compactMap { $0["kind"]?.stringValue }
        #expect(kinds == ["Kustomization", "HelmRelease"])
        #expect(alert["spec"]?["eventMetadata"]?["env"] == .string("production"), "the environment shiplog reads by default (label:env)")
        for key in (alert["spec"]?.objectValue ?? []).map(\.0) {
            #expect(
                ["providerRef", "eventSeverity", "eventSources", "eventMetadata", "exclusionList", "inclusionList", "summary", "suspend"].contains(
                    key
                ),
                "\(key)"
            )
        }
    }

    /// `production-ha`: three replicas on PostgreSQL that survive a drain, a rollout and a node.
    @Test func productionHARunsThreeReplicasOnOneDatabase() throws {
        let (file, documents) = try render("production-ha")
        let validate = try runTool(["python3", "-m", "kubernetes_validate", "--strict", "--kubernetes-version", "1.37.0", file])
        #expect(validate.status == 0 && !validate.stdout.contains("ERROR") && !validate.stdout.contains("FAIL"), "\(validate.stdout)")
        for kind in ["deployment", "poddisruptionbudget", "service", "configmap"] {
            #expect(validate.stdout.contains("passed for resource \(kind)/shiplog"), "\(kind): \(validate.stdout)")
        }
        for d in documents where d["kind"] != .string("Namespace") {
            #expect(d["metadata"]?["namespace"] == .string("shiplog-production"), "\(d["kind"]?.stringValue ?? "?")")
        }
        #expect(!documents.contains { $0["kind"] == .string("StatefulSet") }, "no SQLite writer")

        let deployment = try resource(documents, kind: "Deployment")
        let spec = try #require(deployment["spec"])
        #expect(spec["replicas"]?.intValue == 3)
        #expect(spec["strategy"]?["rollingUpdate"]?["maxUnavailable"]?.intValue == 0, "a rollout keeps every replica until its successor is ready")
        let podLabels = spec["template"]?["metadata"]?["labels"]
        func selects(_ selector: JSONValue?) -> Bool {
            let pairs = selector?["matchLabels"]?.objectMembers ?? []
            return !pairs.isEmpty && pairs.allSatisfy { podLabels?[$0.0] == $0.1 }
        }
        #expect(selects(spec["selector"]))
        let budget = try resource(documents, kind: "PodDisruptionBudget")
        #expect(budget["spec"]?["minAvailable"]?.intValue == 2)
        #expect(selects(budget["spec"]?["selector"]), "the PodDisruptionBudget covers the replicas")
        let service = try resource(documents, kind: "Service")
        #expect(selects(.object([("matchLabels", service["spec"]?["selector"] ?? .null)])), "the Service routes to the replicas")

        let pod = try #require(spec["template"]?["spec"])
        let spread = pod["topologySpreadConstraints"]?.arrayValue ?? []
        #expect(
            spread.contains {
                $0["topologyKey"] == .string("kubernetes.io/hostname") && $0["whenUnsatisfiable"] == .string("DoNotSchedule")
                    && selects($0["labelSelector"])
            },
            "one replica per node"
        )
        #expect(spread.contains { $0["topologyKey"] == .string("topology.kubernetes.io/zone") && selects($0["labelSelector"]) })
        #expect(pod["securityContext"]?["runAsNonRoot"] == .bool(true))

        let container = try #require(pod["containers"]?.arrayValue?.first)
        #expect(container["securityContext"]?["readOnlyRootFilesystem"] == .bool(true))
        #expect(container["readinessProbe"]?["httpGet"]?["path"] == .string("/readyz"))
        #expect(container["livenessProbe"]?["httpGet"]?["path"] == .string("/healthz"))
        #expect(container["image"]?.stringValue?.contains("@sha256:") == true, "production pins a digest")
        let env = container["env"]?.arrayValue ?? []
        let url = env.first { $0["name"] == .string("SHIPLOG_DB") }?["valueFrom"]?["secretKeyRef"]
        let cluster = try resource(documents, kind: "Cluster")
        #expect(cluster["apiVersion"] == .string("postgresql.cnpg.io/v1"))
        #expect(cluster["spec"]?["instances"]?.intValue == 3)
        #expect(cluster["spec"]?["postgresql"]?["synchronous"]?["number"]?.intValue == 1, "a commit waits for a standby")
        let clusterName = try #require(cluster["metadata"]?["name"]?.stringValue)
        #expect(
            url?["name"] == .string("\(clusterName)-app") && url?["key"] == .string("uri"),
            "the URL from the operator's Secret: \(String(describing: url))"
        )
        let token = env.first { $0["name"] == .string("SHIPLOG_WRITE_TOKEN") }?["valueFrom"]?["secretKeyRef"]
        #expect(token?["name"] == .string("shiplog-write-token"))

        // The snapshot file lives on a volume of the pod's own.
        let args = container["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let snapshot = try #require(args.first { $0.hasPrefix("--snapshot-file=") }?.dropFirst("--snapshot-file=".count))
        let mounts = container["volumeMounts"]?.arrayValue ?? []
        let mount = try #require(mounts.first { snapshot.hasPrefix(($0["mountPath"]?.stringValue ?? "\u{0}") + "/") }, "\(snapshot) is on a mount")
        let volume = pod["volumes"]?.arrayValue?.first { $0["name"] == mount["name"] }
        #expect(volume?["emptyDir"] != nil)

        let monitor = try resource(documents, kind: "ServiceMonitor")
        for (key, value) in monitor["spec"]?["selector"]?["matchLabels"]?.objectMembers ?? [] {
            #expect(service["metadata"]?["labels"]?[key] == value, "every replica is scraped through the Service's endpoints")
        }
    }

    /// The Deployment's own arguments, with its ConfigMap, start a replica on a real
    /// PostgreSQL database (loopback instead of 0.0.0.0:8080, a scratch snapshot path).
    @Test func productionHAArgumentsStartAReplica() async throws {
        let documents = try render("production-ha").documents
        let data = Dictionary(uniqueKeysWithValues: try resource(documents, kind: "ConfigMap")["data"]?.objectMembers ?? [])
        let container = try #require(try resource(documents, kind: "Deployment")["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first)
        var args = container["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        args = args.filter { !$0.hasPrefix("--host=") && !$0.hasPrefix("--port=") }.map { arg in
            var arg = arg
            for (key, value) in data { arg = arg.replacingOccurrences(of: "$(\(key))", with: value.stringValue ?? "") }
            return arg.hasPrefix("--snapshot-file=") ? "--snapshot-file=\(dir.path("snapshot"))" : arg
        }
        #expect(!args.contains { $0.contains("$(") }, "every variable is in the ConfigMap: \(args)")
        let db = try TestPostgres.freshDatabase()
        let server = try ServerProcess(db: db, arguments: args)
        #expect(try await http("GET", server.baseURL + "/readyz").status == 200)
        let event = #"{"id":"ha-1","type":"deployment.succeeded","service":"checkout","environment":"production","version":"1.0"}"#
        #expect(try await http("POST", server.baseURL + "/api/v1/events", body: event).status == 201)
        let metrics = try await http("GET", server.baseURL + "/metrics").text
        #expect(metrics.contains(#"shiplog_deployments_total{service="checkout",environment="production"} 1"#), "\(metrics.prefix(400))")
        #expect(server.stop() == 0)
        #expect(FileManager.default.fileExists(atPath: dir.path("snapshot")), "a replica keeps its snapshot on shutdown")
    }

    @Test func thePrometheusRuleIsAlerts() throws {
        let alerts = try ["Alerts/shiplog.rules.yaml", "Alerts/shiplog.alerts.yaml"].flatMap {
            try yamlDocuments(path($0)).first?["groups"]?.arrayValue ?? []
        }
        #expect(alerts.count >= 2)
        let rendered = try resource(try render("production").documents, kind: "PrometheusRule")
        // Compared key-order independently (kustomize sorts keys).
        let same = rendered["spec"]?["groups"]?.canonicalJSON() == JSONValue.array(alerts).canonicalJSON()
        #expect(same, "the PrometheusRule's groups equal Alerts/")
        // And the committed file is what the script generates now.
        let regenerated = dir.path("prometheusrule.yaml")
        #expect(try runTool(["bash", path("deploy/generate-prometheusrule.sh"), regenerated]).status == 0)
        #expect(
            try String(contentsOfFile: regenerated, encoding: .utf8) == Files.repositoryFile("deploy/base/prometheusrule.yaml"),
            "deploy/base/prometheusrule.yaml is stale: run bash deploy/generate-prometheusrule.sh"
        )
    }

    @Test func pipelineAndControllerConfigurationParse() throws {
        let workflow = try #require(try yamlDocuments(path("deploy/github-actions/promote.yaml")).first)
        let jobs = try #require(workflow["jobs"]?.objectMembers.map { Dictionary(uniqueKeysWithValues: $0) })
        #expect(Set(jobs.keys) == ["build", "dev", "staging", "production", "rollback"])
        #expect(jobs["staging"]?["needs"]?.arrayValue?.contains(.string("dev")) == true)
        #expect(jobs["production"]?["needs"]?.arrayValue?.contains(.string("staging")) == true)
        func runs(_ job: String) -> [String] { (jobs[job]?["steps"]?.arrayValue ?? []).compactMap { $0["run"]?.stringValue } }
        let production = runs("production")
        let gate = production.firstIndex { $0.contains("shiplog gate") }
        let deploy = production.firstIndex { $0.contains("kubectl") && $0.contains("set image") }
        #expect(gate != nil && deploy != nil && gate! < deploy!, "production is gated before it deploys")
        for job in ["dev", "staging", "production"] {
            #expect(
                runs(job).contains { $0.contains("shiplog events record") && $0.contains("needs.build.outputs.digest") },
                "\(job) records the same digest"
            )
        }
        #expect(runs("rollback").contains { $0.contains("deployment.rolled_back") })

        let appset = try #require(try yamlDocuments(path("deploy/argocd/applicationset.yaml")).first)
        let elements = appset["spec"]?["generators"]?.arrayValue?.first?["list"]?["elements"]?.arrayValue?.compactMap {
            $0["environment"]?.stringValue
        }
        #expect(elements == Self.overlays)
        #expect(appset["spec"]?["template"]?["spec"]?["source"]?["path"] == .string("deploy/overlays/{{.environment}}"))

        let notifications = try #require(try yamlDocuments(path("deploy/argocd/notifications-cm.yaml")).first)
        #expect(notifications["metadata"]?["name"] == .string("argocd-notifications-cm"))
        let scratch = TemporaryDirectory()
        try (notifications["data"]?["service.webhook.shiplog"]?.stringValue ?? "").write(
            toFile: scratch.path("service.yaml"),
            atomically: true,
            encoding: .utf8
        )
        let service = try #require(try yamlDocuments(scratch.path("service.yaml")).first)
        #expect(service["url"]?.stringValue?.hasSuffix("/api/v1/webhooks/argocd") == true)
        #expect(service["retryMax"] == .number("10"), "retries outlast a shiplog restart")
        let amcheck = try runTool(["amtool", "check-config", path("deploy/alertmanager/alertmanager.yaml")])
        #expect(amcheck.status == 0, "\(amcheck.stdout)")

        let dockerfile = try Files.repositoryFile("deploy/Dockerfile")
        for needle in ["--static-swift-stdlib", "USER 65532", "HEALTHCHECK", "ENTRYPOINT [\"/usr/local/bin/shiplog\", \"serve\"]", "VOLUME"] {
            #expect(dockerfile.contains(needle), "Dockerfile: \(needle)")
        }
    }
}
