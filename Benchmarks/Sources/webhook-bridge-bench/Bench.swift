import AsyncHTTPClient
import Foundation
import Kafka
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import WebhookBridge
import WebhookBridgeTools
import WebhookDomain

/// `webhook-bridge-bench` (issue 7): the bridge against the machine's limit and against a
/// hand-written Python forwarder, on one embedded cluster and one nginx receiver; then latency at
/// a steady rate, memory, and the catch-up rate of a parked webhook.
enum Bench {
    struct Options: Sendable {
        var events = 100_000
        var batchedEvents = 300_000
        var entities = 1_000
        var partitions: Int32 = 8
        var pythonEvents = 20_000
        var latencyRate = 2_000
        var latencySeconds = 10
        var rssWebhooks = 10_000
        var backlog = 1_000_000
        var catchUpBacklog = 100_000
        /// The backlog of the run as users run it (step 8).
        var userRunEvents = 100_000
        /// The steps to run (1–9); empty: all.
        var only: Set<Int> = []
        /// The `webhook-bridge` executable, run as a subprocess for the memory figures.
        var executable: URL
        var pythonForwarder: URL

        init(executable: URL, pythonForwarder: URL) {
            self.executable = executable
            self.pythonForwarder = pythonForwarder
        }
    }

    /// One measured figure and its target.
    struct Figure: Sendable {
        var name: String
        var value: Double
        var unit: String
        var target: String
        var met: Bool?
    }

    static let bodyTemplate = #"{"order_id":"%@","date":1732230000,"old_state":"packed","new_state":"shipped","sequence":%d}"#

