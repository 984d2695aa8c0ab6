import ServiceLifecycle

/// Runs a service group for the length of `body` (after `ready`), then shuts it down gracefully
/// and waits for it: how the benchmark, the demo's pieces and the tests run a bridge or a
/// receiver around some work.
public func whileRunning<T: Sendable>(
    _ group: ServiceGroup, ready: @Sendable () async throws -> Void, _ body: @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { tasks in
        tasks.addTask {
            try await group.run()
            return nil
        }
        do {
            try await ready()
            let result = try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
    }
}
