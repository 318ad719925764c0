import Foundation
import ShiplogModel

/// The configured promotion order; the last environment is production.
public struct Pipeline: Sendable, Hashable {
    public var environments: [String]

    public init(_ environments: [String]) { self.environments = environments }

    public static let standard = Pipeline(["dev", "staging", "production"])

    /// Parses `dev,staging,production`.
    public init?(parsing text: String) {
        let envs = text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        guard !envs.isEmpty, envs.allSatisfy(Event.isValidName), Set(envs).count == envs.count else { return nil }
        environments = envs
    }

    public var production: String { environments.last! }

    public func index(of environment: String) -> Int? { environments.firstIndex(of: environment) }

    public func previous(_ environment: String) -> String? {
        guard let i = index(of: environment), i > 0 else { return nil }
        return environments[i - 1]
    }

    /// The pairs created together with `key`: its service's pipeline pairs when `key` is in
    /// the pipeline, else `key` alone.
    public func pairs(with key: PairKey) -> [PairKey] {
        guard index(of: key.environment) != nil else { return [key] }
        return environments.map { PairKey(service: key.service, environment: $0) }
    }

    /// The pairs an event belongs to once applied (none for an event of no pair).
    public func pairKeys(for event: Event) -> [PairKey] {
        guard PairState.belongsToPair(event.type), let environment = event.environment else { return [] }
        return pairs(with: PairKey(service: event.service, environment: environment))
    }

    public func next(_ environment: String) -> String? {
        guard let i = index(of: environment), i + 1 < environments.count else { return nil }
        return environments[i + 1]
    }
}

/// Reads one pair's events from the log, in (time, sequence) order.
public typealias PairLoader = (PairKey) throws -> [StoredEvent]

/// All derived state: one `PairState` per (service, environment), kept up to date event by
/// event, and what each service's events teach about its changes. An event that arrives late
/// for its pair, or news that changes figures already computed, leaves the pairs it affects
/// to be rebuilt (`pendingRebuild`, `rebuild`): a late event from the pair's checkpoint
/// before it, other news from the pair's first event. Nothing is ever recomputed per scrape.
public struct Projection: Sendable {
    public let pipeline: Pipeline
    public internal(set) var pairs: [PairKey: PairState] = [:]
    /// Pairs in label order, for stable exposition: the sorted ones plus those created since
    /// the last `sortKeys()`. A new pair costs an append; sorting waits for a reader, so that
    /// a body of thousands of new services does not re-sort every key once per service.
    var orderedKeys: [PairKey] = []
    var unorderedKeys: [PairKey] = []
    /// Every pair, in label order.
    public var sortedKeys: [PairKey] {
        unorderedKeys.isEmpty ? orderedKeys : Self.merged(orderedKeys, unorderedKeys)
    }
    /// Per service: commit times and artifacts' changes (see `ServiceKnowledge`).
    var knowledge: [String: ServiceKnowledge] = [:]
    /// Pairs whose state is behind their events, and where to rebuild each from. Their own
    /// events are skipped until then: the rebuild reads them from the log.
    var pending: [PairKey: LogPosition?] = [:]
    /// Earlier states of the pairs that have had late events, to rebuild from (not saved in
    /// snapshots).
    var checkpoints: [PairKey: PairCheckpoints] = [:]
    /// Pairs created since the last `takeCreatedPairs()`.
    var createdPairs: [PairKey] = []
    /// How many pairs were rebuilt (for tests and self-metrics).
    public internal(set) var recomputations = 0
    /// The newest row applied: rows are applied in sequence order, so every row up to it.
    public internal(set) var lastSequence: Int64 = 0

    public init(pipeline: Pipeline) { self.pipeline = pipeline }

    /// Applies rows in replay order (teaching events first, then by time; `replayOrder`).
    /// Pairs that turn out to be late are left pending, each once whatever number of its
    /// events are late: a backfill posted newest first costs no rebuild, not one per event.
    public mutating func apply(batch events: [StoredEvent]) {
        for stored in Self.replayOrder(events) { apply(stored) }
    }

    /// `apply(batch:)`, then every pending rebuild with the events `load` reads (tests and
    /// tools that hold the whole log).
    public mutating func apply(batch events: [StoredEvent], load: PairLoader) throws {
        apply(batch: events)
        while let (key, from) = pendingRebuild {
            let through = lastSequence
            let events = try load(key).filter { $0.sequence <= through && from.map($0.position.isAfter) ?? true }
            rebuild(key, from: from, with: events)
        }
    }

    /// Teaching events first (merges and builds), then the rest, each in (time, sequence) order.
    public static func replayOrder(_ events: [StoredEvent]) -> [StoredEvent] {
        events.sorted { a, b in
            let am = !PairState.belongsToPair(a.event.type)
            let bm = !PairState.belongsToPair(b.event.type)
            if am != bm { return am }
            let at = a.event.time!.nanoseconds
            let bt = b.event.time!.nanoseconds
            return at != bt ? at < bt : a.sequence < b.sequence
        }
    }

