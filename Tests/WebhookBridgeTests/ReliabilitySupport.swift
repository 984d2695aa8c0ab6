import Foundation
import Kafka
import Logging
import Synchronization
import Testing
import Waiting
import WebhookDomain

@testable import WebhookBridge
@testable import WebhookBridgeTools

extension Tag {
    /// The delivery guarantees under faults (issue 7): `--filter Reliability` runs them alone.
    @Tag static var reliability: Self
}

/// The parent of every reliability suite: nested suites run one at a time, so the heavy ones
/// (subprocesses, tens of thousands of events) do not compete with each other for the CPU.
@Suite("Reliability", .serialized, .tags(.reliability))
struct ReliabilitySuite {}

/// Sizes and the one summary line each reliability case prints.
enum Reliability {
    /// Full sizes when `RELIABILITY_FULL=1` (scripts/reliability.sh); smoke sizes otherwise, so the
    /// normal suite stays fast.
    static var full: Bool { ProcessInfo.processInfo.environment["RELIABILITY_FULL"] == "1" }

    static func size(full: Int, smoke: Int) -> Int { Self.full ? full : smoke }

    /// Prints `RELIABILITY <case>: key=value ...` at once (stdout is a pipe under the script).
    static func report(_ name: String, _ fields: KeyValuePairs<String, any CustomStringConvertible>) {
        let line = "RELIABILITY \(name): " + fields.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + "\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }

    /// Writes a config file for a subprocess; the caller removes it.
    static func writeConfig(_ yaml: String) throws -> URL {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("reliability-\(UUID().uuidString).yaml")
        try yaml.write(to: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A bulk of records handed to librdkafka at once and flushed (awaiting each delivery
    /// report in turn would take minutes for 50,000).
    static func produce(_ records: [KafkaOutgoingRecord], bootstrap: String) async throws {
        let producer = try KafkaProducer(configuration: .init(kafka: KafkaConfig(bootstrapServers: bootstrap), lingerMilliseconds: 5), logger: BridgeTestCluster.logger)
        for record in records { producer.enqueue(record) }
        try await producer.flush(timeoutMilliseconds: 120_000)
        await producer.close()
    }

    /// `{"entity":"E<e>","step":<s>}` keyed by entity, `steps` rounds over `entities` entities.
    static func events(topic: String, entities: Int, steps: Range<Int>) -> [KafkaOutgoingRecord] {
        steps.flatMap { step in
            (0..<entities).map { KafkaOutgoingRecord(topic: topic, key: "E\($0)", value: #"{"entity":"E\#($0)","step":\#(step)}"#) }
        }
    }
}

extension Reliability {
    /// The setting of the process-level cases: a cluster of its own (so the source and control
    /// topics have the partitions asked for; 6 for `oms.orders`), a receiver counting what is
    /// acknowledged, and a `run` config file with one webhook, for `body`.
    static func withOneWebhookRun<T: Sendable>(
        group: String, hashKey: String, _ body: @Sendable (EmbeddedKafkaCluster, DeliveryTally, URL) async throws -> T
    ) async throws -> T {
        let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: BridgeTestCluster.logger)
        try cluster.createTopic("oms.orders", partitions: 6)
        for topic in ["control", "attempts", "dlq"] { try cluster.createTopic(topic, partitions: 1) }
        let tally = DeliveryTally()
        return try await withReceiver(secret: HashKey(hashKey), respond: { request in
            tally.acknowledged(request)
            return .init(status: 202)
        }) { _, port in
            let config = try writeConfig("""
                kafka: {bootstrap_servers: "\(cluster.bootstrapServers)", group_id: \(group), start_from: earliest, control_topic: control, attempts_topic: attempts, dead_letter_topic: dlq}
                http: {admin_listen: "127.0.0.1:0", allow_private_destinations: true}
                sites: [{id: c404, token: c404-test-token-0001, max_in_flight: 16, retry_intervals: [0.2, 0.2, 0.2, 0.2, 0.2, 0.2]}]
                routes: [{source: oms.orders, site: c404, topic: order_state_changed}]
                webhooks:
                  - {id: \(group), site: c404, url: "http://127.0.0.1:\(port)/hooks", topics: [order_state_changed], hash_key: \(hashKey)}
                logging: {level: warning}
                """)
            defer { try? FileManager.default.removeItem(at: config) }
            return try await body(cluster, tally, config)
        }
    }
}

/// Acknowledged deliveries of the test events (`{"entity":…,"step":…}`), counted as they arrive:
/// re-scanning every request at each arrival would make the receiver the bottleneck at 50,000.
///
/// Checks as it goes: one `message_id` per event and one event per `message_id` (a resent id
/// carries the same body), valid signatures, and per entity the first arrivals in offset order.
final class DeliveryTally: Sendable {
    struct Counts: Sendable {
        var requests = 0
        var unique = 0
        var idChanges = 0
        var bodyMismatches = 0
        var badSignatures = 0
        var orderViolations = 0
        var redeliveries: Int { requests - unique }
    }

    private struct State {
        var counts = Counts()
        var bodyByID: [String: [UInt8]] = [:]
        var idByEvent: [String: String] = [:]
        var lastFirstOffset: [String: (partition: Int, offset: Int64)] = [:]
    }

    private let state = Waitable(State())

    var counts: Counts { state.withLock { $0.counts } }

    /// Records one request the receiver is about to acknowledge.
    func acknowledged(_ request: WebhookReceiver.Received) {
        let id = request.header("message_id") ?? ""
        let json = request.json
        let event = "\(json?["entity"] ?? "?")/\(json?["step"] ?? "?")"
        let entity = "\(json?["entity"] ?? "?")"
        let sequence = request.header("sequence")?.split(separator: "-").compactMap { Int64($0) } ?? []
        state.withLock { state in
            state.counts.requests += 1
            if request.hmacVerdict != .valid(keyIndex: 0) { state.counts.badSignatures += 1 }
            if let known = state.bodyByID[id] {
                if known != request.body { state.counts.bodyMismatches += 1 }
            } else {
                state.bodyByID[id] = request.body
                state.counts.unique += 1
                if let other = state.idByEvent.updateValue(id, forKey: event), other != id { state.counts.idChanges += 1 }
                if sequence.count == 2 {
                    let current = (partition: Int(sequence[0]), offset: sequence[1])
                    if let last = state.lastFirstOffset[entity], last.partition == current.partition, last.offset >= current.offset {
                        state.counts.orderViolations += 1
                    }
                    state.lastFirstOffset[entity] = current
                }
            }
        }
    }

    /// Waits until `count` distinct messages were acknowledged.
    func waitForUnique(_ count: Int, timeout: Duration) async -> Bool {
        await state.wait(until: { $0.counts.unique >= count }, timeout: timeout)
    }

    /// Events (entity/step) seen, to tell which ones are missing.
    var events: Set<String> { state.withLock { Set($0.idByEvent.keys) } }
}

/// Log lines kept in memory, for tests that read what the bridge logged.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    func append(_ line: String) { lines.withLock { $0.append(line) } }

    func logger(_ label: String, level: Logger.Level) -> Logger {
        var logger = Logger(label: label) { label in CapturingLogHandler(label: label, log: self) }
        logger.logLevel = level
        return logger
    }
}

struct CapturingLogHandler: LogHandler {
    let label: String
    let log: CapturedLog
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }).map { "\($0.key)=\($0.value)" }.sorted()
        log.append("\(event.level) \(label): \(event.message) \(fields.joined(separator: " "))")
    }
}
