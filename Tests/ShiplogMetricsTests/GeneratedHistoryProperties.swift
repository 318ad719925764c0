import PropertyBased
import ShiplogModel
import Testing

@testable import ShiplogMetrics

/// Every figure depends only on the set of events (PRODUCT.md §3), checked on generated
/// histories: several services and environments, successes, failures, rollbacks,
/// incidents opened twice, late events, artifacts named by digest, by version or both,
/// builds that tie the two, changes with and without times. Each history is applied three
/// ways — one event at a time in arrival order, shuffled in batches of random sizes, and as
/// one replay sorted by time — and the whole state must be the same, NaN medians compared
/// as NaN. The explanation's figures must be the projection's, and a snapshot must restore
/// the same state.
@Suite struct GeneratedHistoryProperties {
    /// 1,000 cases take about 10 s; reverting any one recomputation rule (an artifact tied to another
    /// name, a commit time learnt late) is found within the first few dozen.
    static let cases = 1_000

    @Test func figuresDoNotDependOnArrivalOrder() async {
        await propertyCheck(count: Self.cases, input: Gen.int(in: 0...Int.max)) { seed in
            let events = Self.history(seed: UInt64(seed))
            let pipeline = Pipeline.standard
            let inArrival = try Self.apply(events, order: Array(events.indices), batches: [1], pipeline: pipeline)
            var rng = SeededGenerator(seed: UInt64(seed) ^ 0x9e37_79b9_7f4a_7c15)
            let shuffledOrder = Array(events.indices).shuffled(using: &rng)
            let batchSizes = (0..<8).map { _ in Int.random(in: 1...7, using: &rng) }
            let shuffled = try Self.apply(events, order: shuffledOrder, batches: batchSizes, pipeline: pipeline)
            let sortedOrder = events.indices.sorted { events[$0].time! < events[$1].time! }
            let replay = try Self.apply(events, order: sortedOrder, batches: [events.count], pipeline: pipeline)

            let reference = StateDescription(replay)
            #expect(StateDescription(inArrival) == reference, "seed \(seed): one at a time in arrival order\n\(reference.difference(StateDescription(inArrival)))")
            #expect(StateDescription(shuffled) == reference, "seed \(seed): shuffled\n\(reference.difference(StateDescription(shuffled)))")
            let restored = try Projection(snapshot: inArrival.snapshotBytes(), pipeline: pipeline)
            #expect(StateDescription(restored) == StateDescription(inArrival), "seed \(seed): restored from a snapshot")

            // The explanation runs the same rules from the service's events.
            let stored = sortedOrder.enumerated().map { StoredEvent(sequence: Int64($0.offset + 1), event: events[$0.element], receivedAt: at(100_000), format: .native) }
            for key in replay.sortedKeys {
                let explanation = Explanation(
                    service: key.service,
                    environment: key.environment,
                    window: Window.exported[2],
                    now: Self.now,
                    pipeline: pipeline,
                    serviceEvents: stored.filter { $0.event.service == key.service }
                )
                let figures = replay.pairs[key]!.figures(window: Window.exported[2], now: Self.now.nanoseconds)
                #expect(FiguresDescription(explanation.figures) == FiguresDescription(figures), "seed \(seed): explain \(key)")
                #expect(explanation.deployments.count == figures.deployments)
                #expect(explanation.leadTimes.count == figures.leadTimeSamples, "seed \(seed): explain \(key) lead times")
            }
        }
    }

    static let now = at(3 * 1440)

    /// Applies `events` in `order` (sequence = arrival), in batches of the given sizes (cycled),
    /// each batch's pending rebuilds read from the log so far, as the server does.
    static func apply(_ events: [Event], order: [Int], batches: [Int], pipeline: Pipeline) throws -> Projection {
        var projection = Projection(pipeline: pipeline)
        var log: [StoredEvent] = []
        var position = 0
        var b = 0
        while position < order.count {
            let size = batches[b % batches.count]
            b += 1
            let numbered = order[position..<min(position + size, order.count)].enumerated().map { offset, i in
                StoredEvent(sequence: Int64(log.count + offset + 1), event: events[i], receivedAt: at(100_000), format: .native)
            }
            log += numbered
            position += size
            let snapshotOfLog = log
            try projection.apply(batch: numbered) { key in
                snapshotOfLog.filter { $0.event.service == key.service && $0.event.environment == key.environment }
                    .sorted { ($0.event.time!, $0.sequence) < ($1.event.time!, $1.sequence) }
            }
        }
        return projection
    }