    /// The next pair to rebuild, and the position its events are needed after (nil: all of
    /// them), each pipeline environment before the next one (a rebuild reads its
    /// predecessor's first successes).
    public var pendingRebuild: (key: PairKey, after: LogPosition?)? {
        guard let key = pending.keys.min(by: rebuildOrder) else { return nil }
        return (key, pending[key]!)
    }

    private func rebuildOrder(_ a: PairKey, _ b: PairKey) -> Bool {
        if a.service != b.service { return a.service < b.service }
        let ai = pipeline.index(of: a.environment) ?? Int.max
        let bi = pipeline.index(of: b.environment) ?? Int.max
        return ai != bi ? ai < bi : a.environment < b.environment
    }

    /// Whether a rebuild is waiting (a snapshot is only taken without one).
    public var hasPendingRebuilds: Bool { !pending.isEmpty }

    /// Rebuilds a pending pair from `events`: its events after `from`, in (time, sequence)
    /// order, up to `lastSequence` (all of them when `from` is nil). When that changes which
    /// artifacts first succeeded here, the next pipeline environment is rebuilt as well.
    public mutating func rebuild(_ key: PairKey, from: LogPosition?, with events: [StoredEvent]) {
        pending[key] = nil
        recomputations += 1
        ensurePairs(for: key)
        let before = pairs[key]!.firstSuccess
        var marks = checkpoints[key] ?? PairCheckpoints()
        var state: PairState
        if let from, let base = marks.states.lastIndex(where: { $0.position == from }) {
            state = marks.states[base]
            marks.states.removeSubrange((base + 1)...)
        } else {
            state = PairState(key: key)
            marks.states = []
        }
        let context = makeContext(for: key)
        for stored in events {
            state.apply(stored.event, sequence: stored.sequence, context: context)
        }
        pairs[key] = state
        if from == nil {
            // A pair rebuilt once keeps checkpoints from now on: late events tend to come again.
            marks.states = [state]
            marks.appliedSinceNewest = 0
        } else {
            marks.appliedSinceNewest = events.count
        }
        checkpoints[key] = marks
        if state.firstSuccess != before, let next = pipeline.next(key.environment) {
            requireRebuild(PairKey(service: key.service, environment: next), from: nil)
        }
    }

    /// Marks a pair for rebuilding from `from` (nil: from its first event), or from earlier
    /// when it is already marked.
    mutating func requireRebuild(_ key: PairKey, from: LogPosition?) {
        if let existing = pending[key] {
            guard let old = existing, let new = from else {
                pending[key] = .some(nil)
                return
            }
            pending[key] = min(old, new)
        } else {
            pending[key] = .some(from)
        }
    }

    /// Applies one row in order. A late event, or one of a pair already pending, leaves its
    /// pair pending (`rebuild` reads its events from the log); what an event teaches about
    /// its service's changes is learnt whatever happens to its pair.
    mutating func apply(_ stored: StoredEvent) {
        lastSequence = max(lastSequence, stored.sequence)
        let event = stored.event
        for key in learn(from: event) { requireRebuild(key, from: nil) }
        guard PairState.belongsToPair(event.type), let environment = event.environment else { return }
        let key = PairKey(service: event.service, environment: environment)
        ensurePairs(for: key)
        let position = stored.position
        if pending[key] != nil {
            // Its rebuild reads this event; it only has to start early enough.
            if case .some(.some(let from)) = pending[key], !position.isAfter(from) {
                requireRebuild(key, from: checkpoint(of: key, before: position))
            }
            return
        }
        guard let effects = pairs[key]!.applyIfInOrder(event, sequence: stored.sequence, context: makeContext(for: key)) else {
            requireRebuild(key, from: checkpoint(of: key, before: position))
            return
        }
        if var marks = checkpoints[key] {
            marks.appliedSinceNewest += 1
            let state = pairs[key]!
            if marks.appliedSinceNewest >= PairCheckpoints.interval(for: state) {
                marks.states.append(state)
                if marks.states.count > PairCheckpoints.kept { marks.states.removeFirst() }
                marks.appliedSinceNewest = 0
            }
            checkpoints[key] = marks
        }
        // An artifact that reached this environment after the next one already has it:
        // the next environment's promotion of it was judged too early.
        if let next = pipeline.next(environment) {
            let nextKey = PairKey(service: key.service, environment: next)
            if let nextState = pairs[nextKey], effects.newlySucceeded.contains(where: { nextState.firstSuccess[$0] != nil }) {
                requireRebuild(nextKey, from: nil)
            }
        }
    }

    /// The position of the newest checkpoint of `key` before `position`; nil when there is
    /// none (rebuild from the pair's first event).
    func checkpoint(of key: PairKey, before position: LogPosition) -> LogPosition? {
        checkpoints[key]?.states.last(where: { position.isAfter($0.position) })?.position
    }

