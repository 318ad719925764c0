import Foundation
import ShiplogModel
import ShiplogTestSupport
import Synchronization

@testable import ShiplogStore

let t0 = Timestamp(rfc3339: "2026-01-01T00:00:00Z")!

/// A prepared native event with an explicit id and time.
func makeEvent(
    _ id: String,
    _ type: EventType = .deploymentSucceeded,
    service: String = "api",
    env: String = "production",
    minute: Int = 0,
    version: String? = nil
) -> PreparedEvent {
    var e = Event(id: id, type: type, service: service, environment: env, time: t0.adding(seconds: Double(minute) * 60))
    e.version = version
    return PreparedEvent(e, raw: Array(e.canonicalJSON.utf8), format: .native, receivedAt: t0.adding(seconds: 86_400))
}

/// A flag set from one task and read from another.
final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// Waits for a semaphore without blocking the test's executor.
func waitOn(_ semaphore: DispatchSemaphore) async {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            semaphore.wait()
            continuation.resume()
        }
    }
}

/// `count` single-event appends at once, `c0…`, their times spread over 7 minutes.
func appendConcurrently(_ log: any EventLog, count: Int) async throws -> [AppendOutcome] {
    try await withThrowingTaskGroup(of: [AppendOutcome].self) { group in
        for i in 0..<count {
            group.addTask { try await log.append([makeEvent("c\(i)", minute: i % 7)]) }
        }
        var all: [AppendOutcome] = []
        for try await o in group { all += o }
        return all
    }
}
