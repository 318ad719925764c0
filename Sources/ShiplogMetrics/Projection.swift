import ShiplogModel
import ShiplogStore

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

/// Reads one pair's events from the log, in (time, sequence) order, for recomputation.
public typealias PairLoader = (PairKey) throws -> [StoredEvent]

/// All derived state: one `PairState` per (service, environment), kept up to date event by
/// event, and what each service's events teach about its changes. An event that arrives late
/// for its pair, or news that changes figures already computed, recomputes the pairs it
/// affects (from the log); nothing is ever recomputed from the whole log per scrape.
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
    /// How many pairs were recomputed because of late events (for tests and self-metrics).
    public internal(set) var recomputations = 0
    public internal(set) var lastSequence: Int64 = 0

    public init(pipeline: Pipeline) { self.pipeline = pipeline }

    /// Applies the events of one append (all of them already in the log), in replay order.
    /// A pair that turns out to be late is recomputed once, after the rest, with every event
    /// of the batch in it, instead of once per event: a backfill of N events posted newest
    /// first costs one recomputation per pair, not N.
    public mutating func apply(batch events: [StoredEvent], load: PairLoader) throws {
        var stale = Set<PairKey>()
        for stored in Self.replayOrder(events) { apply(stored, deferring: &stale) }
        try recompute(stale, load: load)
    }

    /// Teaching events first (merges and builds), then the rest, each in (time, sequence) order.
    public static func replayOrder(_ events: [StoredEvent]) -> [StoredEvent] {
        events.sorted { a, b in
            let am = !PairState.belongsToPair(a.event.type), bm = !PairState.belongsToPair(b.event.type)
            if am != bm { return am }
            let at = a.event.time!.nanoseconds, bt = b.event.time!.nanoseconds
            return at != bt ? at < bt : a.sequence < b.sequence
        }
    }

    /// Recomputes the pairs in `stale` from the log, each pipeline environment before the
    /// next one (a recomputation reads its predecessor's first successes).
    public mutating func recompute(_ stale: Set<PairKey>, load: PairLoader) throws {
        let order = stale.sorted { a, b in
            if a.service != b.service { return a.service < b.service }
            let ai = pipeline.index(of: a.environment) ?? Int.max, bi = pipeline.index(of: b.environment) ?? Int.max
            return ai != bi ? ai < bi : a.environment < b.environment
        }
        for key in order { try recompute(key, load: load) }
    }

    /// Applies one event in order. A pair that needs recomputing is added to `stale` instead,
    /// and later events of a pair already there are skipped (its recomputation reads them from
    /// the log); call `recompute(_:load:)` with `stale` once the events are applied. What an
    /// event teaches about its service's changes is learnt whatever happens to its pair.
    public mutating func apply(_ stored: StoredEvent, deferring stale: inout Set<PairKey>) {
        lastSequence = max(lastSequence, stored.sequence)
        let event = stored.event
        func invalidate(_ key: PairKey) {
            // The later pipeline environments read this one's first successes, and its own
            // events are skipped until it is recomputed: they wait for it too.
            var next: String? = key.environment
            while let environment = next {
                stale.insert(PairKey(service: key.service, environment: environment))
                next = pipeline.next(environment)
            }
        }
        for key in learn(from: event) { invalidate(key) }
        guard PairState.belongsToPair(event.type), let environment = event.environment else { return }
        let key = PairKey(service: event.service, environment: environment)
        if stale.contains(key) { return }
        ensurePairs(for: key)
        let effects = pairs[key]!.applyIfInOrder(event, sequence: stored.sequence, context: makeContext(for: key))
        if let effects {
            // An artifact that reached this environment after the next one already has it:
            // the next environment's promotion of it was judged too early.
            if let next = pipeline.next(environment) {
                let nextKey = PairKey(service: key.service, environment: next)
                if let nextState = pairs[nextKey], effects.newlySucceeded.contains(where: { nextState.firstSuccess[$0] != nil }) {
                    invalidate(nextKey)
                }
            }
        } else {
            invalidate(key)
        }
    }

    /// Rebuilds one pair from all of its events.
    mutating func recompute(_ key: PairKey, load: PairLoader) throws {
        recomputations += 1
        ensurePairs(for: key)
        var state = PairState(key: key)
        let context = makeContext(for: key)
        for stored in try load(key) {
            state.apply(stored.event, sequence: stored.sequence, context: context)
        }
        pairs[key] = state
    }

    /// Learns what an event teaches its service; returns the pairs whose figures used
    /// something that changed: a commit whose time became known or earlier that they
    /// shipped, or an artifact they deployed that gained a commit with a known time.
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
            knowledge[k.service, default: ServiceKnowledge()].environments.append(k.environment)
        }
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
        var i = 0, j = 0
        while i < sorted.count, j < new.count {
            if sorted[i] < new[j] { out.append(sorted[i]); i += 1 } else { out.append(new[j]); j += 1 }
        }
        out += sorted[i...]
        out += new[j...]
        return out
    }

    func makeContext(for key: PairKey) -> ApplyContext {
        let known = knowledge[key.service] ?? ServiceKnowledge()
        var previousLookup: ((String) -> Int64?)? = nil
        if let previous = pipeline.previous(key.environment) {
            let previousSuccess = pairs[PairKey(service: key.service, environment: previous)]?.firstSuccess ?? [:]
            previousLookup = { previousSuccess[$0] }
        }
        return ApplyContext(
            commitTime: { known.commitTimes[$0] }, artifactChanges: { known.artifactChanges[stableHash($0)] },
            previousFirstSuccess: previousLookup)
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
            let artifact = from.liveArtifact, let since = from.firstLive[artifact]
        else { return nil }
        if pairs[key]?.firstSuccess[artifact] != nil { return (artifact, from.liveVersion, 0) }
        return (artifact, from.liveVersion, Double(max(0, now - since)) / 1e9)
    }

    /// Mutating access for the exposition's window cache.
    mutating func withPair<R>(_ key: PairKey, _ body: (inout PairState) -> R) -> R {
        body(&pairs[key]!)
    }
}

import Foundation
