import Foundation
import Kafka
import Logging
import ServiceLifecycle
import WebhookDomain

/// `webhook-bridge demo`: an embedded broker, the bridge, a local receiver that verifies every
/// signature, and sample OMS events for many orders and parcels. Everything is real: Kafka
/// protocol on loopback, HTTP on loopback, the same code paths as `run`.
public enum Demo {
    public struct Summary: Sendable, CustomStringConvertible {
        public var produced: Int
        public var delivered: Int
        public var duplicates: Int
        public var signaturesVerified: Int
        public var entities: Int
        public var entitiesOutOfOrder: Int
        public var seconds: Double

        public var succeeded: Bool {
            delivered == produced && signaturesVerified == delivered + duplicates && entitiesOutOfOrder == 0
        }

        public var description: String {
            """
            ┌──────────────────────────────┬──────────────┐
            │ events produced              │ \(pad(produced)) │
            │ delivered (unique message_id)│ \(pad(delivered)) │
            │ redeliveries                 │ \(pad(duplicates)) │
            │ signatures verified          │ \(pad(signaturesVerified)) │
            │ entities                     │ \(pad(entities)) │
            │ per-entity order held        │ \(pad(entitiesOutOfOrder == 0 ? "yes" : "NO (\(entitiesOutOfOrder))")) │
            │ time                         │ \(pad(String(format: "%.2f s", seconds))) │
            └──────────────────────────────┴──────────────┘
            """
        }

        private func pad(_ value: Any) -> String {
            let text = "\(value)"
            return String(repeating: " ", count: max(0, 12 - text.count)) + text
        }
    }

    static let orderStates = ["new", "validated", "in_picking", "packed", "shipped"]
    static let parcelStates = ["new", "bagged", "shipped", "delivered"]

    public static func run(orders: Int = 30, parcels: Int = 30, logger: Logger, progress: @escaping @Sendable (String) -> Void = { print($0) }) async throws -> Summary {
        let secret = HashKey("demo-hash-key-\(UUID().uuidString)")
        let receiver = WebhookReceiver(secret: secret, logger: logger)
        let receiverGroup = ServiceGroup(configuration: .init(services: [.init(service: receiver.service())], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await receiverGroup.run() }
            let port = await receiver.boundPort()
            progress("receiver listening on http://127.0.0.1:\(port)/hooks (verifies X-Webhook-Signature)")

            var config = try BridgeConfig.parse(yaml: demoYAML(receiverPort: port), environment: ["DEMO_HASH_KEY": secret.text])
            config.http.adminPort = 0
            let bridge = try await Bridge(config: config, logger: logger)
            let bridgeGroup = bridge.serviceGroup(signals: [])
            tasks.addTask { try await bridgeGroup.run() }
            progress("embedded Kafka at \(bridge.bootstrapServers); bridge joining its consumer group…")
            while !bridge.engine.readiness.isReady { try await Task.sleep(for: .milliseconds(50)) }

            let start = ContinuousClock.now
            let produced = try await produceSampleEvents(bootstrap: bridge.bootstrapServers, orders: orders, parcels: parcels, logger: logger)
            progress("produced \(produced) OMS events (\(orders) orders, \(parcels) parcels); delivering…")
            let complete = await receiver.wait(timeout: .seconds(60)) { Set($0.compactMap { $0.header("message_id") }).count >= produced }
            if !complete { progress("timed out waiting for deliveries") }
            let elapsed = ContinuousClock.now - start

            await bridgeGroup.triggerGracefulShutdown()
            await receiverGroup.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return summarize(receiver.requests, produced: produced, seconds: elapsed.seconds)
        }
    }

    static func summarize(_ requests: [WebhookReceiver.Received], produced: Int, seconds: Double) -> Summary {
        let ids = requests.compactMap { $0.header("message_id") }
        // Per entity (order or parcel id), offsets must arrive in increasing order, apart from
        // redeliveries of a message already seen.
        var lastOffset: [String: Int64] = [:]
        var seen: Set<String> = []
        var outOfOrder: Set<String> = []
        for request in requests {
            guard let id = request.header("message_id"), seen.insert(id).inserted, let json = request.json,
                let topic = request.header("topic"), let sequence = request.header("sequence"),
                let offset = sequence.split(separator: "-").last.flatMap({ Int64($0) })
            else { continue }
            let entity = topic + "/" + ((json["parcel_id"] as? String) ?? (json["order_id"] as? String) ?? "")
            if let last = lastOffset[entity], offset < last { outOfOrder.insert(entity) }
            lastOffset[entity] = offset
        }
        return Summary(
            produced: produced, delivered: Set(ids).count, duplicates: ids.count - Set(ids).count,
            signaturesVerified: requests.filter { if case .valid = $0.hmacVerdict { true } else { false } }.count,
            entities: lastOffset.count, entitiesOutOfOrder: outOfOrder.count, seconds: seconds)
    }

    /// Order and parcel state changes, interleaved across entities, keyed by entity id.
    static func produceSampleEvents(bootstrap: String, orders: Int, parcels: Int, logger: Logger) async throws -> Int {
        let producer = try KafkaProducer(configuration: .init(kafka: KafkaConfig(bootstrapServers: bootstrap)), logger: logger)
        var count = 0
        let date = Int(Date().timeIntervalSince1970)
        for step in 1..<max(orderStates.count, parcelStates.count) {
            for order in 0..<orders where step < orderStates.count {
                let id = String(format: "DV%08d_MC", order)
                let event = #"{"order_id":"\#(id)","date":\#(date + step),"old_state":"\#(orderStates[step - 1])","new_state":"\#(orderStates[step])"}"#
                try await producer.send(KafkaOutgoingRecord(topic: "oms.orders", key: id, value: event))
                count += 1
            }
            for parcel in 0..<parcels where step < parcelStates.count {
                let id = String(format: "66fd147ab4fefe1095%06d", parcel)
                let order = String(format: "DV%08d_MC", parcel % max(orders, 1))
                let event = #"{"order_id":"\#(order)","date":\#(date + step),"old_state":"\#(parcelStates[step - 1])","new_state":"\#(parcelStates[step])","parcel_id":"\#(id)"}"#
                try await producer.send(KafkaOutgoingRecord(topic: "oms.parcels", key: id, value: event))
                count += 1
            }
        }
        await producer.close()
        return count
    }

    static func demoYAML(receiverPort: Int) -> String {
        """
        kafka:
          bootstrap_servers: embedded
          group_id: webhook-bridge-demo
          start_from: earliest
        http:
          admin_listen: 127.0.0.1:0
          allow_private_destinations: true
        sites:
          - id: c404
            token: demo-token
        routes:
          - {source: oms.orders, site: c404, topic: order_state_changed}
          - {source: oms.parcels, site: c404, topic: parcel_state_changed}
        webhooks:
          - id: demo-erp
            site: c404
            url: http://127.0.0.1:\(receiverPort)/hooks
            http_method: POST
            topics: [order_state_changed, parcel_state_changed]
            hash_key_env: DEMO_HASH_KEY
        logging:
          level: warning
        """
    }
}
