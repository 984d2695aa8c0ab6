import Synchronization
import WebhookDomain

/// A request in flight that can be cut short from outside (DESIGN.md §6: a revocation's or a
/// shutdown's grace ran out): the HTTP client registers how to cancel it, `abort()` runs that.
/// It replaces a task racing each request, so a request costs no task of its own.
final class RequestAbort: Sendable {
    private let state = Mutex<(aborted: Bool, cancel: (@Sendable () -> Void)?)>((false, nil))

    var isAborted: Bool { state.withLock { $0.aborted } }

    /// Runs `cancel` when aborted, at once if it already is.
    func onAbort(_ cancel: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if state.aborted { return true }
            state.cancel = cancel
            return false
        }
        if now { cancel() }
    }

    func abort() {
        let cancel = state.withLock { state -> (@Sendable () -> Void)? in
            guard !state.aborted else { return nil }
            state.aborted = true
            defer { state.cancel = nil }
            return state.cancel
        }
        cancel?()
    }
}

/// A lane's requests in flight, by the source partitions of their messages, and which
/// partitions' requests are being cut short, under one lock: a request registering and an
/// abandonment cannot miss each other.
struct InFlightRequests {
    private var requests: [UInt64: (partitions: Set<SourcePartition>, abort: RequestAbort)] = [:]
    private var nextID: UInt64 = 0
    /// Requests cut short: those of revoked partitions, or all when stopping, once their grace
    /// has passed (DESIGN.md §6).
    private(set) var abandoned = AbandonedRequests()

    /// Registers a request; it is aborted at once if its partitions are abandoned already.
    mutating func add(_ partitions: Set<SourcePartition>) -> (id: UInt64, abort: RequestAbort) {
        let abort = RequestAbort()
        if abandoned.covers(partitions) { abort.abort() }
        nextID &+= 1
        requests[nextID] = (partitions, abort)
        return (nextID, abort)
    }

    /// A request ended. With none left the table's storage goes: an idle lane keeps none.
    mutating func remove(_ id: UInt64) {
        requests[id] = nil
        if requests.isEmpty { requests = [:] }
    }

    /// Abandons the requests of `partitions` (all when nil), those in flight and those to come;
    /// returns the ones in flight, to abort outside the lock.
    mutating func abandon(_ partitions: Set<SourcePartition>?) -> [RequestAbort] {
        if let partitions { abandoned.partitions.formUnion(partitions) } else { abandoned.all = true }
        return requests.values.filter { abandoned.covers($0.partitions) }.map(\.abort)
    }

    /// The partitions are given up: requests for them (after a new assignment) are not abandoned.
    mutating func forget(_ partitions: Set<SourcePartition>) { abandoned.partitions.subtract(partitions) }
}
