import Foundation
import Kafka
import Logging
import Waiting
import WebhookDomain

/// The control topic (DESIGN.md §8) as every instance sees it: the last value of each key, read
/// from the beginning at start-up and followed afterwards.
///
/// Every change goes through the topic: `write` produces (idempotent, acks=all) and returns once
/// this view has read its own record back, so a writer sees its change exactly as every other
/// instance will, in the topic's order. A nil value is a tombstone and deletes the key.
public final class ControlTopicView: Sendable {
    private struct State: Sendable {
        var values: [String: [UInt8]] = [:]
        /// Keys by each of their directory prefixes (`cursor/`, `cursor/wh_1/`,
        /// `cursor/wh_1/oms.orders/` for `cursor/wh_1/oms.orders/3`), so that reading one
        /// webhook's cursors does not scan every key.
        var directories: [String: Set<String>] = [:]
        /// The next offset to apply.
        var position: Int64 = 0

        mutating func set(_ key: String, _ value: [UInt8]?) {
            if let value {
                guard values.updateValue(value, forKey: key) == nil else { return }
                for directory in Self.directories(of: key) { directories[directory, default: []].insert(key) }
            } else {
                guard values.removeValue(forKey: key) != nil else { return }
                for directory in Self.directories(of: key) {
                    directories[directory]?.remove(key)
                    if directories[directory]?.isEmpty == true { directories[directory] = nil }
                }
            }
        }

        static func directories(of key: String) -> [String] {
            key.indices.filter { key[$0] == "/" }.map { String(key[...$0]) }
        }
    }

    public let topic: String
    private let kafka: KafkaConfig
    private let producer: KafkaProducer
    private let state = Waitable(State())
    private let logger: Logger
    private let changed: AsyncStream<[ControlRecord]>.Continuation
    /// The records of each applied batch, in topic order, for the one task that follows them
    /// (`ControlDispatcher`). Each is the record as it was applied: the view may hold a newer
    /// value for its key by the time it is handled. A record whose value does not decode comes
    /// as its key's tombstone, since every reader of the view takes it as absent; a record whose
    /// key is none of the topic's does not come at all (both are logged).
    public let changes: AsyncStream<[ControlRecord]>

    public init(topic: String, kafka: KafkaConfig, logger: Logger) throws(KafkaError) {
        self.topic = topic
        self.kafka = kafka
        self.logger = logger
        producer = try KafkaProducer(configuration: .init(kafka: kafka), logger: logger)
        (changes, changed) = AsyncStream.makeStream(of: [ControlRecord].self)
    }

    /// The stored record with `record`'s key (its value is ignored: `.webhook(id: id, nil)`
    /// names webhook `id`), nil if there is none or its value does not decode.
    public func record(_ record: ControlRecord) -> ControlRecord? {
        let key = record.key
        return value(key).flatMap { ControlRecord(key: key, value: $0) }
    }

    /// Every stored record whose key starts with `prefix` (`ControlRecord.Prefix`) and decodes.
    func records(prefix: String) -> [ControlRecord] {
        values(prefix: prefix).compactMap { ControlRecord(key: $0.key, value: $0.value) }
    }

    /// The current value of a key, as bytes (for the view's own tests; everything else reads
    /// records).
    func value(_ key: String) -> [UInt8]? { state.withLock { $0.values[key] } }

    /// Every key with a prefix, and its value (a prefix ending in `/` is an index look-up).
    func values(prefix: String) -> [String: [UInt8]] {
        state.withLock { state in
            guard prefix.hasSuffix("/") else { return state.values.filter { $0.key.hasPrefix(prefix) } }
            var found: [String: [UInt8]] = [:]
            for key in state.directories[prefix] ?? [] { found[key] = state.values[key] }
            return found
        }
    }

    public var count: Int { state.withLock { $0.values.count } }

    /// Writes a record (a tombstone deletes its key) and returns once the broker has it
    /// (acks=all) and this view has applied it.
    public func write(_ record: ControlRecord) async throws {
        try await write(record.key, record.value())
    }

