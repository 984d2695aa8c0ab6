import DequeModule
import Synchronization

/// The hand-over from a consumer's polling thread to the one task that reads its events.
///
/// The polling thread never blocks on it: it asks `isFull` and pauses fetching instead (so
/// rebalances and heartbeats keep being served). Capacity counts records, not events.
final class ConsumerEventBuffer: Sendable {
    private struct State: ~Copyable {
        var events = Deque<KafkaConsumerEvent>()
        var bufferedRecords = 0
        var waiter: CheckedContinuation<KafkaConsumerEvent?, Never>?
        var finished = false
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Called on the polling thread.
    func push(_ event: KafkaConsumerEvent) {
        let waiter: CheckedContinuation<KafkaConsumerEvent?, Never>? = state.withLock { state in
            if state.finished { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.events.append(event)
            if case .records(let records) = event { state.bufferedRecords += records.count }
            return nil
        }
        waiter?.resume(returning: event)
    }

    var isFull: Bool { state.withLock { $0.bufferedRecords >= capacity } }
    var isBelowHalf: Bool { state.withLock { $0.bufferedRecords < capacity / 2 } }

    /// Ends the stream; buffered events are dropped (a dropped revocation acknowledges itself).
    func finish() {
        let (waiter, dropped): (CheckedContinuation<KafkaConsumerEvent?, Never>?, Deque<KafkaConsumerEvent>) =
            state.withLock { state in
                state.finished = true
                let waiter = state.waiter
                state.waiter = nil
                let dropped = state.events
                state.events.removeAll()
                state.bufferedRecords = 0
                return (waiter, dropped)
            }
        _ = dropped
        waiter?.resume(returning: nil)
    }

    func next() async -> KafkaConsumerEvent? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<KafkaConsumerEvent?, Never>) in
                let ready: KafkaConsumerEvent?? = state.withLock { state in
                    if let event = state.events.popFirst() {
                        if case .records(let records) = event { state.bufferedRecords -= records.count }
                        return .some(event)
                    }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                let waiter = state.waiter
                state.waiter = nil
                return waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}

/// The events of a group consumer. Only one task may iterate it.
public struct KafkaConsumerEvents: AsyncSequence, Sendable {
    let buffer: ConsumerEventBuffer

    public struct AsyncIterator: AsyncIteratorProtocol {
        let buffer: ConsumerEventBuffer
        public mutating func next() async -> KafkaConsumerEvent? { await buffer.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(buffer: buffer) }
}
