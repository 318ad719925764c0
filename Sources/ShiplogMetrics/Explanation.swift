import ShiplogModel

/// The events behind each figure of one (service, environment) over a window (PRODUCT.md
/// §3, *Explanation*): every deployment counted and what failed it, every lead-time sample
/// with its change and where its commit time came from, every failure episode with the
/// events that opened and closed it, every promotion with the event in the environment
/// before, and the deployments without lead time.
///
/// It is built from the service's events with the same `PairState` the live projection
/// uses, watching what each event changes, so its figures are the projection's figures.
public struct Explanation: Sendable {
    /// An event of the log, as an explanation names it.
    public struct Ref: Sendable, Hashable {
        public var id: String
        public var sequence: Int64
        public var type: EventType
        public var time: Timestamp
        public var environment: String?

        init(_ stored: StoredEvent) {
            id = stored.event.id ?? ""
            sequence = stored.sequence
            type = stored.event.type
            time = stored.event.time!
            environment = stored.event.environment
        }
    }

    public struct Deployment: Sendable, Hashable {
        public var event: Ref
        public var version: String?
        public var failedBy: Ref?
        /// `hotfix`, `rollback` or `incident open`; nil when planned.
        public var rework: String?
    }

    public struct LeadTime: Sendable, Hashable {
        public var deployment: Ref
        public var commit: String
        public var seconds: Double
        public var commitTime: Timestamp
        /// The event that stated the (earliest) commit time.
        public var commitTimeFrom: Ref
        /// When the deployment did not name the commit itself: the event that tied it to the artifact.
        public var tiedToArtifactBy: Ref?
    }

    public struct Episode: Sendable, Hashable {
        public var start: Timestamp
        /// Nil while the episode is open.
        public var end: Timestamp?
        public var openedBy: Ref?
        public var closedBy: Ref?
        public var seconds: Double? { end.map { Double($0.nanoseconds - start.nanoseconds) / 1e9 } }
    }

    public struct Promotion: Sendable, Hashable {
        public var deployment: Ref
        public var artifact: String
        /// Nil for an unverified promotion (the artifact had not succeeded in the environment before).
        public var seconds: Double?
        /// The artifact's first success in the environment before.
        public var previous: Ref?
    }

    public var service: String
    public var environment: String
    public var window: Window
    public var now: Timestamp
    public var figures: WindowFigures
    public var deployments: [Deployment] = []
    public var leadTimes: [LeadTime] = []
    public var withoutLeadTime: [Ref] = []
    public var episodes: [Episode] = []
    public var promotions: [Promotion] = []

