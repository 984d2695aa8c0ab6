import AsyncHTTPClient
import Foundation
import Kafka
import Logging
import ServiceLifecycle
import WebhookBridgeTools

extension Bench {
    /// What one run as users run it measured.
    struct ProcessRun: Sendable {
        /// Deliveries per second, from the first acknowledgement to the last.
        var rate: Double
        /// The bridge process's CPU time (user and system) per delivery over the same span.
        var cpuMicrosecondsPerDelivery: Double
    }

    /// As users run it (issue 17): `webhook-bridge dev-broker` and `webhook-bridge run` as processes
    /// of their own, a configuration with only what a user must write (defaults for everything
    /// else), one HMAC-signed webhook to `url`, and a backlog of `events` over `entities` entities.
    /// With `schemaRegistry` (its URL), the events are Avro in the registry's wire format (schema
    /// id 1, `orderSchema`) and the route says `format: avro`.
    static func asUsersRunIt(
        events: Int, entities: Int, url: String, executable: URL, directory: URL, schemaRegistry: String? = nil, logger: Logger
    ) async throws -> ProcessRun {
        let broker = try BenchProcesses.Running(
            executable.path, ["dev-broker", "--topic", "oms.orders", "--partitions", "8"], logFile: directory.appendingPathComponent("dev-broker.log"))
        defer { broker.process.terminate() }
        let bootstrap = try await firstLine(of: broker)
        let producer = try KafkaProducer(configuration: .init(kafka: KafkaConfig(bootstrapServers: bootstrap), lingerMilliseconds: 5), logger: logger)
        for index in 0..<events {
            let entity = "E\(index % entities)"
            let value = schemaRegistry == nil ? Array(String(format: bodyTemplate, entity, index).utf8) : avroOrder(entity, sequence: index)
            producer.enqueue(KafkaOutgoingRecord(topic: "oms.orders", key: Array(entity.utf8), value: value))
        }
        try await producer.flush()
        await producer.close()

        let adminPort = try LoopbackPort.free()
        let label = schemaRegistry == nil ? "as-users-run-it" : "as-users-run-it-avro"
        let configFile = directory.appendingPathComponent("\(label).yaml")
        try """
            kafka: {bootstrap_servers: "\(bootstrap)", group_id: bench-\(label), start_from: earliest}
            http: {admin_listen: "127.0.0.1:\(adminPort)", allow_private_destinations: true}
            \(schemaRegistry.map { "schema_registry: {url: \"\($0)\"}" } ?? "")
            sites: [{id: bench, token: bench-site-token-0001}]
            routes: [{source: oms.orders, site: bench, topic: order_state_changed\(schemaRegistry == nil ? "" : ", format: avro")}]
            webhooks: [{id: target, site: bench, url: "\(url)", topics: [order_state_changed], hash_key: bench-hash-key-000001}]
            """.write(to: configFile, atomically: true, encoding: .utf8)
        let bridge = try BenchProcesses.Running(executable.path, ["run", "--config", configFile.path], logFile: directory.appendingPathComponent("\(label).log"))
        defer { bridge.process.terminate() }
        var first: (at: ContinuousClock.Instant, cpu: Double, acknowledged: Int)?
        let deadline = ContinuousClock.now + .seconds(900)
        while ContinuousClock.now < deadline, bridge.process.isRunning {
            try await Task.sleep(for: .milliseconds(100))
            guard let acknowledged = await acknowledgedMessages(adminPort: adminPort), acknowledged > 0, let cpu = bridge.cpuSeconds else { continue }
            let now = ContinuousClock.now
            guard let start = first else {
                first = (now, cpu, acknowledged)
                continue
            }
            if acknowledged >= events {
                let delivered = Double(acknowledged - start.acknowledged)
                await bridge.stop()
                await broker.stop()
                return ProcessRun(rate: delivered / (now - start.at).seconds, cpuMicrosecondsPerDelivery: (cpu - start.cpu) / delivered * 1e6)
            }
        }
        await bridge.stop()
        throw BenchProcesses.Failure(description: "as users run it: not done; log: \(bridge.output.suffix(2000))")
    }

    /// The bench's event as Avro: the same fields as `bodyTemplate`.
    static let orderSchema = #"{"type":"record","name":"Order","fields":[{"name":"order_id","type":"string"},{"name":"date","type":"long"},{"name":"old_state","type":"string"},{"name":"new_state","type":"string"},{"name":"sequence","type":"long"}]}"#

    static func avroOrder(_ entity: String, sequence: Int) -> [UInt8] {
        var writer = AvroWriter(schemaID: 1)
        writer.string(entity)
        writer.long(1_732_230_000)
        writer.string("packed")
        writer.string("shipped")
        writer.long(Int64(sequence))
        return writer.bytes
    }

    /// A stand-in Schema Registry serving `orderSchema` as id 1, for `body`.
    static func withSchemaRegistry<T: Sendable>(logger: Logger, _ body: @Sendable (String) async throws -> T) async throws -> T {
        let answer = try String(decoding: JSONSerialization.data(withJSONObject: ["schema": orderSchema]), as: UTF8.self)
        let registry = WebhookReceiver(secret: nil, logger: logger) { request in
            request.uri == "/schemas/ids/1" ? .init(status: 200, body: answer) : .init(status: 404)
        }
        let group = ServiceGroup(configuration: .init(services: [.init(service: registry.service())], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            let result = try await body("http://127.0.0.1:\(await registry.boundPort())")
            await group.triggerGracefulShutdown()
            return result
        }
    }

    /// The bootstrap address `dev-broker` prints as its first line.
    private static func firstLine(of broker: BenchProcesses.Running) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let line = broker.output.split(separator: "\n").first, broker.output.contains("\n") { return String(line) }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchProcesses.Failure(description: "dev-broker printed no address: \(broker.output.suffix(2000))")
    }

    /// Messages acknowledged so far, as the bridge's `/status` says.
    private static func acknowledgedMessages(adminPort: Int) async -> Int? {
        guard let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(adminPort)/status"), timeout: .seconds(10)),
            let body = try? await response.body.collect(upTo: 64 * 1024 * 1024),
            let status = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
            let webhooks = status["webhooks"] as? [[String: Any]]
        else { return nil }
        return webhooks.reduce(0) { $0 + (($1["acknowledged"] as? Int) ?? 0) }
    }
}