    /// Writes several records of distinct keys at once (see `write(_:)` for bytes).
    public func write(_ records: [ControlRecord]) async throws {
        try await write(records.map { (key: $0.key, value: try $0.value()) })
    }

    /// Writes a key as bytes (nil deletes it): the codec's callers above, and the view's tests.
    func write(_ key: String, _ value: [UInt8]?) async throws(KafkaError) {
        let position = try await producer.send(KafkaOutgoingRecord(topic: topic, partition: 0, key: Array(key.utf8), value: value))
        await waitUntilApplied(position.offset)
    }

    /// Writes several distinct keys at once (their order in the topic is not defined) and returns
    /// once all are applied: start-up writes thousands, which one at a time would each wait for
    /// their read-back.
    func write(_ records: [(key: String, value: [UInt8]?)]) async throws(KafkaError) {
        guard !records.isEmpty else { return }
        let results = await producer.send(records.map { KafkaOutgoingRecord(topic: topic, partition: 0, key: Array($0.key.utf8), value: $0.value) })
        var last: Int64 = 0
        for result in results { last = max(last, try result.get().offset) }
        await waitUntilApplied(last)
    }

    /// Reads the topic from where this view is up to the topic's current end (or until the task
    /// is cancelled). Done once at start-up, before source topics are consumed.
    public func load() async throws(KafkaError) {
        let reader = try KafkaPartitionReader(kafka: kafka, logger: logger)
        let partition = TopicPartition(topic, 0)
        let end = try await reader.watermarks(partition).high
        try reader.assign([TopicPartitionOffset(partition, offset: state.withLock { $0.position })])
        // A cancelled start-up (SIGTERM while starting) stops reading; the caller checks.
        while state.withLock({ $0.position < end }), !Task.isCancelled {
            apply(await reader.read(maxRecords: 1_000, timeoutMilliseconds: 100))
        }
        await reader.close()
    }

    /// Follows the topic from where this view is until the task is cancelled.
    public func follow() async throws(KafkaError) {
        let reader = try KafkaPartitionReader(kafka: kafka, logger: logger)
        try reader.assign([TopicPartitionOffset(TopicPartition(topic, 0), offset: state.withLock { $0.position })])
        while !Task.isCancelled {
            apply(await reader.read(maxRecords: 1_000, timeoutMilliseconds: 100))
        }
        await reader.close()
    }

    /// Runs `body` while a follower applies records, so that writes made in it are read back
    /// (for start-up, before the long-running follower starts).
    public func whileFollowing<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.follow() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    public func close() async {
        changed.finish()
        await producer.close()
    }

    private func apply(_ records: [KafkaRecord]) {
        guard !records.isEmpty else { return }
        var applied: [ControlRecord] = []
        state.withLock { state in
            for record in records where record.offset >= state.position {
                guard let key = record.key.flatMap({ String(validating: $0, as: UTF8.self) }) else {
                    logger.warning("control record without a readable key skipped", metadata: ["offset": "\(record.offset)"])
                    state.position = record.offset.clampedAdding(1)
                    continue
                }
                state.set(key, record.value)
                if let typed = ControlRecord(key: key, value: record.value) {
                    applied.append(typed)
                } else if let deletion = ControlRecord(key: key, value: nil) {
                    // Readers decode the stored value and find nothing: the key reads as deleted.
                    logger.warning("control record with an unreadable value read as a deletion", metadata: ["key": "\(key)", "offset": "\(record.offset)"])
                    applied.append(deletion)
                } else {
                    logger.warning("control record with an unknown key skipped", metadata: ["key": "\(key)", "offset": "\(record.offset)"])
                }
                state.position = record.offset.clampedAdding(1)
            }
        }
        if !applied.isEmpty { changed.yield(applied) }
    }

    private func waitUntilApplied(_ offset: Int64) async {
        await state.wait { $0.position > offset }
    }
}
