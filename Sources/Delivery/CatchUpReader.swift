import Kafka
import Logging
import Waiting
import WebhookDomain

/// The Kafka client a webhook's catch-ups read with: one client for all its parked partitions
/// (each read from its own queue), made for the first and closed with the last. A client per
/// partition would multiply librdkafka's buffers and threads by the partitions parked
/// (docs/benchmarks.md, "Figures behind the code's choices").
final class CatchUpReader: Sendable {
    private struct State {
        var reader: KafkaSharedReader?
        var places = CatchUpPlaces(capacity: CatchUpReader.maxPartitions)
    }

    private let state = Waitable(State())

    /// Partitions read at once: each prefetches up to 4 MB (and librdkafka's bookkeeping about as
    /// much again), and the webhook's window (`max_pending`) takes only so much anyway, so the
    /// others wait their turn rather than add their buffers to peak memory (docs/benchmarks.md).
    static let maxPartitions = 4

    /// Starts reading a partition once it has a place (`CatchUpPlaces`: at most `maxPartitions`
    /// at once, the furthest `behind` first). A partition still open (a catch-up that was just
    /// superseded and has not closed yet) is waited for: a client reads a partition once.
    func open(
        _ partition: SourcePartition, from offset: Int64, behind: Int64, kafka: KafkaConfig, logger: Logger
    ) async throws(KafkaError) -> KafkaSharedReader.Partition {
        let ticket = state.withLock { $0.places.ask(partition, behind: behind) }
        guard await state.wait(for: { $0.places.take(ticket) ? true : nil }) != nil else {
            state.withLock { $0.places.withdraw(ticket) }
            throw KafkaError(code: .closed, message: "catch-up cancelled")
        }
        do throws(KafkaError) {
            let reader = try state.withLock { (state: inout State) throws(KafkaError) -> KafkaSharedReader in
                if let reader = state.reader { return reader }
                let reader = try KafkaSharedReader(kafka: kafka, logger: logger)
                state.reader = reader
                return reader
            }
            return try reader.open(TopicPartitionOffset(partition.kafka, offset: offset))
        } catch {
            await close(partition, nil)
            throw error
        }
    }

    /// Stops reading a partition; the client closes with its last partition.
    func close(_ partition: SourcePartition, _ reading: KafkaSharedReader.Partition?) async {
        reading?.close()
        let last: KafkaSharedReader? = state.withLock { state in
            state.places.close(partition)
            guard state.places.isEmpty else { return nil }
            defer { state.reader = nil }
            return state.reader
        }
        await last?.close()
    }
}

/// Which of a webhook's catch-ups read now: at most `capacity` partitions at once, one catch-up
/// each. A free place goes to the waiting catch-up furthest behind (the live path's position
/// minus its cursor), the one that asked first among equals. In turn, a webhook parked again
/// and again started the same partitions first each time, and the others waited for as long as
/// records kept coming (docs/benchmarks.md, latency).
struct CatchUpPlaces {
    let capacity: Int
    /// Partitions being read, or given a place their catch-up has not taken yet.
    private(set) var open: Set<SourcePartition> = []
    private var waiting: [Int: (partition: SourcePartition, behind: Int64)] = [:]
    private var given: [Int: SourcePartition] = [:]
    private var nextTicket = 0

    init(capacity: Int) { self.capacity = capacity }

    var isEmpty: Bool { open.isEmpty }

    /// A catch-up asks for a place for `partition`; its ticket.
    mutating func ask(_ partition: SourcePartition, behind: Int64) -> Int {
        let ticket = nextTicket
        nextTicket += 1
        waiting[ticket] = (partition, behind)
        admit()
        return ticket
    }

    /// Whether the ticket was given a place (true once: the catch-up takes it).
    mutating func take(_ ticket: Int) -> Bool { given.removeValue(forKey: ticket) != nil }

    /// The catch-up stopped waiting: its ticket goes, with the place it was given if any.
    mutating func withdraw(_ ticket: Int) {
        waiting[ticket] = nil
        if let partition = given.removeValue(forKey: ticket) { close(partition) }
    }

    /// A partition is no longer read: its place goes to the next.
    mutating func close(_ partition: SourcePartition) {
        open.remove(partition)
        admit()
    }

    private mutating func admit() {
        while open.count < capacity,
            let (ticket, next) = waiting.filter({ !open.contains($0.value.partition) })
                .max(by: { ($0.value.behind, -$0.key) < ($1.value.behind, -$1.key) })
        {
            waiting[ticket] = nil
            open.insert(next.partition)
            given[ticket] = next.partition
        }
    }
}