    static func run(_ options: Options, logger: Logger, progress: @escaping @Sendable (String) -> Void) async throws -> [Figure] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("webhook-bridge-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: logger)
        let (nginx, nginxPort) = try await BenchProcesses.startNginx(in: directory)
        let target = "http://127.0.0.1:\(nginxPort)/hooks"
        progress("nginx (return 202) on 127.0.0.1:\(nginxPort); embedded Kafka at \(cluster.bootstrapServers); scratch in \(directory.path)")
        var figures: [Figure] = []
        let bench = BenchCluster(cluster: cluster, partitions: options.partitions, entities: options.entities, logger: logger)
        func wanted(_ step: Int) -> Bool { options.only.isEmpty || options.only.contains(step) }
        do {
            var limit: Double?
            var unbatched: Double?
            var python: Double?
            var asUsers: Double?
            if wanted(1) {
                let rate = try await BenchProcesses.wrk(url: target, seconds: 5, in: directory)
                progress(String(format: "1. wrk -t1 -c8 against nginx: %.0f requests/s", rate))
                figures.append(Figure(name: "limit: wrk -t1 -c8 → nginx", value: rate, unit: "requests/s", target: "", met: nil))
                limit = rate
            }
            if wanted(2) {
                let rate = try await bench.throughput(events: options.events, url: target, options: "{}", label: "unbatched")
                progress(String(format: "2. bridge, unbatched, 8 in flight, hmac: %.0f deliveries/s", rate))
                figures.append(
                    Figure(
                        name: "bridge unbatched (8 in flight, hmac)", value: rate, unit: "deliveries/s", target: "≥ 0.5 × limit",
                        met: limit.map { rate >= 0.5 * $0 }))
                unbatched = rate
            }
            if wanted(3) {
                let rate = try await bench.throughput(
                    events: options.batchedEvents, url: target, options: "{batching: true, max_batch_size: 30, batch_linger: 5ms}", label: "batched")
                progress(String(format: "3. bridge, batched (30 per request): %.0f events/s", rate))
                figures.append(Figure(name: "bridge batched (30 per request)", value: rate, unit: "events/s", target: "≥ 150,000", met: rate >= 150_000))
            }
            if wanted(4) {
                let run = try await bench.python(events: options.pythonEvents, url: target, script: options.pythonForwarder, directory: directory)
                progress(
                    String(
                        format: "4. Python forwarder (confluent-kafka + aiohttp, 8 in flight): %.0f deliveries/s, %.0f µs CPU per delivery", run.rate,
                        run.cpuMicrosecondsPerDelivery))
                figures += [
                    Figure(name: "Python forwarder (8 in flight, hmac)", value: run.rate, unit: "deliveries/s", target: "", met: nil),
                    Figure(name: "Python forwarder CPU per delivery", value: run.cpuMicrosecondsPerDelivery, unit: "µs", target: "", met: nil),
                ]
                python = run.rate
            }
            if let unbatched, let python {
                figures.append(Figure(name: "bridge unbatched ÷ Python forwarder", value: unbatched / python, unit: "×", target: "≥ 5", met: unbatched / python >= 5))
            }
            if wanted(8) {
                let run = try await Bench.asUsersRunIt(
                    events: options.userRunEvents, entities: options.entities, url: target, executable: options.executable, directory: directory, logger: logger)
                progress(
                    String(
                        format: "8. as users run it (run + dev-broker processes, default config, %d-event backlog): %.0f deliveries/s, %.0f µs CPU per delivery",
                        options.userRunEvents, run.rate, run.cpuMicrosecondsPerDelivery))
                figures += [
                    Figure(
                        name: "as users run it: unbatched, default config", value: run.rate, unit: "deliveries/s", target: "≥ 0.5 × limit",
                        met: limit.map { run.rate >= 0.5 * $0 }),
                    Figure(name: "as users run it: bridge CPU per delivery", value: run.cpuMicrosecondsPerDelivery, unit: "µs", target: "", met: nil),
                ]
                if let limit { figures.append(Figure(name: "as users run it ÷ limit", value: run.rate / limit, unit: "×", target: "≥ 0.5", met: run.rate / limit >= 0.5)) }
                asUsers = run.rate
                if let python { figures.append(Figure(name: "as users run it ÷ Python forwarder", value: run.rate / python, unit: "×", target: "≥ 5", met: run.rate / python >= 5)) }
            }
            if wanted(9) {
                // Issue 15: Avro through the registry, as users run it, beside the JSON run.
                let run = try await Bench.withSchemaRegistry(logger: logger) { registry in
                    try await Bench.asUsersRunIt(
                        events: options.userRunEvents, entities: options.entities, url: target, executable: options.executable, directory: directory,
                        schemaRegistry: registry, logger: logger)
                }
                progress(
                    String(
                        format: "9. as users run it, Avro (format: avro, schema registry stand-in): %.0f deliveries/s, %.0f µs CPU per delivery", run.rate,
                        run.cpuMicrosecondsPerDelivery))
                figures += [
                    Figure(name: "as users run it: Avro", value: run.rate, unit: "deliveries/s", target: "≥ 0.8 × JSON", met: asUsers.map { run.rate >= 0.8 * $0 }),
                    Figure(name: "as users run it: Avro CPU per delivery", value: run.cpuMicrosecondsPerDelivery, unit: "µs", target: "", met: nil),
                ]
                if let asUsers { figures.append(Figure(name: "Avro ÷ JSON, as users run it", value: run.rate / asUsers, unit: "×", target: "≥ 0.8", met: run.rate / asUsers >= 0.8)) }
            }
            if wanted(5) {
                let latency = try await bench.latency(rate: options.latencyRate, seconds: options.latencySeconds)
                progress(
                    String(format: "5. latency at %d events/s: p50 %.2f ms, p99 %.2f ms, max %.2f ms", options.latencyRate, latency.p50, latency.p99, latency.max))
                figures += [
                    Figure(name: "latency p50 at \(options.latencyRate) events/s", value: latency.p50, unit: "ms", target: "≤ 2", met: latency.p50 <= 2),
                    Figure(name: "latency p99 at \(options.latencyRate) events/s", value: latency.p99, unit: "ms", target: "≤ 10", met: latency.p99 <= 10),
                    Figure(name: "latency max at \(options.latencyRate) events/s", value: latency.max, unit: "ms", target: "", met: nil),
                ]
            }
            if wanted(6) {
                let manyWebhooks = try await bench.residentMemoryWithManyWebhooks(
                    webhooks: options.rssWebhooks, url: target, executable: options.executable, directory: directory)
                progress(String(format: "6a. peak RSS, %d webhooks: %.1f MB", options.rssWebhooks, manyWebhooks / 1e6))
                let backlog = try await bench.residentMemoryWithBacklog(events: options.backlog, url: target, executable: options.executable, directory: directory)
                progress(String(format: "6b. peak RSS, %d-event backlog: %.1f MB", options.backlog, backlog / 1e6))
                figures += [
                    Figure(name: "peak RSS, \(options.rssWebhooks) webhooks", value: manyWebhooks / 1e6, unit: "MB", target: "≤ 150", met: manyWebhooks <= 150e6),
                    Figure(name: "peak RSS, \(options.backlog)-event backlog", value: backlog / 1e6, unit: "MB", target: "≤ 150", met: backlog <= 150e6),
                ]
            }
            if wanted(7) {
                let catchUp = try await bench.catchUp(events: options.catchUpBacklog, url: target)
                progress(String(format: "7. catch-up of a parked webhook, %d-event backlog: %.0f deliveries/s", options.catchUpBacklog, catchUp))
                figures.append(
                    Figure(
                        name: "catch-up, \(options.catchUpBacklog)-event backlog", value: catchUp, unit: "deliveries/s", target: "≥ 0.5 × unbatched",
                        met: unbatched.map { catchUp >= 0.5 * $0 }))
            }
        } catch {
            await nginx.stop()
            throw error
        }
        await nginx.stop()
        try? FileManager.default.removeItem(at: directory)
        return figures
    }
}

