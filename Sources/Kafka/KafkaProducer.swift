import CLibrdkafka
import Foundation
import Logging
import Synchronization
import Waiting

/// An idempotent producer (acks=all) whose `send` returns once the broker has the record.
///
/// A dedicated thread serves `rd_kafka_poll`, which runs the delivery-report callback; each
/// record carries a retained box with its continuation as librdkafka's per-message opaque.
public final class KafkaProducer: Sendable {
    public struct Configuration: Sendable {
        public var kafka: KafkaConfig
        /// librdkafka's `linger.ms`: how long to wait for more records before sending a request.
        public var lingerMilliseconds: Int

        public init(kafka: KafkaConfig, lingerMilliseconds: Int = 1) {
            self.kafka = kafka
            self.lingerMilliseconds = lingerMilliseconds
        }

        var properties: [String: String] {
            kafka.flattened(defaults: [
                "acks": "all",
                "enable.idempotence": "true",
                "linger.ms": String(lingerMilliseconds),
            ])
        }
    }

    typealias Report = Result<TopicPartitionOffset, KafkaError>

    /// Owned by librdkafka from produce until the delivery report, then released there.
    private final class Delivery {
        let batch: Batch
        let slot: Int
        init(_ batch: Batch, slot: Int) {
            self.batch = batch
            self.slot = slot
        }
    }

    /// Records sent together: their reports, and the one wait that ends when all have come.
    private final class Batch: Sendable {
        private let state: Mutex<(reports: [Report?], missing: Int)>
        private let continuation: CheckedContinuation<[Report], Never>

        init(count: Int, _ continuation: CheckedContinuation<[Report], Never>) {
            state = Mutex((Array(repeating: nil, count: count), count))
            self.continuation = continuation
        }

        func report(_ report: Report, slot: Int) {
            let complete: [Report]? = state.withLock { state in
                state.reports[slot] = report
                state.missing -= 1
                return state.missing == 0 ? state.reports.map { $0! } : nil
            }
            if let complete { continuation.resume(returning: complete) }
        }
    }

    /// Internal, not private: tests read librdkafka's configuration back through it.
    let client: RDKafkaClient
    private let stopRequested = Atomic<Bool>(false)
    private let stopped = Waitable(false)

