import Kafka
import Logging
import WebhookDomain

/// Reads the attempts topic back for `/explain` (DESIGN.md §9): the attempts of some webhooks
/// for some message ids, among those recorded in a window of time around a source record's.
///
/// Bounded: it starts at the first attempt recorded at or after `from` in each partition (Kafka's
/// offsets-for-times, or a bisection where the broker gives none), stops at the first recorded
/// after `until` or at the end of the partition as it was when the search began, and reads at
/// most `maxRecords` records within `timeout`; `complete` says whether it got to the end of that.
public struct AttemptSearch: Sendable {
    /// How far around the record's time to look, and how much to read at most.
    public struct Window: Sendable {
        /// Attempts recorded this long before the record's timestamp count (clocks differ).
        public var before: Duration
        /// And up to this long after it: a webhook parked for longer is delivered later than that.
        public var after: Duration
        public var maxRecords: Int
        public var timeout: Duration

        public init(before: Duration = .seconds(60), after: Duration = .seconds(3_600), maxRecords: Int = 20_000, timeout: Duration = .seconds(10)) {
            self.before = before
            self.after = after
            self.maxRecords = maxRecords
            self.timeout = timeout
        }
    }

    /// What was searched and found.
    public struct Result: Sendable {
        public var topic: String
        /// The window, in milliseconds since the epoch.
        public var fromMilliseconds: Int64
        public var untilMilliseconds: Int64
        public var recordsRead: Int
        /// Every partition was read to `until` or to its end; false when `maxRecords` or the
        /// timeout stopped the search first.
        public var complete: Bool
        /// The matching attempts, in the order they were recorded per partition.
        public var attempts: [RecordedAttempt]
    }

    let kafka: KafkaConfig
    let topic: String
    let logger: Logger

    /// The attempts of `webhookIDs` that carried one of `messageIDs`, recorded around `time`
    /// (milliseconds since the epoch).
    func attempts(around time: Int64, webhookIDs: Set<String>, messageIDs: Set<String>, window: Window) async throws(KafkaError) -> Result {
        let from = time.clampedSubtracting(window.before.milliseconds)
        let until = time.clampedAdding(window.after.milliseconds)
        var result = Result(topic: topic, fromMilliseconds: from, untilMilliseconds: until, recordsRead: 0, complete: true, attempts: [])
        let admin = try KafkaAdmin(kafka: kafka, logger: logger)
        let count = try await admin.partitionCount(of: topic)
        let partitions = (0..<count).map { TopicPartition(topic, $0) }
        let starts = try await admin.offsets(atOrAfter: from, in: partitions)
        var ends: [TopicPartition: Int64] = [:]
        for partition in partitions { ends[partition] = try await admin.watermarks(partition).high }
        var reading = Set(partitions.filter { (starts[$0] ?? 0) < (ends[$0] ?? 0) })
        guard !reading.isEmpty else { return result }
        let reader = try KafkaPartitionReader(kafka: kafka, logger: logger)
        do throws(KafkaError) {
            try reader.assign(reading.map { TopicPartitionOffset($0, offset: starts[$0] ?? 0) })
        } catch {
            await reader.close()
            throw error
        }
        let deadline = ContinuousClock.now + window.timeout
        while !reading.isEmpty, result.recordsRead < window.maxRecords, ContinuousClock.now < deadline {
            for record in await reader.read(maxRecords: min(500, window.maxRecords - result.recordsRead)) where reading.contains(record.topicPartition) {
                // Timestamps are taken as non-decreasing within a partition, as offsets-for-times does.
                if let timestamp = record.timestampMilliseconds, timestamp > until {
                    reading.remove(record.topicPartition)
                    continue
                }
                result.recordsRead += 1
                if record.offset.clampedAdding(1) >= ends[record.topicPartition] ?? 0 { reading.remove(record.topicPartition) }
                // The log keys each attempt by its webhook id: the others are not decoded.
                guard let key = record.key, webhookIDs.contains(String(decoding: key, as: UTF8.self)),
                    let attempt = record.value.flatMap(RecordedAttempt.init(json:)),
                    attempt.messages.contains(where: { messageIDs.contains($0.messageID) })
                else { continue }
                result.attempts.append(attempt)
            }
        }
        await reader.close()
        result.complete = reading.isEmpty
        return result
    }
}
