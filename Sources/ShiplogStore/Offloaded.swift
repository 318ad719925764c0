import Dispatch

/// Runs blocking work (large file writes, encoding) on a dispatch thread instead of one of
/// Swift Concurrency's few cooperative threads, which serve the requests.
public func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .utility).async { continuation.resume(with: Result { try work() }) }
    }
}