    /// A random history from a seed (times distinct, so no tie is broken by arrival order).
    static func history(seed: UInt64) -> [Event] {
        var rng = SeededGenerator(seed: seed)
        let count = Int.random(in: 5...60, using: &rng)
        var times = Array(0..<(count * 4)).shuffled(using: &rng).prefix(count).map(Double.init)
        let services = ["api", "web"]
        let environments = ["dev", "staging", "production", "qa"]
        let artifacts = 4
        func digest(_ i: Int) -> String { "sha256:" + String(repeating: String(i), count: 64) }
        var events: [Event] = []
        for n in 0..<count {
            let service = services.randomElement(using: &rng)!
            let environment = environments.randomElement(using: &rng)!
            let minute = times.removeFirst()
            let artifact = Int.random(in: 0..<artifacts, using: &rng)
            var e = Event(id: "g\(n)", type: .deploymentSucceeded, service: service, environment: environment, time: at(minute))
            func nameArtifact() {
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: e.version = "v\(artifact)"
                case 1: e.artifact = "registry/\(service)@" + digest(artifact)
                default:
                    e.version = "v\(artifact)"
                    e.artifact = "registry/\(service)@" + digest(artifact)
                }
            }
            func changes() {
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: break
                case 1:
                    e.commit = "c\(artifact)"
                    if Bool.random(using: &rng) { e.commitTime = at(minute - Double.random(in: 0...500, using: &rng).rounded()) }
                default:
                    e.changes = (0..<Int.random(in: 1...3, using: &rng)).map { _ in
                        let c = Int.random(in: 0..<6, using: &rng)
                        return Change(commit: "c\(c)", time: Bool.random(using: &rng) ? at(Double(Int.random(in: -300...200, using: &rng))) : nil)
                    }
                    if Bool.random(using: &rng) {
                        e.commit = "c\(artifact)"
                        e.commitTime = at(minute - 30)
                    }
                }
            }
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<35:
                nameArtifact()
                changes()
                e.hotfix = Int.random(in: 0..<10, using: &rng) == 0
                if Bool.random(using: &rng) { e.namespace = "ns\(Int.random(in: 0..<2, using: &rng))" }
                if Bool.random(using: &rng) { e.workload = "w\(Int.random(in: 0..<2, using: &rng))" }
                if Bool.random(using: &rng) { e.actor = "actor\(Int.random(in: 0..<3, using: &rng))" }
            case 35..<45:
                e.type = .deploymentFailed
                nameArtifact()
            case 45..<55:
                e.type = .deploymentRolledBack
                nameArtifact()
            case 55..<70:
                e.type = .incidentOpened
                e.incident = Incident(id: "I\(Int.random(in: 0..<3, using: &rng))")
            case 70..<80:
                e.type = .incidentResolved
                e.incident = Incident(id: "I\(Int.random(in: 0..<3, using: &rng))")
            case 80..<90:
                e.type = .artifactPublished
                e.environment = nil
                e.version = "v\(artifact)"
                e.artifact = "registry/\(service)@" + digest(artifact)
                changes()
                if e.commit == nil && e.changes.isEmpty { e.commit = "c\(artifact)" }
            case 90..<96:
                e.type = .changeMerged
                e.environment = nil
                e.commit = "c\(Int.random(in: 0..<6, using: &rng))"
            default:
                e.type = .deploymentStarted
                nameArtifact()
            }
            events.append(e)
        }
        return events
    }
}

/// A window's figures compared with NaN equal to NaN (and nothing else).
struct FiguresDescription: Equatable {
    let figures: WindowFigures
    init(_ f: WindowFigures) { figures = f }

    static func == (a: FiguresDescription, b: FiguresDescription) -> Bool {
        func same(_ x: Double, _ y: Double) -> Bool { x.isNaN ? y.isNaN : x == y }
        let f = a.figures
        let g = b.figures
        return f.deployments == g.deployments && f.failures == g.failures && f.rework == g.rework
            && same(f.changeFailureRatio, g.changeFailureRatio) && same(f.reworkRatio, g.reworkRatio)
            && same(f.leadTimeMedian, g.leadTimeMedian) && same(f.timeToRestoreMedian, g.timeToRestoreMedian)
            && f.leadTimeSamples == g.leadTimeSamples && f.restoreSamples == g.restoreSamples
    }
}

/// The whole state of a projection that the set of events determines: every pair's stored
/// figures and what they rest on (the live deployment, first lives and successes, commits
/// reached, Kubernetes identity, open incidents, degradation), the window figures, and
/// what each service's events taught. Left out: sequence numbers (they are the arrival
/// order) and caches.
struct StateDescription: Equatable, CustomStringConvertible {
    var pairs: [PairKey: PairDescription]
    var knowledge: [String: ServiceKnowledge]

    init(_ p: Projection) {
        pairs = p.pairs.mapValues { PairDescription($0, knowledge: p.knowledge[$0.key.service]) }
        knowledge = p.knowledge.filter { !$0.value.isEmptyForComparison }
    }