    /// Learns what an event teaches its service; returns the pairs whose figures used
    /// something that changed: a commit whose time became known or earlier that they
    /// shipped, an artifact they deployed that gained a commit with a known time, or an
    /// artifact they deployed that turned out to be one with another (a digest and a version).
    mutating func learn(from event: Event) -> Set<PairKey> {
        let news = knowledge[event.service, default: ServiceKnowledge()].learn(from: event)
        guard !news.isEmpty, let index = knowledge.index(forKey: event.service) else { return [] }
        var affected = Set<PairKey>()
        for h in news.commitTimes {
            if let waiting = knowledge.values[index].waitingForTime.removeValue(forKey: h) {
                for env in waiting { affected.insert(PairKey(service: event.service, environment: env)) }
            }
        }
        for env in knowledge.values[index].environments {
            let key = PairKey(service: event.service, environment: env)
            guard let pair = pairs[key] else { continue }
            if news.commitTimes.contains(where: pair.commitsReached.contains) { affected.insert(key) }
            if news.mergedArtifacts.contains(where: { pair.firstLive[$0] != nil }) { affected.insert(key) }
            for (artifact, h) in news.artifactChanges where pair.firstSuccess[artifact] != nil {
                if knowledge.values[index].commitTimes[h] != nil {
                    affected.insert(key)
                } else {
                    knowledge.values[index].waitingForTime[h, default: []].insert(env)
                }
            }
        }
        return affected
    }

    /// Creates the pair and, for a pipeline environment, the service's other pipeline pairs,
    /// so that every figure (and every pending promotion) has its series from the start.
    mutating func ensurePairs(for key: PairKey) {
        // A pair is always created together with its service's pipeline pairs.
        if pairs.index(forKey: key) != nil { return }
        for k in pipeline.pairs(with: key) where pairs.index(forKey: k) == nil {
            pairs[k] = PairState(key: k)
            unorderedKeys.append(k)
            createdPairs.append(k)
            knowledge[k.service, default: ServiceKnowledge()].environments.append(k.environment)
        }
    }

    /// The pairs created since the last call.
    public mutating func takeCreatedPairs() -> [PairKey] {
        defer { createdPairs = [] }
        return createdPairs
    }

    /// Sorts the pairs created since the last call into `sortedKeys`: O(k log k + n) for k
    /// new pairs among n. Readers that hold the projection a while (the exposition, copies
    /// handed out) call it first.
    public mutating func sortKeys() {
        guard !unorderedKeys.isEmpty else { return }
        orderedKeys = Self.merged(orderedKeys, unorderedKeys)
        unorderedKeys = []
    }

    static func merged(_ sorted: [PairKey], _ new: [PairKey]) -> [PairKey] {
        let new = new.sorted()
        var out: [PairKey] = []
        out.reserveCapacity(sorted.count + new.count)
        var i = 0
        var j = 0
        while i < sorted.count, j < new.count {
            if sorted[i] < new[j] {
                out.append(sorted[i])
                i += 1
            } else {
                out.append(new[j])
                j += 1
            }
        }
        out += sorted[i...]
        out += new[j...]
        return out
    }

    func makeContext(for key: PairKey) -> ApplyContext {
        var previousLookup: ((NameKey) -> Int64?)? = nil
        if let previous = pipeline.previous(key.environment) {
            let previousSuccess = pairs[PairKey(service: key.service, environment: previous)]?.firstSuccess ?? TimesByName()
            previousLookup = { previousSuccess[$0] }
        }
        return ApplyContext(knowledge: knowledge[key.service] ?? ServiceKnowledge(), previousFirstSuccess: previousLookup)
    }

    // MARK: Reading

    public func pair(_ service: String, _ environment: String) -> PairState? {
        pairs[PairKey(service: service, environment: environment)]
    }

    public var services: [String] {
        var seen = Set<String>()
        return sortedKeys.compactMap { seen.insert($0.service).inserted ? $0.service : nil }
    }

    /// How long the artifact live in the environment before `key`'s has waited to reach it:
    /// 0 once it succeeded here, nil when there is nothing to promote.
    public func pending(_ key: PairKey, now: Int64) -> (artifact: String, version: String?, seconds: Double)? {
        guard let previous = pipeline.previous(key.environment),
            let from = pairs[PairKey(service: key.service, environment: previous)],
            let artifact = from.liveArtifact, let identity = from.liveArtifactKey, let since = from.firstLive[identity]
        else { return nil }
        if pairs[key]?.firstSuccess[identity] != nil { return (artifact, from.liveVersion, 0) }
        return (artifact, from.liveVersion, Double(max(0, now - since)) / 1e9)
    }

    /// Mutating access for the exposition's window cache.
    mutating func withPair<R>(_ key: PairKey, _ body: (inout PairState) -> R) -> R {
        body(&pairs[key]!)
    }
}

/// Earlier states of one pair, oldest first: a late event is applied by going back to the
/// newest one before it and applying the pair's events after that again, which costs what
/// the event's lateness costs instead of a pass over the pair's whole history.
struct PairCheckpoints: Sendable {
    var states: [PairState] = []
    /// Events applied since the newest state was kept.
    var appliedSinceNewest = 0

    /// Two are kept, so that a late event is covered at least `interval` events back.
    static let kept = 2

    /// Events between checkpoints: a checkpoint shares the pair's storage until the pair
    /// changes, which then copies it, so larger pairs keep one less often.
    static func interval(for state: PairState) -> Int {
        max(64, (state.deploymentLog.count + state.leadTimes.count) / 8)
    }
}
