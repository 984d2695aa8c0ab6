import Foundation
import Kafka
import Testing
import WebhookDomain

@testable import WebhookBridge
@testable import WebhookBridgeTools

/// What receivers ask for (DESIGN.md §4): static headers, auth, filters and CloudEvents, end to
/// end through a bridge.
@Suite("Receiver options", .serialized)
struct ReceiverOptionsTests {
    /// The CloudEvents Python SDK's reading of the requests (scripts/cloudevents_check.py).
    static func parsedBySDK(_ requests: [WebhookReceiver.Received]) throws -> [[String: Any]] {
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        let scripts = ConfigTests.repository.appendingPathComponent("scripts")
        process.arguments = [scripts.appendingPathComponent("venv_python.sh").path, "cloudevents", "cloudevents==2.2.0", "--", scripts.appendingPathComponent("cloudevents_check.py").path]
        (process.standardInput, process.standardOutput, process.standardError) = (input, output, errors)
        try process.run()
        for request in requests {
            let line = try JSONSerialization.data(withJSONObject: ["content_type": request.header("content-type") ?? "", "body": String(decoding: request.body, as: UTF8.self)])
            input.fileHandleForWriting.write(line + Data("\n".utf8))
        }
        try input.fileHandleForWriting.close()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        let complaint = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "the CloudEvents SDK refused a request: \(complaint)")
        return String(decoding: printed, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// The orders the batched webhook has received so far.
    static func batchedOrders(_ requests: [WebhookReceiver.Received]) -> Set<String> {
        Set(requests.filter { $0.uri == "/batched" }.flatMap { request -> [String] in
            let events = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [[String: Any]] ?? []
            return events.compactMap { ($0["data"] as? [String: Any])?["order_id"] as? String }
        })
    }

    @Test("a filter keeps other events away (settled, counted, explained); static headers and bearer auth go out; CloudEvents bodies read by the CloudEvents SDK, single and batched; secrets never shown")
    func filtersHeadersAuthCloudEvents() async throws {
        let topic = BridgeTestCluster.unique("receivers")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        try await withReceiver(secret: HashKey("ce-key-0123456789ab")) { receiver, port in
            let group = try BridgeTestCluster.group()
            let hook = { (id: String, path: String, extra: String) in
                "  - {id: \(id), site: c404, url: \"http://127.0.0.1:\(port)/\(path)\", topics: [order_state_changed], hash_key: ce-key-0123456789ab, \(extra)}"
            }
            var config = try BridgeConfig.parse(
                yaml: """
                    \(testKafkaAndHTTP(group: group))
                    sites: [{id: c404, token: c404-test-token-0001}]
                    routes: [{source: \(topic), site: c404, topic: order_state_changed}]
                    webhooks:
                    \(hook("shipped", "shipped", #"filter: {all: [{field: new_state, in: [shipped, delivered]}, {not: {field: test, eq: true}}]}, headers: {X-Env: prod}, auth: {type: bearer, token_env: RECEIVER_TOKEN}, options: {format: cloudevents}"#))
                    \(hook("batched", "batched", "options: {format: cloudevents, batching: true, max_batch_size: 30, batch_linger: 200ms}"))
                    """, environment: ["RECEIVER_TOKEN": "receiver-bearer-secret-42"])
            config.http.adminPort = 0
            let states = ["packed", "shipped", "delivered", "shipped"]
            try await withBridge(config) { bridge in
                var records = states.enumerated().map { index, state in
                    KafkaOutgoingRecord(topic: topic, key: "E\(index)", value: #"{"order_id":"E\#(index)","new_state":"\#(state)"}"#)
                }
                records.append(KafkaOutgoingRecord(topic: topic, key: "T1", value: #"{"order_id":"T1","new_state":"shipped","test":true}"#))
                try await produce(records)
                #expect(await receiver.wait(timeout: .seconds(30)) { requests in
                    requests.filter { $0.uri == "/shipped" }.count >= 3 && Self.batchedOrders(requests).count >= 5
                })
                #expect(await waitFor { bridge.engine.runtime().first { $0.id == "shipped" }?.filteredMessages == 2 })
                let metrics = bridge.adminBackend.metricsText()
                #expect(metrics.contains(#"webhook_bridge_filtered_messages{webhook="shipped"} 2"#), "\(metrics)")
                // The webhook as the API shows it: the auth's type, never its token.
                #expect(await waitFor { bridge.adminPort != nil })
                let shown = try await httpGet("http://127.0.0.1:\(bridge.adminPort ?? 0)/webhooks/shipped?site_id=c404")
                #expect(shown.status == 200 && shown.body.contains(#""auth":{"type":"bearer"}"#) && !shown.body.contains("receiver-bearer-secret-42"), "\(shown)")
                #expect(shown.body.contains(#""X-Env":"prod""#) && shown.body.contains(#""format":"cloudevents""#), "\(shown)")
            }
            let shipped = receiver.requests.filter { $0.uri == "/shipped" }
            #expect(shipped.count == 3, "only shipped and delivered, not the test one: \(shipped.map { String(decoding: $0.body, as: UTF8.self) })")
            #expect(shipped.allSatisfy { $0.header("x-env") == "prod" && $0.header("authorization") == "Bearer receiver-bearer-secret-42" })
            #expect(shipped.allSatisfy { $0.hmacVerdict == .valid(keyIndex: 0) && $0.header("content-type") == "application/cloudevents+json" }, "signed over the bytes sent")
            let events = try Self.parsedBySDK(shipped)
            #expect(events.count == 3)
            for event in events {
                let attributes = event["attributes"] as? [String: Any] ?? [:]
                #expect(attributes["specversion"] as? String == "1.0" && attributes["type"] as? String == "order_state_changed")
                #expect(attributes["source"] as? String == "webhook-bridge/c404" && (attributes["subject"] as? String)?.hasPrefix("E") == true)
                #expect(attributes["time"] != nil && (attributes["sequence"] as? String)?.hasPrefix("0-") == true)
                #expect((event["data"] as? [String: Any])?["new_state"] != nil)
            }
            #expect(Set(events.compactMap { ($0["attributes"] as? [String: Any])?["id"] as? String }) == Set(shipped.compactMap { $0.header("message_id") }))
            let batched = receiver.requests.filter { $0.uri == "/batched" }
            #expect(batched.allSatisfy { $0.header("content-type") == "application/cloudevents-batch+json" && $0.hmacVerdict == .valid(keyIndex: 0) })
            let batchEvents = try Self.parsedBySDK(batched)
            #expect(Set(batchEvents.compactMap { ($0["data"] as? [String: Any])?["order_id"] as? String }) == ["E0", "E1", "E2", "E3", "T1"])
        }
    }
}

