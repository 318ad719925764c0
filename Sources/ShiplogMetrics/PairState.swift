import ShiplogModel

/// A service in an environment: the unit every figure is computed for.
public struct PairKey: Hashable, Sendable, Comparable {
    public var service: String
    public var environment: String

    public init(service: String, environment: String) {
        self.service = service
        self.environment = environment
    }

    public static func < (a: PairKey, b: PairKey) -> Bool {
        (a.service, a.environment) < (b.service, b.environment)
    }
}

/// A value observed at a time (nanoseconds): a lead time at its deployment, a restore time at its episode's end.
public struct Sample: Sendable, Hashable {
    public var time: Int64
    public var seconds: Double
}

/// One deployment (succeeded, failed or rolled back) as the windows need it.
public struct DeploymentRecord: Sendable, Hashable {
    public var time: Int64
    public var failed: Bool
    public var rework: Bool
}

/// What the rest of the projection supplies while a pair applies an event.
struct ApplyContext {
    /// What the service's events teach: artifact identities, commit times, artifacts' changes.
    var knowledge: ServiceKnowledge
    /// When an artifact first succeeded in the previous pipeline environment; nil when this
    /// environment is first in the pipeline or not in it at all (no promotions into it).
    var previousFirstSuccess: ((NameKey) -> Int64?)?
}

/// What applying one event produced beyond the pair itself.
struct AppliedEffects {
    /// Artifacts that succeeded here for the first time.
    var newlySucceeded: [NameKey] = []
}

/// Everything derived from one (service, environment)'s events, applied in `time` order
/// (ties by sequence). See PRODUCT.md §3 for the definitions this implements.
public struct PairState: Sendable, Equatable {
    public let key: PairKey
    /// The newest (time, sequence) applied; an event at or before it is late.
    public internal(set) var lastTime: Int64 = .min
    public internal(set) var lastSequence: Int64 = .min

    public internal(set) var deployments = 0
    public internal(set) var failures = 0
    public internal(set) var rollbacks = 0
    public internal(set) var rework = 0
    public internal(set) var unverifiedPromotions = 0
    public internal(set) var withoutLeadTime = 0
    public internal(set) var incidents = 0

    public internal(set) var deploymentLog: [DeploymentRecord] = []
    public internal(set) var leadTimes: [Sample] = []
    /// One sample per closed failure episode, at its end, in time order.
    public internal(set) var restoreTimes: [Sample] = []
    /// Where each episode of `restoreTimes` began (to merge it with one that overlaps or touches).
    public internal(set) var episodeStarts: [Int64] = []
    public internal(set) var promotionDurations: [Sample] = []
    public internal(set) var leadTimeHistogram = Histogram()
    public internal(set) var restoreHistogram = Histogram()
    public internal(set) var promotionHistogram = Histogram()

    /// Index in `deploymentLog` of the live deployment (the latest succeeded or rolled back).
    var liveIndex: Int?
    public internal(set) var liveVersion: String?
    /// The name the live deployment gave its artifact (its digest, else its version).
    public internal(set) var liveArtifact: String?
    /// The live artifact's identity (one for its digest and its version).
    public internal(set) var liveArtifactKey: NameKey?
    /// Who or what made the live deployment: its `actor`, else its `source`.
    public internal(set) var liveActor: String?
    /// When each artifact first became live here.
    public internal(set) var firstLive = TimesByName()
    /// When each artifact first succeeded here (promotions out of this environment use it).
    public internal(set) var firstSuccess = TimesByName()

    public internal(set) var lastDeploymentTime: Int64?
    public internal(set) var lastRollbackTime: Int64?
    /// The time of the latest deployment counted as failed (found by its record, so it is
    /// the deployment's time, not the time of the event that failed it).
    public var lastFailedDeploymentTime: Int64? { deploymentLog.last(where: \.failed)?.time }
    public internal(set) var namespace: String?
    public internal(set) var workload: String?

