import ServiceLifecycle

/// Runs `body` now and then every `interval` until graceful shutdown, which cancels the
/// wait between runs (a normal end, not a failure).
func repeatUntilGracefulShutdown(every interval: Duration, _ body: @escaping @Sendable () async -> Void) async {
    await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            await body()
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}
