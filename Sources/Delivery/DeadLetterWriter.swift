import Kafka
import Logging
import Synchronization
import WebhookDomain

/// Writes dead letters to the dead-letter topic (DESIGN.md §3), each source partition's in
/// order and apart from the other partitions', so a dead-letter topic that refuses writes never
/// stops the reading or the delivery of any partition.
///
/// The dispatcher registers a dead-lettered record in `PartitionProgress` as one pending
/// delivery before handing it over, and the writer settles it only once the broker has the dead
/// letter: a partition's stored offset never passes a record whose dead letter is not written
/// (the commit invariant, DESIGN.md §7), exactly as for a delivery still in a lane.
///
/// A failed write is tried again after `retry.first`, doubling up to `retry.max`, for as long as
/// this instance holds the partition. A revocation ends a partition's writer (a write in flight
/// finishes). At shutdown the letters already queued are still written, like requests in flight,
/// but a refused write is not tried again. Records left unwritten stay unsettled, so the next
/// owner reads them again and dead-letters them again: at least once.
final class DeadLetterWriter: Sendable {
    struct Retry: Sendable {
        var first: Duration
        var max: Duration
    }

    fileprivate struct Letter: Sendable {
        var record: KafkaRecord
        var reason: String
    }

    /// One partition's letters of one assignment, written in order by one task.
    private struct Worker {
        var epoch: UInt64
        var letters: [Letter] = []
        /// Waiting to try a refused write again (the shutdown ends such a writer at once).
        var waiting = false
        /// Finished to end the task early: the partition was revoked, or the engine stops while
        /// the writer waits to try again.
        var end: AsyncStream<Void>.Continuation
    }

    private struct Start: Sendable {
        var partition: SourcePartition
        var epoch: UInt64
        var ended: AsyncStream<Void>
    }

    private struct State {
        var workers: [SourcePartition: Worker] = [:]
        var stopping = false
    }

    private let topic: String
    private let producer: KafkaProducer
    private let context: DeliveryContext
    private let retry: Retry
    private let state = Mutex(State())
    private let starts: AsyncStream<Start>
    private let start: AsyncStream<Start>.Continuation

    init(topic: String, producer: KafkaProducer, context: DeliveryContext, retry: Retry) {
        self.topic = topic
        self.producer = producer
        self.context = context
        self.retry = retry
        (starts, start) = AsyncStream.makeStream(of: Start.self)
    }

    private var logger: Logger { context.logger }

    /// Runs each partition's writer until `stop()`, then until the writes in flight end.
    func run() async {
        await withDiscardingTaskGroup { group in
            for await start in starts {
                group.addTask { await self.work(start) }
            }
        }
    }

    /// Queues the dead letter of `record`, already registered as pending in the partition's
    /// progress under `epoch`.
    func write(_ record: KafkaRecord, reason: String, partition: SourcePartition, epoch: UInt64) {
        logger.warning("dead-lettered", metadata: ["source": "\(record.topicPartition)", "offset": "\(record.offset)", "reason": "\(reason)"])
        let letter = Letter(record: record, reason: reason)
        let newWorker: Start? = state.withLock { state in
            // Stopping: the record stays unsettled and is read again after the restart.
            guard !state.stopping else { return nil }
            if state.workers[partition]?.epoch == epoch {
                state.workers[partition]!.letters.append(letter)
                return nil
            }
            state.workers[partition]?.end.finish()
            let (ended, end) = AsyncStream.makeStream(of: Void.self)
            state.workers[partition] = Worker(epoch: epoch, letters: [letter], end: end)
            return Start(partition: partition, epoch: epoch, ended: ended)
        }
        if let newWorker { start.yield(newWorker) }
    }

    /// The partitions were revoked: their writers end, their letters are left to the next owner.
    func revoke(_ partitions: Set<SourcePartition>) {
        let ends = state.withLock { state in partitions.compactMap { state.workers.removeValue(forKey: $0)?.end } }
        for end in ends { end.finish() }
    }

    /// Nothing more is queued; the letters already queued are written while the broker takes
    /// them, and a writer waiting to try a refused write again ends now. `run()` returns once
    /// every writer has ended.
    func stop() {
        let ends = state.withLock { state in
            state.stopping = true
            return state.workers.values.filter(\.waiting).map(\.end)
        }
        for end in ends { end.finish() }
        start.finish()
    }

