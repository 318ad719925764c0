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

    public func next(_ environment: String) -> String? {
        guard let i = index(of: environment), i + 1 < environments.count else { return nil }
        return environments[i + 1]
    }
}

/// Reads one pair's events from the log, in (time, sequence) order, for recomputation.
public typealias PairLoader = (PairKey) throws -> [StoredEvent]

/// All derived state: one `PairState` per (service, environment), kept up to date event by
/// event. An event that arrives late for its pair recomputes that pair (from the log) and
/// the pairs that depend on it; nothing is ever recomputed from the whole log per scrape.
public struct Projection: Sendable {
    public let pipeline: Pipeline
    public internal(set) var pairs: [PairKey: PairState] = [:]
    /// Pairs in label order, for stable exposition.
    public internal(set) var sortedKeys: [PairKey] = []
    var mergeTimes: [String: Int64] = [:]
    /// Commit → pairs that shipped it without an explicit commit time.
    var dependents: [String: Set<PairKey>] = [:]
    /// How many pairs were recomputed because of late events (for tests and self-metrics).
    public internal(set) var recomputations = 0
    public internal(set) var lastSequence: Int64 = 0

    public init(pipeline: Pipeline) { self.pipeline = pipeline }

    /// Applies one stored event. `load` is used only when the event is late for its pair.
    public mutating func apply(_ stored: StoredEvent, load: PairLoader) throws {
        var stale: Set<PairKey>? = nil
        try apply(stored, load: load, stale: &stale)
    }

    /// Applies the events of one append (all of them already in the log), in replay order.
    /// A pair that turns out to be late is recomputed once, after the rest, with every event
    /// of the batch in it, instead of once per event: a backfill of N events posted newest
    /// first costs one recomputation per pair, not N.
    public mutating func apply(batch events: [StoredEvent], load: PairLoader) throws {
        var stale: Set<PairKey>? = []
        for stored in Self.replayOrder(events) { try apply(stored, load: load, stale: &stale) }
        // A pipeline environment before the next one: a recomputation reads its predecessor.
        let order = stale!.sorted { a, b in
            if a.service != b.service { return a.service < b.service }
            let ai = pipeline.index(of: a.environment) ?? Int.max, bi = pipeline.index(of: b.environment) ?? Int.max
            return ai != bi ? ai < bi : a.environment < b.environment
        }
        for key in order { try recompute(key, load: load) }
    }

    /// Merges first, then the rest, each in (time, sequence) order.
    public static func replayOrder(_ events: [StoredEvent]) -> [StoredEvent] {
        events.sorted { a, b in
            let am = a.event.type == .changeMerged, bm = b.event.type == .changeMerged
            if am != bm { return am }
            let at = a.event.time!.nanoseconds, bt = b.event.time!.nanoseconds
            return at != bt ? at < bt : a.sequence < b.sequence
        }
    }

    /// With `stale` nil, a pair that needs recomputing is recomputed at once; otherwise it is
    /// added to `stale`, and later events of a pair already there are skipped (the
    /// recomputation reads them from the log).
    private mutating func apply(_ stored: StoredEvent, load: PairLoader, stale: inout Set<PairKey>?) throws {
        lastSequence = max(lastSequence, stored.sequence)
        func invalidate(_ key: PairKey) throws {
            guard stale != nil else { return try recompute(key, load: load) }
            // The later pipeline environments read this one's first successes, and its own
            // events of the batch are skipped until it is recomputed: they wait for it too.
            var next: String? = key.environment
            while let environment = next {
                stale!.insert(PairKey(service: key.service, environment: environment))
                next = pipeline.next(environment)
            }
        }
        let event = stored.event
        let t = event.time!.nanoseconds
        if event.type == .changeMerged {
            guard let commit = event.commit else { return }
            if let existing = mergeTimes[commit], existing <= t { return }
            mergeTimes[commit] = t
            for key in (dependents[commit] ?? []).sorted() { try invalidate(key) }
            return
        }
        guard let environment = event.environment else { return }
        let key = PairKey(service: event.service, environment: environment)
        if stale?.contains(key) == true { return }
        ensurePairs(for: key)
        let context = makeContext(for: key)
        if let newlySucceeded = pairs[key]!.applyIfInOrder(event, sequence: stored.sequence, context: context) {
            registerDependents(key)
            // An artifact that reached this environment after the next one already has it:
            // the next environment's promotion of it was judged too early.
            if let next = pipeline.next(environment) {
                let nextKey = PairKey(service: key.service, environment: next)
                if let nextState = pairs[nextKey], newlySucceeded.contains(where: { nextState.firstSuccess[$0] != nil }) {
                    try invalidate(nextKey)
                }
            }
        } else {
            try invalidate(key)
            if let next = pipeline.next(environment) {
                try invalidate(PairKey(service: key.service, environment: next))
            }
        }
    }

    /// Rebuilds one pair from all of its events.
    mutating func recompute(_ key: PairKey, load: PairLoader) throws {
        recomputations += 1
        var state = PairState(key: key)
        let context = makeContext(for: key)
        for stored in try load(key) {
            state.apply(stored.event, sequence: stored.sequence, context: context)
        }
        pairs[key] = state
        registerDependents(key)
    }

    /// Creates the pair and, for a pipeline environment, the service's other pipeline pairs,
    /// so that every figure (and every pending promotion) has its series from the start.
    mutating func ensurePairs(for key: PairKey) {
        // A pair is always created together with its service's pipeline pairs.
        if pairs.index(forKey: key) != nil { return }
        var keys = [key]
        if pipeline.index(of: key.environment) != nil {
            keys += pipeline.environments.map { PairKey(service: key.service, environment: $0) }
        }
        var added = false
        for k in keys where pairs.index(forKey: k) == nil {
            pairs[k] = PairState(key: k)
            added = true
        }
        if added { sortedKeys = pairs.keys.sorted() }
    }

    func makeContext(for key: PairKey) -> ApplyContext {
        let merges = mergeTimes
        var previousLookup: ((String) -> Int64?)? = nil
        if let previous = pipeline.previous(key.environment) {
            let previousSuccess = pairs[PairKey(service: key.service, environment: previous)]?.firstSuccess ?? [:]
            previousLookup = { previousSuccess[$0] }
        }
        return ApplyContext(mergeTime: { merges[$0] }, previousFirstSuccess: previousLookup)
    }

    mutating func registerDependents(_ key: PairKey) {
        guard let commits = pairs[key]?.unregisteredCommits, !commits.isEmpty else { return }
        pairs[key]!.unregisteredCommits = []
        for commit in commits { dependents[commit, default: []].insert(key) }
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
