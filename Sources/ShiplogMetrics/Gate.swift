import ShiplogModel

/// The answer of `shiplog gate` (PRODUCT.md §3, *Passed*).
public enum GateResult: Sendable, Hashable {
    /// The artifact passed every environment listed (the ones before the target).
    case passed([String])
    /// It was never made live in this environment.
    case missing(String)
    /// Its latest deployment in this environment failed, or was failed by this event (a
    /// rollback from it, an incident during its life).
    case failed(String, by: Explanation.Ref)
    case notInPipeline([String])
}

/// Decides `gate` from one service's events, read by an indexed query of the log: no
/// replay of other services, and the full names compared (a name is resolved to its
/// artifact by `ServiceKnowledge`, whose keys are SHA-256 based).
public enum GateEvaluation {
    /// - Parameters:
    ///   - name: what is about to be deployed: a version, a digest (`sha256:…`) or an image
    ///     reference pinned by digest; a digest and a version named together by any event of
    ///     the service are one artifact.
    ///   - serviceEvents: every event of the service, in (time, sequence) order.
    public static func evaluate(
        service: String,
        environment: String,
        name: String,
        pipeline: Pipeline,
        serviceEvents: [StoredEvent]
    ) -> GateResult {
        guard let index = pipeline.index(of: environment) else { return .notInPipeline(pipeline.environments) }
        let earlier = Array(pipeline.environments[..<index])
        guard !earlier.isEmpty else { return .passed([]) }
        var knowledge = ServiceKnowledge()
        for stored in serviceEvents { _ = knowledge.learn(from: stored.event) }
        let asked = Event(type: .deploymentSucceeded, service: service, artifact: name)
        let artifact = knowledge.root(of: NameKey(asked.artifactDigest ?? name))
        let context = ApplyContext(knowledge: knowledge, previousFirstSuccess: nil)
        var replays = Dictionary(uniqueKeysWithValues: earlier.map { ($0, PairReplay(key: PairKey(service: service, environment: $0), context: context)) })
        for stored in serviceEvents {
            guard let env = stored.event.environment, replays[env] != nil else { continue }
            replays[env]!.apply(stored)
        }
        for env in earlier {
            switch replays[env]!.passed(artifact) {
            case .never: return .missing(env)
            case .failed(let by): return .failed(env, by: Explanation.Ref(by))
            case .passed: continue
            }
        }
        return .passed(earlier)
    }

}
