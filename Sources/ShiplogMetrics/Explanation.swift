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

        // What the service's events teach, with the event each fact came from.
        var commitTimes: [String: (Int64, Ref)] = [:]
        var artifactChanges: [String: [String: Ref]] = [:]
        for stored in serviceEvents {
            let e = stored.event
            func state(_ commit: String, _ t: Int64) {
                if let known = commitTimes[commit], known.0 <= t { return }
                commitTimes[commit] = (t, Ref(stored))
            }
            if e.type == .changeMerged, let c = e.commit { state(c, e.time!.nanoseconds) }
            for change in e.shippedChanges { if let t = change.time { state(change.commit, t.nanoseconds) } }
            if e.type.tiesChangesToArtifact, let a = e.artifactIdentity {
                for change in e.shippedChanges where artifactChanges[a]?[change.commit] == nil {
                    artifactChanges[a, default: [:]][change.commit] = Ref(stored)
                }
            }
        }
        var byHash: [UInt64: String] = [:]
        for c in commitTimes.keys { byHash[stableHash(c)] = c }
        for changes in artifactChanges.values { for c in changes.keys { byHash[stableHash(c)] = c } }
        for stored in serviceEvents { for change in stored.event.shippedChanges { byHash[stableHash(change.commit)] = change.commit } }
        let hashedTimes = Dictionary(uniqueKeysWithValues: commitTimes.map { (stableHash($0.key), $0.value.0) })
        var hashedArtifacts: [String: CommitList] = [:]
        for (artifact, changes) in artifactChanges {
            for c in changes.keys {
                if hashedArtifacts[artifact] == nil {
                    hashedArtifacts[artifact] = CommitList(stableHash(c))
                } else {
                    _ = hashedArtifacts[artifact]!.insert(stableHash(c))
                }
            }
        }

        // The environment before, for promotions: its first success of each artifact.
        var previousFirst: [String: (Int64, Ref)] = [:]
        if let previous = pipeline.previous(environment) {
            var state = PairState(key: PairKey(service: service, environment: previous))
            let context = ApplyContext(commitTime: { hashedTimes[$0] }, artifactChanges: { hashedArtifacts[$0] }, previousFirstSuccess: nil)
            for stored in serviceEvents where stored.event.environment == previous {
                let effects = state.apply(stored.event, sequence: stored.sequence, context: context)
                for a in effects.newlySucceeded { previousFirst[a] = (stored.event.time!.nanoseconds, Ref(stored)) }
            }
        }

        var state = PairState(key: PairKey(service: service, environment: environment))
        let context = ApplyContext(
            commitTime: { hashedTimes[$0] },
            artifactChanges: { hashedArtifacts[$0] },
            previousFirstSuccess: pipeline.previous(environment) == nil ? nil : { previousFirst[$0]?.0 }
        )
        var deploymentRefs: [Ref] = []
        var failedBy: [Int: Ref] = [:]
        var reworkReasons: [Int: String] = [:]
        var openers: [Int64: Ref] = [:]  // when degradation began → the event that began it
        var closers: [Int64: Ref] = [:]  // when an episode ended → the event that ended it
        for stored in serviceEvents where stored.event.environment == environment {
            let e = stored.event
            let ref = Ref(stored)
            // Only what an event can change is compared (a copy of the whole state per event
            // would make a long history quadratic).
            let deploymentsBefore = state.deploymentLog.count
            let liveBefore = state.liveIndex
            let degradedBefore = state.degradedSince
            let restoresBefore = (state.restoreTimes.count, state.restoreTimes.last)
            let withoutBefore = state.withoutLeadTime
            var candidates: [UInt64] = []
            if e.type == .deploymentSucceeded {
                var all = Set(e.shippedChanges.map { stableHash($0.commit) })
                if let a = e.artifactIdentity { all.formUnion(hashedArtifacts[a]?.all ?? []) }
                candidates = all.sorted().filter { !state.commitsReached.contains($0) }
            }
            let effects = state.apply(e, sequence: stored.sequence, context: context)
            if state.deploymentLog.count > deploymentsBefore {
                deploymentRefs.append(ref)
                let index = state.deploymentLog.count - 1
                if state.deploymentLog[index].rework {
                    reworkReasons[index] = e.hotfix ? "hotfix" : e.type == .deploymentRolledBack ? "rollback" : "incident open"
                }
            }
            // A deployment fails when it is a failed one, or as the live one (an incident, a rollback).
            for i in Set([state.deploymentLog.count - 1, liveBefore ?? -1, deploymentsBefore - 1])
            where state.deploymentLog.indices.contains(i) && state.deploymentLog[i].failed && failedBy[i] == nil {
                failedBy[i] = ref
            }
            if let since = state.degradedSince, degradedBefore != since, openers[since] == nil { openers[since] = ref }
            if (state.restoreTimes.count, state.restoreTimes.last) != restoresBefore, let last = state.restoreTimes.last,
                last.time == e.time!.nanoseconds
            {
                closers[last.time] = ref
                if e.type == .deploymentRolledBack, let start = state.episodeStarts.last, openers[start] == nil,
                    let from = deploymentRefs.lastIndex(where: { $0.time.nanoseconds == start })
                {
                    openers[start] = deploymentRefs[from]
                }
            }
            if state.withoutLeadTime > withoutBefore { withoutLeadTime.append(ref) }
            let own = Set(e.shippedChanges.map(\.commit))
            for h in candidates {
                guard let commit = byHash[h], let (committed, from) = commitTimes[commit] else { continue }
                let t = e.time!.nanoseconds
                let tie = own.contains(commit) ? nil : e.artifactIdentity.flatMap { artifactChanges[$0]?[commit] }
                leadTimes.append(
                    LeadTime(
                        deployment: ref,
                        commit: commit,
                        seconds: Double(max(0, t - committed)) / 1e9,
                        commitTime: Timestamp(nanoseconds: committed),
                        commitTimeFrom: from,
                        tiedToArtifactBy: tie
                    )
                )
            }
            if pipeline.previous(environment) != nil, let artifact = effects.newlySucceeded.first {
                let prior = previousFirst[artifact]
                let verified = prior.map { $0.0 <= e.time!.nanoseconds } ?? false
                promotions.append(
                    Promotion(
                        deployment: ref,
                        artifact: artifact,
                        seconds: verified ? Double(e.time!.nanoseconds - prior!.0) / 1e9 : nil,
                        previous: verified ? prior!.1 : nil
                    )
                )
            }
        }
        figures = state.figures(window: window, now: now.nanoseconds)

        let bound = now.nanoseconds - window.seconds * 1_000_000_000
        for (i, d) in state.deploymentLog.enumerated() where d.time > bound {
            deployments.append(Deployment(event: deploymentRefs[i], version: nil, failedBy: d.failed ? failedBy[i] : nil, rework: reworkReasons[i]))
        }
        let versions = Dictionary(serviceEvents.map { ($0.sequence, $0.event.version) }, uniquingKeysWith: { a, _ in a })
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