/// The runs on one embedded cluster: each makes its own source topic, consumer group and control topic.
struct BenchCluster {
    let cluster: EmbeddedKafkaCluster
    var logLevel: String { logger.logLevel.rawValue }
    let partitions: Int32
    let entities: Int
    let logger: Logger

    private func uniqueGroup(_ label: String) throws -> String {
        let group = "bench-\(label)-\(UUID().uuidString.prefix(6))"
        for suffix in ["control", "dlq", "attempts"] { try cluster.createTopic("\(group)-\(suffix)", partitions: 1) }
        return group
    }

    private func sourceTopic(_ label: String, partitions: Int32? = nil) throws -> String {
        let topic = "bench.\(label).\(UUID().uuidString.prefix(6))"
        try cluster.createTopic(topic, partitions: partitions ?? self.partitions)
        return topic
    }

    /// The mock broker keeps only the last ~46,000 records of a partition (it deletes old
    /// segments); a run whose records were partly deleted before the bridge saw them would
    /// measure nothing, so it stops here.
    private func checkNothingDeleted(_ topic: String, partitions: Int32) async throws {
        let admin = try KafkaAdmin(kafka: KafkaConfig(bootstrapServers: cluster.bootstrapServers), logger: logger)
        for partition in 0..<partitions {
            let (low, _) = try await admin.watermarks(TopicPartition(topic, partition))
            guard low == 0 else {
                throw BenchProcesses.Failure(description: "\(topic)/\(partition): the mock broker deleted records below \(low); use more partitions")
            }
        }
    }

    /// The bridge's configuration for one run.
    func yaml(group: String, source: String, webhooks: String, extra: String = "") -> String {
        """
        kafka:
          bootstrap_servers: "\(cluster.bootstrapServers)"
          group_id: \(group)
          start_from: earliest
          control_topic: \(group)-control
          dead_letter_topic: \(group)-dlq
          attempts_topic: \(group)-attempts
          # The mock broker holds fetches for fetch.wait.max.ms even when records arrive (a real
          # broker answers at once): poll it every millisecond, as embedded mode does.
          properties: {fetch.wait.max.ms: "1"}
        http: {admin_listen: "127.0.0.1:0", allow_private_destinations: true}
        sites: [{id: bench, token: bench-site-token-0123, max_in_flight: 8}]
        routes: [{source: \(source), site: bench, topic: order_state_changed}]
        \(extra)
        webhooks:
        \(webhooks)
        logging: {level: \(logLevel)}
        """
    }

