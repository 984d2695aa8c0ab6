import Foundation
import Kafka
import Synchronization
import Testing
import WebhookDomain

@testable import WebhookBridge

/// `GET /explain` and `webhook-bridge explain` (issue 14, item 6) against a running bridge on the
/// embedded broker: one test per group of verdicts, each with its own topic, group and receiver.
@Suite("Explain a record: where it went, per webhook", .serialized)
struct ExplainTests {
    /// A bridge config with `webhooks` (YAML flow mappings) on one source topic routed to
    /// `order_state_changed` of c404 (with `routeOptions`; and of c405, `secondSite`), the
    /// operators' endpoints on a listener of their own.
    static func config(
        topic: String, group: String, site: String = "{id: c404, token: c404-test-token-0001}", secondSite: String? = nil, routeOptions: String = "",
        webhooks: [String]
    ) throws -> BridgeConfig {
        let sites = [site] + (secondSite.map { [$0] } ?? [])
        let routes =
            ["{source: \(topic), site: c404, topic: order_state_changed\(routeOptions)}"] + (secondSite == nil ? [] : ["{source: \(topic), site: c405, topic: order_state_changed}"])
        var config = try BridgeConfig.parse(yaml: """
            \(testKafkaAndHTTP(group: group))
            sites: [\(sites.joined(separator: ", "))]
            routes: [\(routes.joined(separator: ", "))]
            webhooks:
            \(webhooks.map { "  - \($0)" }.joined(separator: "\n"))
            """)
        config.http.adminPort = 0
        config.http.opsListen = .init(host: "127.0.0.1", port: 0)
        return config
    }

    /// A source topic of one partition for one test.
    static func topic(_ prefix: String) throws -> String {
        let topic = BridgeTestCluster.unique(prefix)
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        return topic
    }

    static func webhook(_ id: String, port: Int, topic: String = "order_state_changed", site: String = "c404", status: String = "enabled") -> String {
        "{id: \(id), site: \(site), url: \"http://127.0.0.1:\(port)/\(id)\", topics: [\(topic)], hash_key: hash-key-for-tests, status: \(status)}"
    }