    public init(configuration: Configuration, logger: Logger) throws(KafkaError) {
        let context = RDKafkaClient.Context(logger: logger)
        context.deliveryReport = { message in
            let m = message.pointee
            guard let opaque = m._private else {
                // A record handed over with `enqueue`: nobody waits for it, so a failure is logged.
                if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    logger.warning("kafka produce failed", metadata: ["error": "\(KafkaError(m.err, context: "produce"))"])
                }
                return
            }
            let delivery = Unmanaged<Delivery>.fromOpaque(opaque).takeRetainedValue()
            if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                let topic = String(cString: rd_kafka_topic_name(m.rkt))
                delivery.batch.report(.success(TopicPartitionOffset(TopicPartition(topic, m.partition), offset: m.offset)), slot: delivery.slot)
            } else {
                delivery.batch.report(.failure(KafkaError(m.err, context: "produce")), slot: delivery.slot)
            }
        }
        client = try RDKafkaClient(role: .producer, properties: configuration.properties, context: context)
        let thread = Thread { [self] in pollLoop() }
        thread.name = "kafka-producer-poll"
        thread.start()
    }

    /// Serves delivery reports until `close`.
    private func pollLoop() {
        while !stopRequested.load(ordering: .acquiring) { rd_kafka_poll(client.handle, 100) }
        stopped.withLock { $0 = true }
    }

    /// Produces a record and waits for the broker's acknowledgement (acks=all).
    @discardableResult
    public func send(_ record: KafkaOutgoingRecord) async throws(KafkaError) -> TopicPartitionOffset {
        try await send([record])[0].get()
    }

    /// Produces records together and waits for the broker's acknowledgement of each (acks=all),
    /// with one wait for all of them: start-up writes thousands of control records, and a task
    /// per record cost about 2 KB each (docs/benchmarks.md). The reports are in the records' order.
    public func send(_ records: [KafkaOutgoingRecord]) async -> [Result<TopicPartitionOffset, KafkaError>] {
        var reports = [Report?](repeating: nil, count: records.count)
        var pending = Array(records.indices)
        while !pending.isEmpty {
            let sent = await withCheckedContinuation { continuation in
                let batch = Batch(count: pending.count, continuation)
                for (slot, index) in pending.enumerated() {
                    let delivery = Unmanaged.passRetained(Delivery(batch, slot: slot)).toOpaque()
                    if let error = enqueue(records[index], opaque: delivery) {
                        Unmanaged<Delivery>.fromOpaque(delivery).release()
                        batch.report(.failure(error), slot: slot)
                    }
                }
            }
            // librdkafka's local queue was full for some: let the poll thread drain it, then
            // send those again.
            let queueFull = KafkaError.Code.rdkafka(RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue)
            var again: [Int] = []
            for (slot, index) in pending.enumerated() {
                if case .failure(let error) = sent[slot], error.code == queueFull { again.append(index) } else { reports[index] = sent[slot] }
            }
            pending = again
            if !pending.isEmpty { try? await Task.sleep(for: .milliseconds(5)) }
        }
        return reports.map { $0! }
    }

    /// Hands a record over without waiting for the broker: for records whose loss is logged
    /// rather than retried (the attempts audit log). Never blocks; a full local queue drops the
    /// record with a warning.
    public func enqueue(_ record: KafkaOutgoingRecord) {
        if let error = enqueue(record, opaque: nil) {
            client.context.logger.warning("kafka produce refused", metadata: ["error": "\(error)"])
        }
    }

    /// Hands a record to librdkafka, which copies key, value and headers. Returns an error if
    /// librdkafka refused it (then no delivery report will come).
    private func enqueue(_ record: KafkaOutgoingRecord, opaque: UnsafeMutableRawPointer?) -> KafkaError? {
        let headers = rd_kafka_headers_new(record.headers.count)!
        for header in record.headers {
            if let value = header.value {
                value.withUnsafeBytes { _ = rd_kafka_header_add(headers, header.key, -1, $0.baseAddress, $0.count) }
            } else {
                rd_kafka_header_add(headers, header.key, -1, nil, 0)
            }
        }
        let key = record.key ?? []
        let value = record.value ?? []
        let error: OpaquePointer? = record.topic.withCString { topic in
            key.withUnsafeBytes { keyBytes in
                value.withUnsafeBytes { valueBytes in
                    var args = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 8)
                    args[0].vtype = RD_KAFKA_VTYPE_TOPIC
                    args[0].u.cstr = topic
                    args[1].vtype = RD_KAFKA_VTYPE_PARTITION
                    args[1].u.i32 = record.partition ?? RD_KAFKA_PARTITION_UA
                    args[2].vtype = RD_KAFKA_VTYPE_KEY
                    args[2].u.mem.ptr = record.key == nil ? nil : UnsafeMutableRawPointer(mutating: keyBytes.baseAddress)
                    args[2].u.mem.size = record.key == nil ? 0 : keyBytes.count
                    args[3].vtype = RD_KAFKA_VTYPE_VALUE
                    args[3].u.mem.ptr = record.value == nil ? nil : UnsafeMutableRawPointer(mutating: valueBytes.baseAddress)
                    args[3].u.mem.size = record.value == nil ? 0 : valueBytes.count
                    args[4].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    args[4].u.i = RD_KAFKA_MSG_F_COPY
                    args[5].vtype = RD_KAFKA_VTYPE_OPAQUE
                    args[5].u.ptr = opaque
                    // On success librdkafka owns the headers; on failure they are still ours.
                    args[6].vtype = RD_KAFKA_VTYPE_HEADERS
                    args[6].u.headers = headers
                    args[7].vtype = RD_KAFKA_VTYPE_TIMESTAMP
                    args[7].u.i64 = record.timestampMilliseconds ?? 0
                    return rd_kafka_produceva(client.handle, args, args.count)
                }
            }
        }
        guard let error else { return nil }
        rd_kafka_headers_destroy(headers)
        return KafkaError(consuming: error, context: "produce to \(record.topic)")
    }

    /// Waits until every record handed over has been delivered or failed.
    public func flush(timeoutMilliseconds: Int32 = 30_000) async throws(KafkaError) {
        let client = self.client
        try await BlockingCalls.run { () throws(KafkaError) in
            try KafkaError.check(rd_kafka_flush(client.handle, timeoutMilliseconds), "flush")
        }
    }

    /// Flushes, then stops the polling thread. Safe to call more than once.
    public func close() async {
        try? await flush()
        stopRequested.store(true, ordering: .releasing)
        await stopped.wait { $0 }
    }
}