    var lastAttemptFailed = false
    public internal(set) var openIncidents: Set<String> = []
    public internal(set) var degradedSince: Int64?
    /// Commits already counted for lead time.
    var commitsReached: Set<NameKey> = []

    /// Cached window figures and until when they hold.
    var windowCache: [WindowFigures]? = nil
    var windowCacheValidUntil: Int64 = .min
    /// Cached exposition lines (see `MetricsRenderer`); nil when the pair changed.
    var renderedStatic: [String]? = nil
    var renderedWindows: [String]? = nil
    /// `service="…",environment="…"`, escaped once.
    let labelText: String

    public init(key: PairKey) {
        self.key = key
        labelText = ExpositionWriter.labels(["service": key.service, "environment": key.environment])
    }

    /// When the live deployment happened.
    public var liveSince: Int64? { liveIndex.map { deploymentLog[$0].time } }

    public var isDegraded: Bool { !openIncidents.isEmpty || lastAttemptFailed }

    /// The newest (time, sequence) applied.
    var position: LogPosition { LogPosition(time: lastTime, sequence: lastSequence) }

    /// Whether an event at (time, sequence) comes after everything applied so far.
    func isInOrder(time: Int64, sequence: Int64) -> Bool {
        time > lastTime || (time == lastTime && sequence > lastSequence)
    }

    /// Applies the event when it comes after everything applied so far; nil when it is late.
    mutating func applyIfInOrder(_ event: Event, sequence: Int64, context: ApplyContext) -> AppliedEffects? {
        guard isInOrder(time: event.time!.nanoseconds, sequence: sequence) else { return nil }
        return apply(event, sequence: sequence, context: context)
    }

    /// Whether events of this type belong to a pair (the others teach the whole service).
    static func belongsToPair(_ type: EventType) -> Bool { type != .changeMerged && type != .artifactPublished }

    /// Applies one event (PRODUCT.md §3).
    @discardableResult
    mutating func apply(_ event: Event, sequence: Int64, context: ApplyContext) -> AppliedEffects {
        var effects = AppliedEffects()
        guard Self.belongsToPair(event.type) else { return effects }
        let t = event.time!.nanoseconds
        lastTime = t
        lastSequence = sequence
        windowCache = nil
        renderedStatic = nil
        renderedWindows = nil
        if event.type.isDeployment {
            if let ns = event.namespace { namespace = ns }
            if let w = event.workload { workload = w }
        }
        let wasDegraded = isDegraded

        switch event.type {
        case .deploymentStarted, .changeMerged, .artifactPublished:
            break
        case .deploymentSucceeded, .deploymentFailed, .deploymentRolledBack:
            let identity = context.knowledge.identity(of: event)
            let isRework =
                event.hotfix || event.type == .deploymentRolledBack
                || (event.type == .deploymentSucceeded && !openIncidents.isEmpty)
            // The deployment a rollback rolls back from: the last one, when it was live.
            let rolledBackFrom = deploymentLog.indices.last.flatMap { $0 == liveIndex ? $0 : nil }
            deployments += 1
            if isRework { rework += 1 }
            let index = deploymentLog.count
            deploymentLog.append(DeploymentRecord(time: t, failed: event.type == .deploymentFailed, rework: isRework))
            if event.type == .deploymentFailed { failures += 1 }
            lastDeploymentTime = t
            lastAttemptFailed = event.type == .deploymentFailed

            if event.type == .deploymentRolledBack {
                rollbacks += 1
                lastRollbackTime = t
                if let from = rolledBackFrom {
                    markFailed(from)
                    if !wasDegraded { closeEpisode(start: deploymentLog[from].time, end: t) }
                }
            }
            if event.type != .deploymentFailed {
                liveIndex = index
                liveVersion = context.knowledge.version(of: event, identity: identity)
                liveArtifact = event.artifactIdentity
                liveArtifactKey = identity
                liveActor = event.actor ?? event.source
                if let a = identity, firstLive[a] == nil { firstLive[a] = t }
            }
            if event.type == .deploymentSucceeded {
                recordLeadTime(event, identity: identity, at: t, context: context)
                if let artifact = identity, firstSuccess[artifact] == nil {
                    firstSuccess[artifact] = t
                    effects.newlySucceeded.append(artifact)
                    if let previous = context.previousFirstSuccess {
                        if let p = previous(artifact), p <= t {
                            let sample = Sample(time: t, seconds: Double(t - p) / 1e9)
                            promotionDurations.append(sample)
                            promotionHistogram.record(sample.seconds)
                        } else {
                            unverifiedPromotions += 1
                        }
                    }
                }
            }
        case .incidentOpened:
            let id = event.incident!.id
            // An incident that is already open opens nothing new.
            guard openIncidents.insert(id).inserted else { break }
            incidents += 1
            if let live = liveIndex { markFailed(live) }
        case .incidentResolved:
            openIncidents.remove(event.incident!.id)
        }

        let nowDegraded = isDegraded
        if !wasDegraded, nowDegraded {
            beginDegraded(at: t)
        } else if wasDegraded, !nowDegraded, let since = degradedSince {
            closeEpisode(start: since, end: t)
            degradedSince = nil
        }
        return effects
    }

