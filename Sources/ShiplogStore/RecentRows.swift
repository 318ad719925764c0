import ShiplogModel
import Synchronization

/// The newest rows this process wrote, as it wrote them, up to `capacity`: reading them back
/// for the metrics then costs a copy instead of a query and a decode. Only a run of
/// consecutive sequence numbers is kept; rows another process wrote in between start it anew.
package final class RecentRows: Sendable {
    private struct Window {
        var rows: [StoredEvent] = []
        var start = 0
        var count: Int { rows.count - start }
        var first: Int64? { start < rows.count ? rows[start].sequence : nil }
        var last: Int64? { rows.last?.sequence }
    }

    private let window = Mutex(Window())
    private let capacity: Int

    package init(capacity: Int) { self.capacity = capacity }

    /// Adds rows just committed, in sequence order.
    package func append(_ new: [StoredEvent]) {
        guard let first = new.first else { return }
        window.withLock { w in
            if let last = w.last, last + 1 != first.sequence { w = Window() }
            w.rows += new.suffix(capacity)
            if w.count > capacity { w.start = w.rows.count - capacity }
            // Drop what fell out of the window once it is as large again as what is kept.
            if w.start > capacity {
                w.rows.removeFirst(w.start)
                w.start = 0
            }
        }
    }

    /// Up to `limit` rows after `sequence`, when the row right after it is held; else nil.
    package func rows(after sequence: Int64, limit: Int) -> [StoredEvent]? {
        window.withLock { w in
            guard let first = w.first, let last = w.last, first <= sequence + 1, sequence + 1 <= last else { return nil }
            let from = w.start + Int(sequence + 1 - first)
            return Array(w.rows[from..<min(w.rows.count, from + limit)])
        }
    }
}

/// Times for events whose sender named none: the wall clock, but never earlier than the
/// previous stamp, so that stamped events are in time order in the order they are written.
package final class StampClock: Sendable {
    private let last = Mutex<Int64>(.min)

    package init() {}

    package func next() -> Timestamp {
        let now = Timestamp.now().nanoseconds
        return Timestamp(
            nanoseconds: last.withLock { last in
                last = max(last, now)
                return last
            }
        )
    }
}
