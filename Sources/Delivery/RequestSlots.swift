import DequeModule
import Waiting

/// Requests in flight for the whole process (`http.max_concurrent_requests`), shared fairly.
///
/// A lane takes a slot before it starts a request's task, so with thousands of webhooks the
/// requests beyond the cap wait as queued messages (a few hundred bytes) rather than as tasks
/// (kilobytes each, which adds up in peak memory; docs/benchmarks.md).
/// Waiters are served in turn: a freed slot goes to the task or lane that has waited
/// longest; a lane's slot is reserved for it and the lane woken, and a lane that no longer needs
/// it (`withdraw`) passes it on. One lane never holds more than half the slots (rounded up), so
/// a webhook whose receiver hangs leaves the other half to everyone else (DESIGN.md §6).
final class RequestSlots: Sendable {
    /// Who waits in line for a slot (a lane), signalled when one is reserved for it.
    protocol Waiter: AnyObject, Sendable {
        func signal()
    }

    private struct State: Sendable {
        var available: Int
        /// The most one lane may hold.
        let share: Int
        /// Tasks in `acquire`; they are served before lanes.
        var waitingTasks = 0
        var waitingLanes = Deque<any Waiter>()
        var waitingLaneIDs = Set<ObjectIdentifier>()
        /// Slots reserved for lanes that were woken and have not taken them yet.
        var reserved: [ObjectIdentifier: Int] = [:]
        /// Slots each lane holds: in use or reserved.
        var held: [ObjectIdentifier: Int] = [:]

        /// Reserves the free slots that no waiting task takes for waiting lanes; returns the
        /// lanes to wake. A lane in line holds less than its share (it would not wait otherwise).
        mutating func handOut() -> [any Waiter] {
            var woken: [any Waiter] = []
            while available > waitingTasks, let lane = waitingLanes.popFirst() {
                let id = ObjectIdentifier(lane)
                waitingLaneIDs.remove(id)
                reserved[id, default: 0] += 1
                held[id, default: 0] += 1
                woken.append(lane)
                available -= 1
            }
            return woken
        }

        /// Takes a free slot for the lane if it is under its share and nobody waits before it;
        /// otherwise the lane waits in line (once), unless it is at its share.
        mutating func takeFree(for lane: any Waiter) -> Bool {
            let id = ObjectIdentifier(lane)
            guard held[id, default: 0] < share else { return false }
            if available > waitingTasks, waitingLanes.isEmpty {
                available -= 1
                held[id, default: 0] += 1
                return true
            }
            if waitingLaneIDs.insert(id).inserted { waitingLanes.append(lane) }
            return false
        }

        mutating func giveBack(_ count: Int, of id: ObjectIdentifier) {
            let remaining = (held[id] ?? 0) - count
            held[id] = remaining > 0 ? remaining : nil
            available += count
        }
    }

    private let state: Waitable<State>

    init(_ count: Int) { state = Waitable(State(available: count, share: max(1, (count + 1) / 2))) }

    /// For a lane about to start a request: true if it may (the slot is then its own until
    /// `release(for:)`). Otherwise a lane under its share waits in line and is signalled when a
    /// slot is reserved for it; one at its share waits for its own requests to end.
    func tryAcquire(for lane: any Waiter) -> Bool {
        let id = ObjectIdentifier(lane)
        return state.withLock { state in
            if let count = state.reserved[id] {
                state.reserved[id] = count > 1 ? count - 1 : nil
                return true
            }
            return state.takeFree(for: lane)
        }
    }

    /// For a lane with requests to start and no runner: true if a slot is reserved for it (one
    /// was, or a free one now is), for its runner's next `tryAcquire`. Otherwise it waits in line,
    /// as in `tryAcquire`, and is signalled when one is reserved.
    func reserve(for lane: any Waiter) -> Bool {
        let id = ObjectIdentifier(lane)
        return state.withLock { state in
            // At its share (only with requests in flight, so a runner is active): its runner decides.
            guard state.reserved[id] == nil, state.held[id, default: 0] < state.share else { return true }
            guard state.takeFree(for: lane) else { return false }
            state.reserved[id] = 1
            return true
        }
    }

    /// A lane's request ended: its slot goes to the next in line.
    func release(for lane: any Waiter) {
        let id = ObjectIdentifier(lane)
        wake(state.withLock { state in
            state.giveBack(1, of: id)
            return state.handOut()
        })
    }

    /// A lane that needs no slot now leaves the line; slots reserved for it go to the next.
    func withdraw(_ lane: any Waiter) {
        let id = ObjectIdentifier(lane)
        let woken = state.withLock { state -> [any Waiter] in
            guard state.reserved[id] != nil || state.waitingLaneIDs.contains(id) else { return [] }
            if state.waitingLaneIDs.remove(id) != nil { state.waitingLanes.removeAll { $0 === lane } }
            state.giveBack(state.reserved.removeValue(forKey: id) ?? 0, of: id)
            return state.handOut()
        }
        wake(woken)
    }

    /// Tasks and lanes waiting in line now.
    var waiting: (tasks: Int, lanes: Int) { state.withLock { ($0.waitingTasks, $0.waitingLanes.count) } }

    /// Waits for a slot (a probe's retry, which runs outside the lane's request accounting);
    /// false if the task was cancelled first.
    func acquire() async -> Bool {
        state.withLock { $0.waitingTasks += 1 }
        let acquired = await state.wait { state -> Bool? in
            guard state.available > 0 else { return nil }
            state.available -= 1
            state.waitingTasks -= 1
            return true
        }
        guard acquired != nil else {
            wake(state.withLock { state in
                state.waitingTasks -= 1
                return state.handOut()
            })
            return false
        }
        return true
    }

    /// A task's request ended.
    func release() {
        wake(state.withLock { state in
            state.available += 1
            return state.handOut()
        })
    }

    private func wake(_ lanes: [any Waiter]) {
        for lane in lanes { lane.signal() }
    }
}
