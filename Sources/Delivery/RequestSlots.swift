import DequeModule
import Synchronization

/// Requests in flight for the whole process (`http.max_concurrent_requests`).
///
/// A lane takes a slot before it starts a request's task, so with thousands of webhooks the
/// requests beyond the cap wait as queued messages (a few hundred bytes) rather than as tasks
/// (kilobytes each, which adds up in peak memory; docs/benchmarks.md).
/// Waiters are served in turn: a freed slot goes to the task or lane that has waited
/// longest; a lane's slot is reserved for it and the lane woken, and a lane that no longer needs
/// it (`withdraw`) passes it on.
final class RequestSlots: Sendable {
    /// Who waits in line for a slot (a lane), signalled when one is reserved for it.
    protocol Waiter: AnyObject, Sendable {
        func signal()
    }

    private struct State: ~Copyable {
        var available: Int
        var waitingTasks = Deque<CheckedContinuation<Void, Never>>()
        var waitingLanes = Deque<any Waiter>()
        var waitingLaneIDs = Set<ObjectIdentifier>()
        var reserved: [ObjectIdentifier: Int] = [:]

        /// Gives free slots to waiters, tasks first; returns whom to wake.
        mutating func handOut() -> (tasks: [CheckedContinuation<Void, Never>], lanes: [any Waiter]) {
            var woken: (tasks: [CheckedContinuation<Void, Never>], lanes: [any Waiter]) = ([], [])
            while available > 0 {
                if let task = waitingTasks.popFirst() {
                    woken.tasks.append(task)
                } else if let lane = waitingLanes.popFirst() {
                    waitingLaneIDs.remove(ObjectIdentifier(lane))
                    reserved[ObjectIdentifier(lane), default: 0] += 1
                    woken.lanes.append(lane)
                } else {
                    break
                }
                available -= 1
            }
            return woken
        }
    }

    private let state: Mutex<State>

    init(_ count: Int) { state = Mutex(State(available: count)) }

    /// For a lane about to start a request: true if it may (the slot is then its own until
    /// `release`). Otherwise the lane waits in line and is signalled when a slot is reserved for it.
    func tryAcquire(for lane: any Waiter) -> Bool {
        let id = ObjectIdentifier(lane)
        return state.withLock { state in
            if let count = state.reserved[id] {
                state.reserved[id] = count > 1 ? count - 1 : nil
                return true
            }
            if state.available > 0, state.waitingTasks.isEmpty, state.waitingLanes.isEmpty {
                state.available -= 1
                return true
            }
            if state.waitingLaneIDs.insert(id).inserted { state.waitingLanes.append(lane) }
            return false
        }
    }

    /// A lane that needs no slot now leaves the line; slots reserved for it go to the next.
    func withdraw(_ lane: any Waiter) {
        let id = ObjectIdentifier(lane)
        let woken = state.withLock { state -> (tasks: [CheckedContinuation<Void, Never>], lanes: [any Waiter]) in
            guard state.reserved[id] != nil || state.waitingLaneIDs.contains(id) else { return ([], []) }
            if state.waitingLaneIDs.remove(id) != nil { state.waitingLanes.removeAll { $0 === lane } }
            state.available += state.reserved.removeValue(forKey: id) ?? 0
            return state.handOut()
        }
        wake(woken)
    }

    /// Tasks and lanes waiting in line now.
    var waiting: (tasks: Int, lanes: Int) { state.withLock { ($0.waitingTasks.count, $0.waitingLanes.count) } }

    /// Waits for a slot (a probe's retry, which runs outside the lane's request accounting).
    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state in
                guard state.available > 0, state.waitingTasks.isEmpty, state.waitingLanes.isEmpty else {
                    state.waitingTasks.append(continuation)
                    return false
                }
                state.available -= 1
                return true
            }
            if granted { continuation.resume() }
        }
    }

    func release() {
        let woken = state.withLock { state in
            state.available += 1
            return state.handOut()
        }
        wake(woken)
    }

    private func wake(_ woken: (tasks: [CheckedContinuation<Void, Never>], lanes: [any Waiter])) {
        for task in woken.tasks { task.resume() }
        for lane in woken.lanes { lane.signal() }
    }
}
