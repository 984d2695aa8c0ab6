import DequeModule
import Synchronization

/// A value behind a lock that tasks can wait on: the one "wait until" of the product.
///
/// `withLock` changes the value and then, if anyone waits, offers it to the waiters in the order
/// they came. `wait(for:)` checks the value and registers under the same lock, so no change can
/// slip between the check and the registration. A waiter's `take` runs under the lock and may
/// change the value (take an event, a slot, some room), so "wait until there is one, then take
/// it" is one atomic step. A cancelled task stops waiting.
///
/// The cost when nobody waits is one `isEmpty` check per `withLock`.
public final class Waitable<Value: Sendable>: Sendable {
    // Inlinable (with what they touch), so that callers in other modules get `withLock`
    // specialized for their value: unspecialized, each call looked up generic metadata at run
    // time (about 4% of a delivery's CPU in the profile of docs/benchmarks.md). `wait(for:)` too:
    // its waiter's closure, run at every change of the value, instantiated generic metadata
    // (about 3% more).
    @usableFromInline
    struct Waiter: Sendable {
        @usableFromInline let id: UInt64
        /// Runs under the lock: takes what the waiter waits for, if it is there, and returns how
        /// to resume the waiter (outside the lock).
        @usableFromInline let take: @Sendable (inout Value) -> (@Sendable () -> Void)?
        @usableFromInline let cancel: @Sendable () -> Void

        @inlinable
        init(id: UInt64, take: @escaping @Sendable (inout Value) -> (@Sendable () -> Void)?, cancel: @escaping @Sendable () -> Void) {
            self.id = id
            self.take = take
            self.cancel = cancel
        }
    }

    @usableFromInline
    struct Locked: Sendable {
        @usableFromInline var value: Value
        @usableFromInline var waiters = Deque<Waiter>()
        @usableFromInline var nextID: UInt64 = 0

        init(value: Value) { self.value = value }

        /// Offers the value to each waiter in turn; returns how to resume those it satisfied.
        @inlinable
        mutating func serve() -> [@Sendable () -> Void] {
            guard !waiters.isEmpty else { return [] }
            var resumes: [@Sendable () -> Void] = []
            var kept = Deque<Waiter>()
            while let waiter = waiters.popFirst() {
                if let resume = waiter.take(&value) { resumes.append(resume) } else { kept.append(waiter) }
            }
            waiters = kept
            return resumes
        }
    }

    @usableFromInline let locked: Mutex<Locked>

    public init(_ value: Value) { locked = Mutex(Locked(value: value)) }

    /// Tasks waiting now.
    public var waiting: Int { locked.withLock { $0.waiters.count } }

    /// A copy of the value now.
    @inlinable
    public var value: Value { locked.withLock { $0.value } }

    /// Reads or changes the value under the lock, then resumes the waiters it satisfies.
    @inlinable
    public func withLock<Result: Sendable, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        let (result, resumes) = try locked.withLock { (locked: inout Locked) throws(Failure) -> (Result, [@Sendable () -> Void]) in
            let result = try body(&locked.value)
            return (result, locked.serve())
        }
        for resume in resumes { resume() }
        return result
    }

    /// Waits until `take` finds what it waits for, and returns it; nil if the task is cancelled
    /// first. `take` runs under the lock: at once, then after each change of the value.
    @inlinable
    public func wait<Taken: Sendable>(for take: @escaping @Sendable (inout Value) -> Taken?) async -> Taken? {
        let id = locked.withLock { locked in
            defer { locked.nextID &+= 1 }
            return locked.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Taken?, Never>) in
                register(id, take, continuation)
            }
        } onCancel: {
            cancel(id)
        }
    }

    @inlinable
    func register<Taken: Sendable>(
        _ id: UInt64, _ take: @escaping @Sendable (inout Value) -> Taken?, _ continuation: CheckedContinuation<Taken?, Never>
    ) {
        let waiter = Waiter(
            id: id,
            take: { value in
                guard let taken = take(&value) else { return nil }
                return { continuation.resume(returning: taken) }
            },
            cancel: { continuation.resume(returning: nil) })
        let now: Taken?? = locked.withLock { locked in
            if let taken = take(&locked.value) { return .some(taken) }
            // Checked under the lock: a cancellation handler that ran before this registration
            // found nothing to cancel.
            if Task.isCancelled { return .some(nil) }
            locked.waiters.append(waiter)
            return .none
        }
        if let now { continuation.resume(returning: now) }
    }

    @usableFromInline
    func cancel(_ id: UInt64) {
        let waiter = locked.withLock { locked -> Waiter? in
            guard let index = locked.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return locked.waiters.remove(at: index)
        }
        waiter?.cancel()
    }

    /// Waits until `condition` holds for the value; false if the task is cancelled first.
    @discardableResult
    public func wait(until condition: @escaping @Sendable (Value) -> Bool) async -> Bool {
        await wait { condition($0) ? true : nil } ?? false
    }

    /// Waits until `condition` holds, for at most `timeout`; false if it does not hold by then.
    @discardableResult
    public func wait(until condition: @escaping @Sendable (Value) -> Bool, timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.wait(until: condition) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