    /// Produces events keyed by entity, spread over `entities` entities; `body` makes the value.
    func produce(
        _ topic: String, count: Int, partitions: Int32? = nil, body: (Int, String) -> String = { String(format: Bench.bodyTemplate, $1, $0) }
    ) async throws {
        let producer = try KafkaProducer(configuration: .init(kafka: KafkaConfig(bootstrapServers: cluster.bootstrapServers), lingerMilliseconds: 5), logger: logger)
        for chunk in stride(from: 0, to: count, by: 50_000) {
            for index in chunk..<min(count, chunk + 50_000) {
                let entity = "E\(index % entities)"
                producer.enqueue(KafkaOutgoingRecord(topic: topic, key: entity, value: body(index, entity)))
            }
            try await producer.flush()
        }
        await producer.close()
        try await checkNothingDeleted(topic, partitions: partitions ?? self.partitions)
    }

    /// Runs an in-process bridge for the length of `body`.
    func withBridge<T: Sendable>(_ yaml: String, _ body: @Sendable (Bridge) async throws -> T) async throws -> T {
        var config = try BridgeConfig.parse(yaml: yaml)
        config.http.adminPort = 0
        let bridge = try await Bridge(config: config, logger: logger)
        return try await whileRunning(bridge.serviceGroup(signals: []), ready: {
            while !bridge.engine.readiness.isReady { try await Task.sleep(for: .milliseconds(10)) }
        }) {
            try await body(bridge)
        }
    }

    /// Waits until the bridge's webhooks have had `messages` acknowledged in all.
    static func waitUntilAcknowledged(_ bridge: Bridge, messages: Int, timeout: Duration = .seconds(900)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if bridge.engine.runtime().reduce(0, { $0 + $1.acknowledgedMessages }) >= messages { return }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw BenchProcesses.Failure(description: "\(messages) messages not acknowledged within \(timeout)")
    }

    /// Pre-produced events delivered by one webhook: events per second, from readiness to the
    /// last acknowledgement.
    func throughput(events: Int, url: String, options: String, label: String) async throws -> Double {
        let topic = try sourceTopic(label)
        try await produce(topic, count: events)
        let group = try uniqueGroup(label)
        let webhook = "  - {id: target, site: bench, url: \"\(url)\", topics: [order_state_changed], hash_key: bench-hash-key-0123, options: \(options)}"
        return try await withBridge(yaml(group: group, source: topic, webhooks: webhook)) { bridge in
            // From the first acknowledgement: joining the group and the first fetch are not delivery.
            try await Self.waitUntilAcknowledged(bridge, messages: 1)
            let start = ContinuousClock.now
            try await Self.waitUntilAcknowledged(bridge, messages: events)
            return Double(events - 1) / (ContinuousClock.now - start).seconds
        }
    }

    /// The Python forwarder on its own topic and group: deliveries per second as it reports them,
    /// and its CPU time per delivery (start-up included).
    func python(events: Int, url: String, script: URL, directory: URL) async throws -> Bench.ProcessRun {
        let topic = try sourceTopic("python")
        try await produce(topic, count: events)
        let forwarder = try BenchProcesses.Running(
            "/usr/bin/python3",
            [
                script.path, "--bootstrap", cluster.bootstrapServers, "--topic", topic, "--group", "bench-python-\(UUID().uuidString.prefix(6))",
                "--url", url, "--key", "bench-hash-key-0123", "--in-flight", "8", "--count", "\(events)", "--timeout-seconds", "600",
            ], logFile: directory.appendingPathComponent("python.log"))
        let childrenCPU = BenchProcesses.Running.reapedChildrenCPUSeconds
        await forwarder.waitForExit()
        let cpu = BenchProcesses.Running.reapedChildrenCPUSeconds - childrenCPU
        guard let line = forwarder.output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
            let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let rate = json["rate"] as? Double
        else { throw BenchProcesses.Failure(description: "the Python forwarder printed no rate: \(forwarder.output.suffix(2000))") }
        return Bench.ProcessRun(rate: rate, cpuMicrosecondsPerDelivery: cpu / Double(events) * 1e6)
    }