    /// `GET /explain` with a raw query on the operators' listener.
    static func explain(_ bridge: Bridge, query: String) async throws -> (status: Int, json: [String: Any]) {
        #expect(await waitFor { bridge.opsPort != nil })
        let answer = try await httpGet("http://127.0.0.1:\(try #require(bridge.opsPort))/explain?\(query)")
        let json = (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8))) as? [String: Any] ?? [:]
        return (answer.status, json)
    }

    /// Asks again until `condition` holds for the answer's webhooks (by id): the verdicts follow
    /// deliveries, commits and the attempts topic, none of which has an event here.
    static func explain(
        _ bridge: Bridge, topic: String, offset: Int64, timeout: Duration = .seconds(30), until condition: ([String: [String: Any]]) -> Bool
    ) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (status, json) = try await explain(bridge, query: "topic=\(topic)&partition=0&offset=\(offset)")
            #expect(status == 200, "\(json)")
            if condition(verdicts(json)) || ContinuousClock.now >= deadline { return json }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func verdicts(_ json: [String: Any]) -> [String: [String: Any]] {
        Dictionary((json["webhooks"] as? [[String: Any]] ?? []).map { ($0["id"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
    }

    static func send(_ topic: String, key: String = "E1", value: String) async throws -> Int64 {
        let producer = try KafkaProducer(configuration: .init(kafka: KafkaConfig(bootstrapServers: BridgeTestCluster.shared.bootstrapServers)), logger: BridgeTestCluster.logger)
        let position = try await producer.send(KafkaOutgoingRecord(topic: topic, partition: 0, key: Array(key.utf8), value: Array(value.utf8)))
        await producer.close()
        return position.offset
    }

    @Test("delivered (with its attempts), not subscribed, dead-lettered; 404 for a missing offset or partition, 400 naming the parameter; on the ops listener only; the CLI")
    func deliveredAndErrors() async throws {
        let topic = try Self.topic("explain")
        try await withReceiver(secret: nil) { receiver, port in
            let config = try Self.config(
                topic: topic, group: try BridgeTestCluster.group(), webhooks: [Self.webhook("hook", port: port), Self.webhook("parcels", port: port, topic: "parcel_state_changed")])
            try await withBridge(config) { bridge in
                let good = try await Self.send(topic, value: #"{"entity":"E1"}"#)
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 1 })
                let delivered = try await Self.explain(bridge, topic: topic, offset: good) { verdicts in
                    verdicts["hook"]?["verdict"] as? String == "delivered" && (verdicts["hook"]?["attempts"] as? [Any])?.isEmpty == false
                        && (verdicts["hook"]?["detail"] as? String)?.contains("is past") == true
                }
                let hook = try #require(Self.verdicts(delivered)["hook"])
                #expect(hook["verdict"] as? String == "delivered", "\(hook)")
                let messageID = try #require(receiver.requests.first?.header("message_id"))
                #expect((hook["messages"] as? [[String: Any]])?.first?["message_id"] as? String == messageID)
                let attempt = try #require((hook["attempts"] as? [[String: Any]])?.first)
                #expect(attempt["outcome"] as? String == "acked" && attempt["status"] as? Int == 202 && attempt["attempt"] as? Int == 1)
                #expect(attempt["message_ids"] as? [String] == [messageID])
                let routing = try #require(delivered["routing"] as? [String: Any])
                #expect(routing["outcome"] as? String == "routed")
                #expect((routing["routes"] as? [[String: Any]])?.map { $0["matched"] as? Bool } == [true])
                #expect((routing["messages"] as? [[String: Any]])?.first?["message_id"] as? String == messageID)
                #expect((delivered["record"] as? [String: Any])?["key"] as? String == "E1")
                #expect(((delivered["partition"] as? [String: Any])?["committed_offset"] as? Int ?? -1) > Int(good))
                #expect((delivered["attempts_search"] as? [String: Any])?["complete"] as? Bool == true)
                let parcels = try #require(Self.verdicts(delivered)["parcels"])
                #expect(parcels["verdict"] as? String == "not_subscribed", "\(parcels)")
                #expect((parcels["detail"] as? String)?.contains("parcel_state_changed") == true)
                #expect(parcels["attempts"] == nil, "nothing to search for a webhook that gets no message")

                let malformed = try await Self.send(topic, value: "not json")
                let deadLettered = try await Self.explain(bridge, topic: topic, offset: malformed) { verdicts in
                    verdicts["hook"]?["verdict"] as? String == "dead_lettered"
                }
                #expect((deadLettered["routing"] as? [String: Any])?["dead_letter_reason"] as? String == "not a JSON object")
                for id in ["hook", "parcels"] {
                    let verdict = Self.verdicts(deadLettered)[id]
                    #expect(verdict?["verdict"] as? String == "dead_lettered" && (verdict?["detail"] as? String)?.contains("not a JSON object") == true, "\(id): \(String(describing: verdict))")
                }

                for query in ["topic=\(topic)&partition=0&offset=\(malformed + 1)", "topic=\(topic)&partition=3&offset=0"] {
                    let (status, json) = try await Self.explain(bridge, query: query)
                    #expect(status == 404, "\(query): \(json)")
                    #expect((json["error"] as? [String: Any])?["code"] as? String == "not_found")
                }
                for (query, field) in [
                    ("topic=\(topic)&partition=x&offset=0", "partition"), ("topic=\(topic)&partition=0", "offset"), ("topic=\(topic)&partition=0&offset=-1", "offset"),
                    ("partition=0&offset=0", "topic"), ("topic=not-a-source&partition=0&offset=0", "topic"), ("topic=\(topic)&partition=0&offset=0&site=c404", "site"),
                ] {
                    let (status, json) = try await Self.explain(bridge, query: query)
                    #expect(status == 400, "\(query): \(json)")
                    #expect(((json["error"] as? [String: Any])?["message"] as? String)?.hasPrefix("\(field):") == true, "\(query): \(json)")
                }
                let admin = try #require(bridge.adminPort)
                #expect(try await httpGet("http://127.0.0.1:\(admin)/explain?topic=\(topic)&partition=0&offset=0").status == 404, "not on the tenants' listener")

                let ops = "http://127.0.0.1:\(try #require(bridge.opsPort))"
                let cli = try ChildProcess(ChildProcess.executable, ["explain", "--url", ops, "--topic", topic, "--partition", "0", "--offset", "\(good)"])
                #expect(await cli.stop(signal: 0) == 0, "\(cli.lines)")
                #expect(cli.lines.contains { $0.hasPrefix("record: \(topic)/0 offset \(good), key E1") }, "\(cli.lines)")
                #expect(cli.lines.contains { $0.hasPrefix("hook ") && $0.contains("delivered") && $0.contains("1 (last acked)") }, "\(cli.lines)")
                #expect(cli.lines.contains { $0.hasPrefix("parcels ") && $0.contains("not_subscribed") }, "\(cli.lines)")
                let missing = try ChildProcess(ChildProcess.executable, ["explain", "--url", ops, "--topic", topic, "--partition", "0", "--offset", "99"])
                #expect(await missing.stop(signal: 0) != 0)
                #expect(missing.lines.contains { $0.contains("404") && $0.contains("no offset 99") }, "\(missing.lines)")
            }
        }
    }

    @Test("pending: in flight while the receiver holds the request, the entity's next record queued behind it; delivered once answered")
    func pending() async throws {
        let topic = try Self.topic("explain-pending")
        let held = Gate()
        let arrived = Mutex(0)
        try await withReceiver(secret: nil, respond: { _ in
            arrived.withLock { $0 += 1 }
            await held.pass()
            return .init()
        }) { receiver, port in
            let config = try Self.config(topic: topic, group: try BridgeTestCluster.group(), webhooks: [Self.webhook("hook", port: port)])
            try await withBridge(config) { bridge in
                let first = try await Self.send(topic, value: #"{"entity":"E1","step":0}"#)
                let second = try await Self.send(topic, value: #"{"entity":"E1","step":1}"#)
                #expect(await waitFor { arrived.withLock { $0 } == 1 })
                // order_state_changed is ordered: the entity's second record waits for the first.
                let inFlight = Self.verdicts(try await Self.explain(bridge, topic: topic, offset: first) { $0["hook"]?["verdict"] as? String == "pending" })["hook"]
                #expect(inFlight?["verdict"] as? String == "pending", "\(String(describing: inFlight))")
                #expect((inFlight?["lane"] as? [String: Any])?["standing"] as? String == "in_flight", "\(String(describing: inFlight))")
                let queued = Self.verdicts(try await Self.explain(bridge, topic: topic, offset: second) { _ in true })["hook"]
                #expect(queued?["verdict"] as? String == "pending" && (queued?["lane"] as? [String: Any])?["standing"] as? String == "queued", "\(String(describing: queued))")
                #expect((queued?["detail"] as? String)?.contains("queued") == true)

                held.open()
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 2 })
                let delivered = Self.verdicts(try await Self.explain(bridge, topic: topic, offset: second) { $0["hook"]?["verdict"] as? String == "delivered" })["hook"]
                #expect(delivered?["verdict"] as? String == "delivered", "\(String(describing: delivered))")
            }
        }
    }

    @Test("parked: a failing receiver's record is the probe of the paused webhook, with its failed attempt; the next record waits at the cursor")
    func parked() async throws {
        let topic = try Self.topic("explain-parked")
        try await withReceiver(secret: nil, respond: { _ in .init(status: 500) }) { receiver, port in
            // A retry far off: the webhook stays paused (auto) while the test looks.
            let config = try Self.config(
                topic: topic, group: try BridgeTestCluster.group(), site: "{id: c404, token: c404-test-token-0001, retry_intervals: [600], retries_until_failure: 1}",
                webhooks: [Self.webhook("hook", port: port)])
            try await withBridge(config) { bridge in
                let probe = try await Self.send(topic, value: #"{"entity":"E1","step":0}"#)
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 1 })
                let parked = Self.verdicts(
                    try await Self.explain(bridge, topic: topic, offset: probe) { verdicts in
                        verdicts["hook"]?["verdict"] as? String == "parked" && (verdicts["hook"]?["attempts"] as? [Any])?.isEmpty == false
                    })["hook"]
                #expect(parked?["verdict"] as? String == "parked", "\(String(describing: parked))")
                #expect(parked?["status"] as? String == "paused" && parked?["pause"] as? String == "auto")
                #expect((parked?["detail"] as? String)?.contains("this record is the probe") == true, "\(String(describing: parked))")
                #expect((parked?["detail"] as? String)?.contains("HTTP 500") == true, "\(String(describing: parked))")
                let attempt = (parked?["attempts"] as? [[String: Any]])?.first
                #expect(attempt?["outcome"] as? String == "status_500" && attempt?["error"] as? String == "HTTP 500", "\(String(describing: attempt))")

                let next = try await Self.send(topic, value: #"{"entity":"E2","step":0}"#)
                let waiting = Self.verdicts(try await Self.explain(bridge, topic: topic, offset: next) { $0["hook"]?["verdict"] as? String == "parked" })["hook"]
                #expect(waiting?["verdict"] as? String == "parked", "\(String(describing: waiting))")
                #expect((waiting?["cursor"] as? Int ?? .max) <= Int(next), "\(String(describing: waiting))")
                #expect((waiting?["lane"] as? [String: Any])?["standing"] as? String == "at_or_after_cursor")
                #expect((waiting?["attempts"] as? [Any])?.isEmpty == true)
                #expect((waiting?["detail"] as? String)?.contains("probe") == false)
            }
            #expect(receiver.requests.count == 1, "nothing but the probe was sent")
        }
    }

    @Test("paused, disabled and dead webhooks; a record routed by two routes to two sites gets a verdict from every webhook of both")
    func pausedDisabledDead() async throws {
        let topic = try Self.topic("explain-status")
        try await withReceiver(secret: nil) { receiver, port in
            let config = try Self.config(
                topic: topic, group: try BridgeTestCluster.group(),
                // c405 keeps no message of an inactive webhook for long: a webhook disabled there dies at once.
                secondSite: "{id: c405, token: c405-test-token-0001, message_retention: 0.2s}",
                webhooks: [
                    Self.webhook("paused", port: port, status: "paused"), Self.webhook("off", port: port, status: "disabled"),
                    Self.webhook("gone", port: port, site: "c405"),
                ])
            try await withBridge(config) { bridge in
                var disabled = bridge.catalog.state("gone")
                _ = disabled.apply(.disableRequested, policy: .init(site: try #require(bridge.catalog.site("c405"))), now: Int64(Date().timeIntervalSince1970 * 1000))
                try await bridge.catalog.save(state: disabled, webhookID: "gone")
                #expect(await waitFor { bridge.engine.lane("gone")?.status.status == .dead })
                let offset = try await Self.send(topic, value: #"{"entity":"E1"}"#)
                let json = try await Self.explain(bridge, topic: topic, offset: offset) { verdicts in verdicts["paused"]?["cursor"] is Int }
                let verdicts = Self.verdicts(json)
                #expect(verdicts["paused"]?["verdict"] as? String == "paused", "\(json)")
                #expect((verdicts["paused"]?["cursor"] as? Int ?? .max) <= Int(offset))
                #expect((verdicts["paused"]?["detail"] as? String)?.contains("at or after its cursor") == true)
                #expect(verdicts["off"]?["verdict"] as? String == "disabled", "\(json)")
                #expect(verdicts["gone"]?["verdict"] as? String == "dead", "\(json)")
                let routing = try #require(json["routing"] as? [String: Any])
                #expect((routing["routes"] as? [[String: Any]])?.compactMap { $0["site_id"] as? String } == ["c404", "c405"])
                #expect(Set((routing["messages"] as? [[String: Any]] ?? []).compactMap { $0["site_id"] as? String }) == ["c404", "c405"])
            }
            #expect(receiver.requests.isEmpty)
        }
    }

    @Test("skipped: a Debezium delete its route leaves out is settled without a message; the next change is delivered")
    func skipped() async throws {
        let topic = try Self.topic("explain-skipped")
        try await withReceiver(secret: nil) { receiver, port in
            let config = try Self.config(topic: topic, group: try BridgeTestCluster.group(), routeOptions: ", envelope: debezium", webhooks: [Self.webhook("hook", port: port)])
            try await withBridge(config) { bridge in
                let deleted = try await Self.send(topic, value: #"{"op":"d","before":{"entity":"E1"}}"#)
                let created = try await Self.send(topic, value: #"{"op":"c","after":{"entity":"E2"}}"#)
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 1 })
                let json = try await Self.explain(bridge, topic: topic, offset: deleted) { $0["hook"]?["verdict"] as? String == "skipped" }
                #expect(Self.verdicts(json)["hook"]?["verdict"] as? String == "skipped", "\(json)")
                let routing = try #require(json["routing"] as? [String: Any])
                #expect(routing["outcome"] as? String == "skipped" && routing["skip_reason"] as? String == "debezium delete", "\(routing)")
                let route = (routing["routes"] as? [[String: Any]])?.first
                #expect(route?["envelope"] as? String == "debezium" && route?["matched"] as? Bool == false && route?["reason"] as? String == "debezium delete")
                let delivered = try await Self.explain(bridge, topic: topic, offset: created) { $0["hook"]?["verdict"] as? String == "delivered" }
                #expect(Self.verdicts(delivered)["hook"]?["verdict"] as? String == "delivered", "\(delivered)")
            }
            #expect(receiver.requests.count == 1)
        }
    }
}