    /// - Parameter serviceEvents: every event of the service, in (time, sequence) order.
    public init(service: String, environment: String, window: Window, now: Timestamp, pipeline: Pipeline, serviceEvents: [StoredEvent]) {
        self.service = service
        self.environment = environment
        self.window = window
        self.now = now

        // What the service's events teach (the projection's own rules), with the event each
        // fact came from.
        var knowledge = ServiceKnowledge()
        var commitTimeFrom: [NameKey: Ref] = [:]
        var ties: [NameKey: [(artifact: NameKey, by: Ref)]] = [:]
        var commitNames: [NameKey: String] = [:]
        for stored in serviceEvents {
            let news = knowledge.learn(from: stored.event)
            for h in news.commitTimes { commitTimeFrom[h] = Ref(stored) }
            for (artifact, commit) in news.artifactChanges { ties[commit, default: []].append((artifact, Ref(stored))) }
            for change in stored.event.shippedChanges { commitNames[NameKey(change.commit)] = change.commit }
            for stated in stored.event.statedCommitTimes { commitNames[NameKey(stated.commit)] = stated.commit }
        }
        let known = knowledge
        /// The first event that tied `commit` to `artifact` (or to a name of it).
        func tie(_ commit: NameKey, _ artifact: NameKey) -> Ref? {
            ties[commit]?.first { known.root(of: $0.artifact) == artifact }?.by
        }

        // The environment before, for promotions: its first success of each artifact.
        var previousFirst: [NameKey: (Int64, Ref)] = [:]
        if let previous = pipeline.previous(environment) {
            var replay = PairReplay(
                key: PairKey(service: service, environment: previous),
                context: ApplyContext(knowledge: known, previousFirstSuccess: nil)
            )
            for stored in serviceEvents where stored.event.environment == previous {
                for a in replay.apply(stored).newlySucceeded { previousFirst[a] = (stored.event.time!.nanoseconds, Ref(stored)) }
            }
        }

        var replay = PairReplay(
            key: PairKey(service: service, environment: environment),
            context: ApplyContext(
                knowledge: known,
                previousFirstSuccess: pipeline.previous(environment) == nil ? nil : { previousFirst[$0]?.0 }
            )
        )
        var reworkReasons: [Int: String] = [:]
        var openers: [Int64: Ref] = [:]  // when degradation began → the event that began it
        var closers: [Int64: Ref] = [:]  // when an episode ended → the event that ended it
        for stored in serviceEvents where stored.event.environment == environment {
            let e = stored.event
            let ref = Ref(stored)
            // Only what an event can change is compared (a copy of the whole state per event
            // would make a long history quadratic).
            let deploymentsBefore = replay.state.deploymentLog.count
            let degradedBefore = replay.state.degradedSince
            let restoresBefore = (replay.state.restoreTimes.count, replay.state.restoreTimes.last)
            let withoutBefore = replay.state.withoutLeadTime
            let identity = known.identity(of: e)
            let candidates =
                e.type == .deploymentSucceeded
                ? PairState.shippedCommits(e, identity: identity, knowledge: known).filter { !replay.state.commitsReached.contains($0) }
                : []
            let effects = replay.apply(stored)
            let state = replay.state
            if state.deploymentLog.count > deploymentsBefore {
                let index = state.deploymentLog.count - 1
                if state.deploymentLog[index].rework {
                    reworkReasons[index] = e.hotfix ? "hotfix" : e.type == .deploymentRolledBack ? "rollback" : "incident open"
                }
            }
            if let since = state.degradedSince, degradedBefore != since, openers[since] == nil { openers[since] = ref }
            if (state.restoreTimes.count, state.restoreTimes.last) != restoresBefore,
                let last = state.restoreTimes.last, last.time == e.time!.nanoseconds
            {
                closers[last.time] = ref
                if e.type == .deploymentRolledBack, let start = state.episodeStarts.last, openers[start] == nil,
                    let from = replay.deploymentEvents.lastIndex(where: { $0.event.time!.nanoseconds == start })
                {
                    openers[start] = Ref(replay.deploymentEvents[from])
                }
            }
            if state.withoutLeadTime > withoutBefore { withoutLeadTime.append(ref) }
            let own = Set(e.shippedChanges.map { NameKey($0.commit) })
            for h in candidates {
                guard let committed = known.commitTimes[h], let from = commitTimeFrom[h], let commit = commitNames[h] else { continue }
                let t = e.time!.nanoseconds
                leadTimes.append(
                    LeadTime(
                        deployment: ref,
                        commit: commit,
                        seconds: Double(max(0, t - committed)) / 1e9,
                        commitTime: Timestamp(nanoseconds: committed),
                        commitTimeFrom: from,
                        tiedToArtifactBy: own.contains(h) ? nil : identity.flatMap { tie(h, $0) }
                    )
                )
            }
            if pipeline.previous(environment) != nil, let artifact = effects.newlySucceeded.first {
                let prior = previousFirst[artifact]
                let verified = prior.map { $0.0 <= e.time!.nanoseconds } ?? false
                promotions.append(
                    Promotion(
                        deployment: ref,
                        artifact: e.artifactIdentity ?? "",
                        seconds: verified ? Double(e.time!.nanoseconds - prior!.0) / 1e9 : nil,
                        previous: verified ? prior!.1 : nil
                    )
                )
            }
        }
        let state = replay.state
        let deploymentRefs = replay.deploymentEvents.map(Ref.init)
        let failedBy = replay.failedBy.mapValues(Ref.init)
        figures = state.figures(window: window, now: now.nanoseconds)

        let bound = now.nanoseconds - window.seconds * 1_000_000_000
        for (i, d) in state.deploymentLog.enumerated() where d.time > bound {
            deployments.append(Deployment(event: deploymentRefs[i], version: nil, failedBy: d.failed ? failedBy[i] : nil, rework: reworkReasons[i]))
        }
        let versions = Dictionary(
            replay.deploymentEvents.map { ($0.sequence, known.version(of: $0.event, identity: known.identity(of: $0.event))) },
            uniquingKeysWith: { a, _ in a }
        )
        for i in deployments.indices { deployments[i].version = versions[deployments[i].event.sequence] ?? nil }
        leadTimes = leadTimes.filter { $0.deployment.time.nanoseconds > bound }
        withoutLeadTime = withoutLeadTime.filter { $0.time.nanoseconds > bound }
        promotions = promotions.filter { $0.deployment.time.nanoseconds > bound }
        for (sample, start) in zip(state.restoreTimes, state.episodeStarts) where sample.time > bound {
            episodes.append(
                Episode(
                    start: Timestamp(nanoseconds: start),
                    end: Timestamp(nanoseconds: sample.time),
                    openedBy: openers[start],
                    closedBy: closers[sample.time]
                )
            )
        }
        if let since = state.degradedSince {
            episodes.append(Episode(start: Timestamp(nanoseconds: since), end: nil, openedBy: openers[since], closedBy: nil))
        }
    }
}