    /// Produce-to-receiver latency at a steady rate: each event carries its produce time; the
    /// receiver (in-process, answering 202 at once) notes the arrival.
    func latency(rate: Int, seconds: Int) async throws -> (p50: Double, p99: Double, max: Double) {
        let topic = try sourceTopic("latency")
        let group = try uniqueGroup("latency")
        // Events counted as they arrive (first arrivals: at-least-once may resend one).
        let arrived = Mutex<Set<String>>([])
        let receiver = WebhookReceiver(secret: nil, logger: logger) { request in
            if let id = request.header("message_id") { arrived.withLock { _ = $0.insert(id) } }
            return .init()
        }
        let receiverGroup = ServiceGroup(configuration: .init(services: [.init(service: receiver.service())], logger: logger))
        let total = rate * seconds
        let latencies: [Double] = try await whileRunning(receiverGroup, ready: { _ = await receiver.boundPort() }) {
            let port = await receiver.boundPort()
            let webhook = "  - {id: target, site: bench, url: \"http://127.0.0.1:\(port)/hooks\", topics: [order_state_changed], hash_key: bench-hash-key-0123}"
            return try await withBridge(yaml(group: group, source: topic, webhooks: webhook)) { _ in
                // The producer sends each record at once (linger 0), paced on a fixed schedule.
                let producer = try KafkaProducer(
                    configuration: .init(kafka: KafkaConfig(bootstrapServers: cluster.bootstrapServers), lingerMilliseconds: 0), logger: logger)
                let start = ContinuousClock.now
                for index in 0..<total {
                    let due = start + .microseconds(Int64(index) * 1_000_000 / Int64(rate))
                    if due > ContinuousClock.now { try await Task.sleep(until: due) }
                    let sentAt = Int64(Date().timeIntervalSince1970 * 1_000_000)
                    producer.enqueue(KafkaOutgoingRecord(topic: topic, key: "E\(index % entities)", value: #"{"order_id":"E\#(index % entities)","sent_us":\#(sentAt)}"#))
                }
                try await producer.flush()
                await producer.close()
                _ = await receiver.wait(timeout: .seconds(120)) { _ in arrived.withLock { $0.count } >= total }
                // Each event's first arrival is its sample.
                var seen: Set<String> = []
                return receiver.requests.compactMap { request in
                    guard let id = request.header("message_id"), seen.insert(id).inserted, let sent = request.json?["sent_us"] as? Int64 else { return nil }
                    return (request.receivedAt.timeIntervalSince1970 * 1_000_000 - Double(sent)) / 1000
                }
            }
        }
        guard latencies.count == total else { throw BenchProcesses.Failure(description: "latency run: \(latencies.count) of \(total) arrived") }
        let sorted = latencies.sorted()
        return (Demo.percentile(sorted, 0.50), Demo.percentile(sorted, 0.99), sorted.last ?? 0)
    }

    /// `webhook-bridge run` as a subprocess: runs `yaml` until its webhooks have had `messages`
    /// acknowledged, as its admin API's `/status` says; returns its peak RSS in bytes.
    func peakResidentMemory(yaml: String, messages: Int, executable: URL, directory: URL, label: String) async throws -> Double {
        let adminPort = try LoopbackPort.free()
        let configFile = directory.appendingPathComponent("\(label).yaml")
        try yaml.replacingOccurrences(of: "admin_listen: \"127.0.0.1:0\"", with: "admin_listen: \"127.0.0.1:\(adminPort)\"")
            .write(to: configFile, atomically: true, encoding: .utf8)
        let bridge = try BenchProcesses.Running(executable.path, ["run", "--config", configFile.path], logFile: directory.appendingPathComponent("\(label).log"))
        let client = HTTPClient.shared
        let deadline = ContinuousClock.now + .seconds(900)
        while ContinuousClock.now < deadline, bridge.process.isRunning {
            try await Task.sleep(for: .milliseconds(200))
            guard let response = try? await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(adminPort)/status"), timeout: .seconds(10)),
                let body = try? await response.body.collect(upTo: 64 * 1024 * 1024),
                let status = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
                let webhooks = status["webhooks"] as? [[String: Any]]
            else { continue }
            if webhooks.reduce(0, { $0 + (($1["acknowledged"] as? Int) ?? 0) }) >= messages {
                let peak = bridge.peakResidentBytes
                await bridge.stop()
                guard let peak else { throw BenchProcesses.Failure(description: "\(label): no VmHWM") }
                return Double(peak)
            }
        }
        await bridge.stop()
        throw BenchProcesses.Failure(description: "\(label): not done; log: \(bridge.output.suffix(2000))")
    }

    /// 10,000 webhooks, each on a topic of its own (events name their topic), 10 events each.
    func residentMemoryWithManyWebhooks(webhooks count: Int, url: String, executable: URL, directory: URL) async throws -> Double {
        let topic = try sourceTopic("many")
        try await produce(topic, count: count * 10) { index, entity in #"{"order_id":"\#(entity)","webhook_topic":"t\#(index % count)"}"# }
        let group = try uniqueGroup("many")
        let topics = "topics:\n" + (0..<count).map { "  - {topic: t\($0)}" }.joined(separator: "\n")
        let webhooks = (0..<count).map { "  - {id: w\($0), site: bench, url: \"\(url)/\($0)\", topics: [t\($0)], hash_key: bench-hash-key-\($0)-0123}" }.joined(separator: "\n")
        let yaml = yaml(group: group, source: topic, webhooks: webhooks, extra: topics + "\nquotas: {webhooks_per_site: \(count)}")
            .replacingOccurrences(of: "topic: order_state_changed}", with: "topic_field: webhook_topic}")
        return try await peakResidentMemory(yaml: yaml, messages: count * 10, executable: executable, directory: directory, label: "many-webhooks")
    }

    /// One webhook (batched, so the run is short) draining a 1,000,000-event backlog, on 32
    /// partitions: the mock broker keeps about 46,000 records per partition.
    func residentMemoryWithBacklog(events: Int, url: String, executable: URL, directory: URL) async throws -> Double {
        let topic = try sourceTopic("backlog", partitions: 32)
        try await produce(topic, count: events, partitions: 32)
        let group = try uniqueGroup("backlog")
        let webhook = "  - {id: target, site: bench, url: \"\(url)\", topics: [order_state_changed], hash_key: bench-hash-key-0123, options: {batching: true, max_batch_size: 30, batch_linger: 5ms}}"
        return try await peakResidentMemory(
            yaml: yaml(group: group, source: topic, webhooks: webhook), messages: events, executable: executable, directory: directory, label: "backlog")
    }

    /// A webhook paused while the backlog is written, then enabled through the admin API: the
    /// catch-up's deliveries per second, from the enable to the last acknowledgement.
    func catchUp(events: Int, url: String) async throws -> Double {
        let topic = try sourceTopic("catchup")
        let group = try uniqueGroup("catchup")
        let webhook = "  - {id: target, site: bench, url: \"\(url)\", topics: [order_state_changed], hash_key: bench-hash-key-0123, status: paused}"
        return try await withBridge(yaml(group: group, source: topic, webhooks: webhook)) { bridge in
            try await produce(topic, count: events)
            // Everything read and left to the paused webhook's cursors.
            while bridge.engine.partitionLags().count < Int(partitions) || bridge.engine.partitionLags().contains(where: { $0.lag > 0 }) {
                try await Task.sleep(for: .milliseconds(5))
            }
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(bridge.adminPort ?? 0)/webhooks/target/status")
            request.method = .PATCH
            request.headers.add(name: "Authorization", value: "Bearer bench-site-token-0123")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: #"{"status":"enabled"}"#))
            let start = ContinuousClock.now
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            guard response.status == .ok else { throw BenchProcesses.Failure(description: "enable answered \(response.status)") }
            try await Self.waitUntilAcknowledged(bridge, messages: events)
            return Double(events) / (ContinuousClock.now - start).seconds
        }
    }
}