    /// Degraded from `t` on; an episode that ended at `t` goes on (touching intervals are one
    /// episode, still open, so without a sample).
    mutating func beginDegraded(at t: Int64) {
        degradedSince = t
        if let last = restoreTimes.last, last.time >= t {
            degradedSince = episodeStarts.removeLast()
            restoreTimes.removeLast()
            rebuildRestoreHistogram()
        }
    }

    /// Closes a degraded interval, merged with the closed episodes it overlaps or touches.
    mutating func closeEpisode(start: Int64, end: Int64) {
        var start = start
        var merged = false
        while let last = restoreTimes.last, last.time >= start {
            start = min(start, episodeStarts.removeLast())
            restoreTimes.removeLast()
            merged = true
        }
        let sample = Sample(time: end, seconds: Double(end - start) / 1e9)
        restoreTimes.append(sample)
        episodeStarts.append(start)
        if merged { rebuildRestoreHistogram() } else { restoreHistogram.record(sample.seconds) }
    }

    /// The histogram of `restoreTimes`, recorded in their order (so its sum is the same
    /// however the episodes were merged).
    mutating func rebuildRestoreHistogram() {
        restoreHistogram = Histogram()
        for s in restoreTimes { restoreHistogram.record(s.seconds) }
    }

    mutating func markFailed(_ index: Int) {
        guard !deploymentLog[index].failed else { return }
        deploymentLog[index].failed = true
        failures += 1
    }

    /// One sample per change reaching this environment for the first time: the deployment's
    /// own changes and those known for its artifact, each with the earliest time stated for it.
    mutating func recordLeadTime(_ event: Event, identity: NameKey?, at t: Int64, context: ApplyContext) {
        var anyKnown = false
        for commit in Self.shippedCommits(event, identity: identity, knowledge: context.knowledge) {
            let committed = context.knowledge.commitTimes[commit]
            if committed != nil { anyKnown = true }
            if commitsReached.insert(commit).inserted, let committed {
                let sample = Sample(time: t, seconds: Double(max(0, t - committed)) / 1e9)
                leadTimes.append(sample)
                leadTimeHistogram.record(sample.seconds)
            }
        }
        if !anyKnown { withoutLeadTime += 1 }
    }
}

extension PairState {
    /// The commits a deployment ships (PRODUCT.md §3): its own changes and those known for
    /// its artifact, each once, in a fixed order.
    static func shippedCommits(_ event: Event, identity: NameKey?, knowledge: ServiceKnowledge) -> [NameKey] {
        var commits: [NameKey] = []
        for change in event.shippedChanges { commits.append(NameKey(change.commit)) }
        if let identity { knowledge.commits(ofArtifact: identity)?.append(to: &commits) }
        commits.sort()
        var previous: NameKey? = nil
        return commits.filter { c in
            defer { previous = c }
            return c != previous
        }
    }
}
