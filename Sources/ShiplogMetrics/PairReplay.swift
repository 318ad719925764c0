import ShiplogModel

/// One pair's events applied to a `PairState` with the event behind each deployment kept:
/// what `gate` and the explanation need beyond the figures (which event each deployment
/// was, which artifact it deployed, which event failed it). The figures are `state`'s, the
/// same code the live projection runs.
struct PairReplay {
    private(set) var state: PairState
    /// The event of each entry of `state.deploymentLog`.
    private(set) var deploymentEvents: [StoredEvent] = []
    /// The artifact of each entry of `state.deploymentLog`.
    private(set) var deploymentArtifacts: [NameKey?] = []
    /// The event that made each failed deployment fail (itself for a `deployment.failed`).
    private(set) var failedBy: [Int: StoredEvent] = [:]
    let context: ApplyContext

    init(key: PairKey, context: ApplyContext) {
        state = PairState(key: key)
        self.context = context
    }

    /// Applies the next event in (time, sequence) order.
    @discardableResult
    mutating func apply(_ stored: StoredEvent) -> AppliedEffects {
        let deploymentsBefore = state.deploymentLog.count
        let liveBefore = state.liveIndex
        let failuresBefore = state.failures
        let effects = state.apply(stored.event, sequence: stored.sequence, context: context)
        if state.deploymentLog.count > deploymentsBefore {
            deploymentEvents.append(stored)
            deploymentArtifacts.append(context.knowledge.identity(of: stored.event))
        }
        if state.failures > failuresBefore {
            // The deployment itself (failed), the live one (an incident) or the one rolled back from.
            for i in Set([state.deploymentLog.count - 1, liveBefore ?? -1, deploymentsBefore - 1])
            where state.deploymentLog.indices.contains(i) && state.deploymentLog[i].failed && failedBy[i] == nil {
                failedBy[i] = stored
            }
        }
        return effects
    }

    /// Whether an artifact passed this environment (PRODUCT.md §3, *Passed*): its latest
    /// deployment here made it live and is not failed.
    func passed(_ artifact: NameKey) -> PassedState {
        guard let i = deploymentArtifacts.lastIndex(of: artifact) else { return .never }
        let event = deploymentEvents[i]
        if event.event.type == .deploymentFailed { return .failed(by: event) }
        if state.deploymentLog[i].failed, let by = failedBy[i] { return .failed(by: by) }
        return .passed(event)
    }

    enum PassedState {
        case never
        case failed(by: StoredEvent)
        case passed(StoredEvent)
    }
}
