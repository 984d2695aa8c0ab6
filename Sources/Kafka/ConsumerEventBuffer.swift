import DequeModule
import Waiting

/// The hand-over from a consumer's polling thread to the one task that reads its events.
///
/// The polling thread never blocks on it: it asks `isFull` and pauses fetching instead (so
/// rebalances and heartbeats keep being served). Capacity counts records, not events.
final class ConsumerEventBuffer: Sendable {
    private struct State {
        var events = Deque<KafkaConsumerEvent>()
        var bufferedRecords = 0
        var finished = false
    }

    private let state = Waitable(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Called on the polling thread.
    func push(_ event: KafkaConsumerEvent) {
        state.withLock { state in
            guard !state.finished else { return }
            state.events.append(event)
            if case .records(let records) = event { state.bufferedRecords += records.count }
        }
    }

    var isFull: Bool { state.withLock { $0.bufferedRecords >= capacity } }
    var isBelowHalf: Bool { state.withLock { $0.bufferedRecords < capacity / 2 } }

    /// Ends the stream; buffered events are dropped (a dropped revocation acknowledges itself).
    func finish() {
        let dropped = state.withLock { state in
            state.finished = true
            state.bufferedRecords = 0
            defer { state.events.removeAll() }
            return state.events
        }
        _ = dropped
    }

    /// The next event; nil once finished, or if the reading task is cancelled.
    func next() async -> KafkaConsumerEvent? {
        await state.wait { state -> KafkaConsumerEvent?? in
            if let event = state.events.popFirst() {
                if case .records(let records) = event { state.bufferedRecords -= records.count }
                return .some(event)
            }
            return state.finished ? .some(nil) : nil
        } ?? nil
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
