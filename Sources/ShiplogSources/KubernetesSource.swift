import ShiplogModel

/// A Kubernetes Deployment object (`kubectl get deployment NAME -o json`) → the fields of a
/// native `deployment.succeeded` event, as a JSON object the one validation then reads.
public enum KubernetesSource {
    /// - Returns: the event's fields: `service` (label `app.kubernetes.io/name`, else the
    ///   name), `namespace`, `workload`, `revision`, `changeCause`, `version` (label
    ///   `app.kubernetes.io/version`, else the first container's image tag) and `artifact`
    ///   (the first container's image when it carries a digest).
    public static func eventFields(fromDeployment json: JSONValue) -> Result<[(String, JSONValue)], SourceError> {
        guard json.objectMembers != nil else {
            return .failure(SourceError("expected a Deployment object (kubectl get deployment NAME -o json), not \(json.kindName)"))
        }
        if let kind = json["kind"]?.stringValue, kind != "Deployment" {
            return .failure(SourceError("expected kind Deployment, not \(kind)", field: "kind"))
        }
        let metadata = json["metadata"]
        guard let name = metadata?["name"]?.stringValue, !name.isEmpty else {
            return .failure(SourceError("the Deployment has no metadata.name", field: "metadata.name"))
        }
        let labels = metadata?["labels"]
        let annotations = metadata?["annotations"]
        let image = json["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["image"]?.stringValue

        var fields: [(String, JSONValue)] = [("type", .string(EventType.deploymentSucceeded.rawValue))]
        fields.append(("service", .string(labels?["app.kubernetes.io/name"]?.stringValue ?? name)))
        if let ns = metadata?["namespace"]?.stringValue { fields.append(("namespace", .string(ns))) }
        fields.append(("workload", .string(name)))
        if let revision = annotations?["deployment.kubernetes.io/revision"]?.stringValue { fields.append(("revision", .string(revision))) }
        if let cause = annotations?["kubernetes.io/change-cause"]?.stringValue, !cause.isEmpty { fields.append(("changeCause", .string(cause))) }
        if let version = labels?["app.kubernetes.io/version"]?.stringValue ?? image.flatMap(imageTag) {
            fields.append(("version", .string(version)))
        }
        if let image, image.contains("@sha256:") || image.contains("@sha512:") { fields.append(("artifact", .string(image))) }
        fields.append(("source", .string("kubernetes")))
        return .success(fields)
    }

    /// The tag of an image reference (`registry:5000/app:1.2@sha256:…` → `1.2`), if it has one.
    public static func imageTag(_ image: String) -> String? {
        let withoutDigest = image.split(separator: "@", maxSplits: 1).first.map(String.init) ?? image
        let lastComponent = withoutDigest.split(separator: "/").last.map(String.init) ?? withoutDigest
        guard let colon = lastComponent.lastIndex(of: ":") else { return nil }
        let tag = lastComponent[lastComponent.index(after: colon)...]
        return tag.isEmpty ? nil : String(tag)
    }
}
