import Dispatch
import ShiplogModel
import Synchronization

/// Group commit: appends that arrive while a transaction is being written wait, and all of
/// them go into the next transaction together — one transaction, one sync, many
/// acknowledgements. Each submission still succeeds or fails on its own.
///
/// Writing runs on its own thread (a `Batcher`), and the sync is a further stage
/// (`Durability`): a committed group is handed to it and the next group is written while the
/// disk syncs, so the writer never waits for the disk.
final class GroupCommitter: Sendable {
    typealias Submission = [PreparedEvent]
    typealias Outcome = Result<[AppendOutcome], any Error>
    /// Writes several submissions in one transaction: one outcome per submission, and the
    /// newest row of the log after it (nil when the transaction failed).
    typealias Writer = @Sendable ([Submission]) -> (outcomes: [Outcome], committedThrough: Int64?)
    /// Calls its argument once everything committed so far is durable (or cannot be made so).
    typealias Durability = @Sendable (@escaping @Sendable (Result<Void, any Error>) -> Void) -> Void
    private typealias Pending = (submission: Submission, continuation: CheckedContinuation<Outcome, Never>)

    private final class Statistics: Sendable {
        let counts = Mutex<(transactions: Int, largestGroup: Int)>((0, 0))
    }

    private let batcher: Batcher<Pending>
    private let statistics = Statistics()

    /// - Parameter enabled: false writes each submission in its own transaction and waits for
    ///   its sync before writing the next (for comparison).
    /// - Parameter published: told the newest row once a group is durable, before its
    ///   submissions are answered.
    init(enabled: Bool, writer: @escaping Writer, durability: @escaping Durability, published: @escaping @Sendable (Int64) -> Void) {
        let statistics = self.statistics
        batcher = Batcher(label: "shiplog.group-commit") { batch in
            for group in enabled ? [batch] : batch.map({ [$0] }) {
                statistics.counts.withLock { c in
                    c.transactions += 1
                    c.largestGroup = max(c.largestGroup, group.count)
                }
                let (outcomes, committedThrough) = writer(group.map(\.submission))
                // Acknowledged only once durable: a conflict or duplicate answer also
                // describes rows that may not have been synced yet.
                let acknowledge: @Sendable (Result<Void, any Error>) -> Void = { synced in
                    if case .success = synced, let committedThrough { published(committedThrough) }
                    for (pending, outcome) in zip(group, outcomes) {
                        pending.continuation.resume(returning: synced.flatMap { outcome })
                    }
                }
                if enabled {
                    durability(acknowledge)
                } else {
                    let synced = DispatchSemaphore(value: 0)
                    durability { result in
                        acknowledge(result)
                        synced.signal()
                    }
                    synced.wait()
                }
            }
        }
    }

    func submit(_ submission: Submission) async -> Outcome {
        await withCheckedContinuation { continuation in
            batcher.submit((submission, continuation))
        }
    }

    /// Transactions written so far and the most submissions one of them held.
    func counts() -> (transactions: Int, largestGroup: Int) {
        statistics.counts.withLock { $0 }
    }
}
