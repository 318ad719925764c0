import Dispatch
import Synchronization

/// The shape of group commit: items arrive from any thread, and one handler, on its own
/// serial queue, takes all that have gathered at once (in arrival order). While it works,
/// the next batch gathers. The handler may block: it never holds a Swift Concurrency thread.
final class Batcher<Item: Sendable>: Sendable {
    private struct State: Sendable {
        var items: [Item] = []
        var running = false
    }

    private let state = Mutex(State())
    private let queue: DispatchQueue
    private let handle: @Sendable ([Item]) -> Void

    init(label: String, handle: @escaping @Sendable ([Item]) -> Void) {
        self.queue = DispatchQueue(label: label)
        self.handle = handle
    }

    func submit(_ item: Item) {
        let start = state.withLock { s in
            s.items.append(item)
            if s.running { return false }
            s.running = true
            return true
        }
        if start { queue.async { self.drain() } }
    }

    private func drain() {
        while true {
            let batch = state.withLock { s in
                let batch = s.items
                s.items = []
                if batch.isEmpty { s.running = false }
                return batch
            }
            if batch.isEmpty { return }
            handle(batch)
        }
    }
}