    /// Writes one partition's letters until none is left, or until `ended` finishes (the sleep
    /// between two tries is cancelled then; a write in flight is not, librdkafka owns it).
    private func work(_ start: Start) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.drain(start.partition, epoch: start.epoch) }
            group.addTask { for await _ in start.ended {} }
            await group.next()
            group.cancelAll()
        }
    }

    private func drain(_ partition: SourcePartition, epoch: UInt64) async {
        while let letter = next(partition, epoch: epoch) {
            guard await send(letter, partition: partition, epoch: epoch) else { return }
            context.metrics.deadLettered(sourceTopic: letter.record.topic)
            // The broker has it: the record's offset may now be stored (ignored if revoked).
            context.settle(partition, offset: letter.record.offset, epoch: epoch)
            state.withLock { state in
                guard state.workers[partition]?.epoch == epoch else { return }
                state.workers[partition]!.letters.removeFirst()
            }
        }
    }

    /// The partition's next letter; none when its writer was ended, or when nothing is left
    /// (the writer is then removed under the same lock, so a letter queued later starts a new one).
    private func next(_ partition: SourcePartition, epoch: UInt64) -> Letter? {
        state.withLock { state in
            guard let worker = state.workers[partition], worker.epoch == epoch else { return nil }
            guard let letter = worker.letters.first else {
                state.workers[partition] = nil
                worker.end.finish()
                return nil
            }
            return letter
        }
    }

    /// Writes one letter, trying again with growing waits; false if the writer was ended first,
    /// or if the write was refused while stopping.
    ///
    /// A record too large for the producer or the broker (a source topic may allow more than
    /// the dead-letter topic) is sent without its value — and, if still too large, without its
    /// key and original headers — with `dead_letter_dropped` saying what went, rather than
    /// stalling its partition for ever.
    private func send(_ letter: Letter, partition: SourcePartition, epoch: UInt64) async -> Bool {
        var stage = 0
        var wait = retry.first
        while !Task.isCancelled {
            do {
                try await producer.send(letter.outgoing(stage: stage, topic: topic))
                return true
            } catch let error where error.isRecordTooLarge && stage < 2 {
                stage += 1
                logger.error(
                    "dead letter too large: sent without its \(Letter.dropped[stage])",
                    metadata: ["source": "\(letter.record.topicPartition)", "offset": "\(letter.record.offset)", "error": "\(error)"])
            } catch {
                logger.error(
                    "dead-letter write failed; trying again",
                    metadata: ["source": "\(letter.record.topicPartition)", "offset": "\(letter.record.offset)", "error": "\(error)", "retry_in": "\(wait)"])
                // Marked under the lock that `stop()` takes, so a stop ends this wait either way.
                let stopping = state.withLock { state in
                    if state.workers[partition]?.epoch == epoch { state.workers[partition]!.waiting = !state.stopping }
                    return state.stopping
                }
                guard !stopping else { return false }
                do { try await Task.sleep(for: wait) } catch { return false }
                state.withLock { state in
                    if state.workers[partition]?.epoch == epoch { state.workers[partition]!.waiting = false }
                }
                wait = min(wait * 2, retry.max)
            }
        }
        return false
    }
}

extension DeadLetterWriter.Letter {
    /// What each stage leaves out: 0 everything kept; 1 the value; 2 value, key and original headers.
    static let dropped = ["", "value", "value, key and headers"]

    /// The dead letter: the original key, value and headers, plus the reason (at most 1 KB) and
    /// where the record came from.
    func outgoing(stage: Int, topic: String) -> KafkaOutgoingRecord {
        let added = [
            KafkaHeader(key: "dead_letter_reason", value: DeadLetterReason.headerValue(reason)),
            KafkaHeader(key: "source_topic", string: record.topic),
            KafkaHeader(key: "source_partition", string: String(record.partition)),
            KafkaHeader(key: "source_offset", string: String(record.offset)),
        ]
        let sizes = "value \(record.value?.count ?? 0) bytes, key \(record.key?.count ?? 0) bytes"
        let note = stage > 0 ? [KafkaHeader(key: "dead_letter_dropped", string: "\(Self.dropped[stage]) (too large: \(sizes))")] : []
        return KafkaOutgoingRecord(
            topic: topic, key: stage < 2 ? record.key : nil, value: stage < 1 ? record.value : nil,
            headers: (stage < 2 ? record.headers : []) + added + note, timestampMilliseconds: record.timestampMilliseconds)
    }
}
