import Synchronization

/// A sequence number that only grows, and that tasks can wait for: the log publishes
/// "committed through N" on one, the metrics "applied through N" on another.
public final class SequenceSignal: Sendable {
    private struct State {
        var value: Int64 = 0
        var waiters: [(target: Int64, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    public init(_ value: Int64 = 0) {
        state.withLock { $0.value = value }
    }

    public var value: Int64 { state.withLock { $0.value } }

    /// Raises the value to `sequence` (never lowers it) and resumes the waiters it satisfies.
    public func publish(_ sequence: Int64) {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            guard sequence > s.value else { return [] }
            s.value = sequence
            var ready: [CheckedContinuation<Void, Never>] = []
            s.waiters.removeAll { waiter in
                guard waiter.target <= sequence else { return false }
                ready.append(waiter.continuation)
                return true
            }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// Resumes every waiter, satisfied or not: each looks again at what it waits for (a
    /// deadline, rows another process wrote, cancellation).
    public func wakeAll() {
        let all = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            defer { s.waiters = [] }
            return s.waiters.map(\.continuation)
        }
        for continuation in all { continuation.resume() }
    }

    /// Returns once the value is at least `target`, or when `wakeAll` is called, or the task
    /// is cancelled (the caller checks which).
    public func wait(until target: Int64) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.value >= target || Task.isCancelled { return true }
                    s.waiters.append((target, continuation))
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            wakeAll()
        }
    }
}