extension Explanation {
    /// The explanation as the API sends it.
    public var jsonValue: JSONValue {
        func ref(_ r: Ref?) -> JSONValue {
            guard let r else { return .null }
            var m: [(String, JSONValue)] = [
                ("id", .string(r.id)), ("sequence", .number(String(r.sequence))), ("type", .string(r.type.rawValue)),
                ("time", .string(r.time.rfc3339)),
            ]
            if let env = r.environment { m.append(("environment", .string(env))) }
            return .object(m)
        }
        func number(_ d: Double) -> JSONValue { d.isNaN ? .null : .number(ExpositionWriter.format(d)) }
        func optional(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        let f = figures
        return .object([
            ("service", .string(service)), ("environment", .string(environment)), ("window", .string(window.label)),
            ("now", .string(now.rfc3339)),
            (
                "figures",
                .object([
                    ("deployments", .number(String(f.deployments))), ("failures", .number(String(f.failures))),
                    ("changeFailureRatio", number(f.changeFailureRatio)), ("rework", .number(String(f.rework))),
                    ("reworkRatio", number(f.reworkRatio)), ("leadTimeMedianSeconds", number(f.leadTimeMedian)),
                    ("timeToRestoreMedianSeconds", number(f.timeToRestoreMedian)),
                    ("leadTimeSamples", .number(String(f.leadTimeSamples))), ("restoreSamples", .number(String(f.restoreSamples))),
                ])
            ),
            (
                "deployments",
                .array(
                    deployments.map { d in
                        .object([
                            ("event", ref(d.event)), ("version", optional(d.version)), ("failed", .bool(d.failedBy != nil)),
                            ("failedBy", ref(d.failedBy)), ("rework", optional(d.rework)),
                        ])
                    }
                )
            ),
            (
                "leadTimes",
                .array(
                    leadTimes.map { l in
                        .object([
                            ("deployment", ref(l.deployment)), ("commit", .string(l.commit)), ("seconds", number(l.seconds)),
                            ("commitTime", .string(l.commitTime.rfc3339)), ("commitTimeFrom", ref(l.commitTimeFrom)),
                            ("tiedToArtifactBy", ref(l.tiedToArtifactBy)),
                        ])
                    }
                )
            ),
            ("withoutLeadTime", .array(withoutLeadTime.map(ref))),
            (
                "episodes",
                .array(
                    episodes.map { e in
                        .object([
                            ("start", .string(e.start.rfc3339)), ("end", optional(e.end?.rfc3339)),
                            ("seconds", e.seconds.map(number) ?? .null), ("openedBy", ref(e.openedBy)), ("closedBy", ref(e.closedBy)),
                        ])
                    }
                )
            ),
            (
                "promotions",
                .array(
                    promotions.map { p in
                        .object([
                            ("deployment", ref(p.deployment)), ("artifact", .string(p.artifact)),
                            ("seconds", p.seconds.map(number) ?? .null), ("unverified", .bool(p.seconds == nil)),
                            ("previous", ref(p.previous)),
                        ])
                    }
                )
            ),
        ])
    }
}
