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

/// A lane's requests in flight, by the source partitions of their messages, so that those of
/// abandoned partitions can be cut short.
struct InFlightRequests {
    private var requests: [UInt64: (partitions: Set<SourcePartition>, abort: RequestAbort)] = [:]
    private var nextID: UInt64 = 0

    /// Registers a request; it is aborted at once if `abandoned` already covers it.
    mutating func add(_ partitions: Set<SourcePartition>, abandoned: AbandonedRequests) -> (id: UInt64, abort: RequestAbort) {
        let abort = RequestAbort()
        if abandoned.covers(partitions) { abort.abort() }
        nextID &+= 1
        requests[nextID] = (partitions, abort)
        return (nextID, abort)
    }

    mutating func remove(_ id: UInt64) { requests[id] = nil }

    /// The requests `abandoned` covers.
    func covered(by abandoned: AbandonedRequests) -> [RequestAbort] {
        requests.values.filter { abandoned.covers($0.partitions) }.map(\.abort)
    }
}
