import Foundation
import Synchronization

/// Tasks waiting until a value kept elsewhere (requests received, lines printed) satisfies their
/// condition, each with a timeout: the one waiting mechanism of the receiver and test tools.
///
/// `wait` checks the current value and registers under one lock, and the owner calls
/// `changed(to:)` after every change, so no change slips between the check and the registration.
public final class ConditionWaiters<Value: Sendable>: Sendable {
    private typealias Waiter = (condition: @Sendable (Value) -> Bool, continuation: CheckedContinuation<Bool, Never>)
    private let waiters = Mutex<[UUID: Waiter]>([:])

    public init() {}

    /// Waits until `condition` holds for the value; false after `timeout`.
    public func wait(timeout: Duration, current: @escaping @Sendable () -> Value, until condition: @escaping @Sendable (Value) -> Bool) async -> Bool {
        let id = UUID()
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let satisfied = self.waiters.withLock { waiters in
                        if condition(current()) { return true }
                        waiters[id] = (condition, continuation)
                        return false
                    }
                    if satisfied { continuation.resume(returning: true) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            // On timeout, release the waiting child.
            self.waiters.withLock { $0.removeValue(forKey: id) }?.continuation.resume(returning: false)
            group.cancelAll()
            return first
        }
    }

    /// The value changed: resumes every waiter whose condition now holds.
    public func changed(to value: Value) {
        let satisfied = waiters.withLock { waiters in
            let ids = waiters.filter { $0.value.condition(value) }.map(\.key)
            return ids.compactMap { waiters.removeValue(forKey: $0)?.continuation }
        }
        for continuation in satisfied { continuation.resume(returning: true) }
    }
}
