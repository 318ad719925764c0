import ShiplogModel

/// Group commit: appends that arrive while a transaction is being written wait, and all of
/// them go into the next transaction together — one transaction, one sync, many
/// acknowledgements. Each submission still succeeds or fails on its own.
actor GroupCommitter {
    typealias Submission = [PreparedEvent]
    typealias Outcome = Result<[AppendOutcome], any Error>
    /// Writes several submissions in one durable transaction, one outcome per submission.
    typealias Writer = @Sendable ([Submission]) async -> [Outcome]

    private var pending: [(Submission, CheckedContinuation<Outcome, Never>)] = []
    private var draining = false
    private let writer: Writer
    private let enabled: Bool
    /// How many submissions the largest group held, for tests and benchmarks.
    private(set) var largestGroup = 0
    private(set) var transactions = 0

    /// - Parameter enabled: false writes each submission in its own transaction (for comparison).
    init(enabled: Bool, writer: @escaping Writer) {
        self.enabled = enabled
        self.writer = writer
    }

    func submit(_ submission: Submission) async -> Outcome {
        await withCheckedContinuation { continuation in
            pending.append((submission, continuation))
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let group: [(Submission, CheckedContinuation<Outcome, Never>)]
            if enabled {
                group = pending
                pending = []
            } else {
                group = [pending.removeFirst()]
            }
            largestGroup = max(largestGroup, group.count)
            transactions += 1
            let outcomes = await writer(group.map(\.0))
            for (entry, outcome) in zip(group, outcomes) {
                entry.1.resume(returning: outcome)
            }
        }
        draining = false
    }

    func statistics() -> (transactions: Int, largestGroup: Int) { (transactions, largestGroup) }
}
