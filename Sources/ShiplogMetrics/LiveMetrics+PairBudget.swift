import ShiplogModel

/// The limit on (service, environment) pairs that appends over HTTP may create (`--max-pairs`).
extension LiveMetrics {
    struct PairBudget: Sendable {
        var known = Set<PairKey>()
        var limit: Int? = nil
    }

    /// An append would create more pairs than `limit` allows (`--max-pairs`).
    public struct PairLimitExceeded: Error, Sendable, CustomStringConvertible {
        public var limit: Int
        /// How many pairs exist or are being created.
        public var existing: Int
        /// How many the refused events would add.
        public var new: Int
        /// One pair the refused events would create.
        public var example: PairKey

        public var description: String {
            "these events would create \(new) new (service, environment) pair\(new == 1 ? "" : "s") (like \(example.service)/\(example.environment)) "
                + "beyond the limit of \(limit) (\(existing) exist; --max-pairs); nothing was written"
        }
    }

    /// Pairs created by `reservePairs` and not yet confirmed or released.
    public struct PairReservation: Sendable {
        let keys: [PairKey]
    }

    /// The most pairs appends over HTTP may create (`--max-pairs`); nil: no limit. Events
    /// that another process writes to the log (`events import`) are applied whatever the limit.
    public var pairLimit: Int? {
        get { budget.withLock { $0.limit } }
        set { budget.withLock { $0.limit = newValue } }
    }

    /// Counts the pairs `events` would create against `pairLimit`, all or nothing: either
    /// throws `PairLimitExceeded`, or holds the new pairs for them until `release` (after a
    /// failed append) or for good. Concurrent appends cannot pass the limit together.
    public func reservePairs(for events: [Event]) throws -> PairReservation {
        try budget.withLock { b in
            var new: [PairKey] = []
            var seen = Set<PairKey>()
            for event in events {
                for key in pipeline.pairKeys(for: event) where !b.known.contains(key) && seen.insert(key).inserted {
                    new.append(key)
                }
            }
            if let limit = b.limit, b.known.count + new.count > limit, let example = new.first {
                throw PairLimitExceeded(limit: limit, existing: b.known.count, new: new.count, example: example)
            }
            b.known.formUnion(new)
            return PairReservation(keys: new)
        }
    }

    /// Gives back what `reservePairs` held, when the append that needed it failed.
    public func release(_ reservation: PairReservation) {
        guard !reservation.keys.isEmpty else { return }
        // A concurrent append may have counted on one of these keys; `apply` adds back those
        // its events create.
        budget.withLock { $0.known.subtract(reservation.keys) }
    }
}