    /// What differs, for a failure message.
    func difference(_ other: StateDescription) -> String {
        var lines: [String] = []
        for key in Set(pairs.keys).union(other.pairs.keys).sorted() where pairs[key] != other.pairs[key] {
            lines.append("\(key.service)/\(key.environment):\n  expected \(pairs[key].map { "\($0.details)" } ?? "-")\n  got      \(other.pairs[key].map { "\($0.details)" } ?? "-")")
        }
        for service in Set(knowledge.keys).union(other.knowledge.keys).sorted() where knowledge[service] != other.knowledge[service] {
            lines.append("knowledge of \(service) differs: \(String(describing: knowledge[service]))\n vs \(String(describing: other.knowledge[service]))")
        }
        return lines.joined(separator: "\n")
    }

    var description: String {
        pairs.keys.sorted().map { "\($0.service)/\($0.environment): \(pairs[$0]!)" }.joined(separator: "\n")
    }
}

struct PairDescription: Equatable, CustomStringConvertible {
    var lastTime: Int64
    var counters: [Int]
    var deployments: [DeploymentRecord]
    var leadTimes: [Sample]
    var restoreTimes: [Sample]
    var episodeStarts: [Int64]
    var promotions: [Sample]
    var histograms: [[Int]]
    var histogramSums: [Double]
    var live: [String?]
    var liveKey: NameKey?
    var liveIndex: Int?
    var firstLive: TimesByName
    var firstSuccess: TimesByName
    var times: [Int64?]
    var lastAttemptFailed: Bool
    var openIncidents: Set<String>
    var commitsReached: Set<NameKey>
    var windows: [FiguresDescription]

    init(_ p: PairState, knowledge: ServiceKnowledge?) {
        lastTime = p.lastTime
        counters = [p.deployments, p.failures, p.rollbacks, p.rework, p.unverifiedPromotions, p.withoutLeadTime, p.incidents]
        deployments = p.deploymentLog
        // Samples of one deployment can be recorded in another order; their multiset counts.
        leadTimes = p.leadTimes.sorted { ($0.time, $0.seconds) < ($1.time, $1.seconds) }
        restoreTimes = p.restoreTimes
        episodeStarts = p.episodeStarts
        promotions = p.promotionDurations
        histograms = [p.leadTimeHistogram, p.restoreHistogram, p.promotionHistogram].map(\.counts)
        histogramSums = [p.leadTimeHistogram, p.restoreHistogram, p.promotionHistogram].map(\.sum)
        live = [p.liveVersion, p.liveArtifact, p.liveActor, p.namespace, p.workload]
        liveKey = p.liveArtifactKey
        liveIndex = p.liveIndex
        firstLive = p.firstLive
        firstSuccess = p.firstSuccess
        times = [p.lastDeploymentTime, p.lastRollbackTime, p.degradedSince]
        lastAttemptFailed = p.lastAttemptFailed
        openIncidents = p.openIncidents
        // A commit reached without a known time changes no figure until its time is learnt
        // (then the pair is recomputed either way): only the timed ones are state.
        commitsReached = p.commitsReached.filter { knowledge?.commitTimes[$0] != nil }
        var copy = p
        windows = copy.exportedFigures(now: GeneratedHistoryProperties.now.nanoseconds).map(FiguresDescription.init)
    }

    static func == (a: PairDescription, b: PairDescription) -> Bool {
        // Sums of the same samples added in another order may differ in the last bits.
        let sums = zip(a.histogramSums, b.histogramSums).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($0)) }
        return sums && a.lastTime == b.lastTime && a.counters == b.counters && a.deployments == b.deployments
            && a.leadTimes == b.leadTimes && a.restoreTimes == b.restoreTimes && a.episodeStarts == b.episodeStarts
            && a.promotions.sorted(by: { $0.time < $1.time }) == b.promotions.sorted(by: { $0.time < $1.time })
            && a.histograms == b.histograms && a.live == b.live && a.liveKey == b.liveKey && a.liveIndex == b.liveIndex
            && a.firstLive == b.firstLive && a.firstSuccess == b.firstSuccess && a.times == b.times
            && a.lastAttemptFailed == b.lastAttemptFailed && a.openIncidents == b.openIncidents
            && a.commitsReached == b.commitsReached && a.windows == b.windows
    }

    var details: String { "\(self) \(histograms) \(histogramSums) key \(String(describing: liveKey)) idx \(String(describing: liveIndex)) firstLive \(firstLive.byKey.count) firstSuccess \(firstSuccess.byKey.count) times \(times) lastFailed \(lastAttemptFailed) reached \(commitsReached.count) windows \(windows.map { "\($0.figures)" })" }

    var description: String {
        "counters \(counters) deployments \(deployments.map { "\($0.time / 60_000_000_000)\($0.failed ? "F" : "")" }) lead \(leadTimes.map(\.seconds)) restore \(restoreTimes.map(\.seconds)) promotions \(promotions.map(\.seconds)) live \(live) open \(openIncidents.sorted())"
    }
}

extension ServiceKnowledge {
    /// A service whose events taught nothing compares equal to one never seen.
    var isEmptyForComparison: Bool {
        commitTimes.isEmpty && artifactFirstCommit.isEmpty && aliasParent.isEmpty && environments.isEmpty
    }
}
