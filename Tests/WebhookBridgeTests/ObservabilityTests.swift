import AsyncHTTPClient
import Foundation
import Kafka
import Testing
import WebhookDomain

@testable import WebhookBridge
@testable import WebhookBridgeTools

/// A GET to a running bridge's admin API: the status code and the body.
func adminGET(_ bridge: Bridge, _ path: String) async throws -> (status: Int, body: String) {
    let port = try #require(bridge.adminPort)
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    do {
        let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
        try await client.shutdown()
        return (Int(response.status.code), String(buffer: body))
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// Samples of the Prometheus text format, by metric name and labels.
struct PrometheusSamples {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    let samples: [Sample]

    init(_ text: String) {
        samples = text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
            var labels: [String: String] = [:]
            for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { labels[String(parts[0])] = String(parts[1].dropFirst().dropLast()) }
            }
            return Sample(name: String(series[..<brace]), labels: labels, value: value)
        }
    }

    /// The value of the one series with this name and (at least) these labels, if any.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value } }?.value
    }
}

@Suite("Metrics and /status (issue 6)", .serialized)
struct ObservabilityTests {
    @Test("/metrics counts deliveries by outcome, latency, statuses, lags and dead letters as they happen; /status and its table agree")
    func metricsFollowDeliveries() async throws {
        let topic = BridgeTestCluster.unique("metrics")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 2)
        let group = try BridgeTestCluster.group()
        try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { $0.uri.hasPrefix("/bad") ? .init(status: 500) : .init() }) { receiver, port in
            var config = try BridgeConfig.parse(yaml: """
                \(testKafkaAndHTTP(group: group))
                sites: [{id: c404, token: c404-test-token-0001, retry_intervals: [600]}]
                routes: [{source: \(topic), site: c404, topic: order_state_changed}]
                webhooks:
                  - {id: good, site: c404, url: "http://127.0.0.1:\(port)/good", topics: [order_state_changed], hash_key: hash-key-for-tests}
                  - {id: bad, site: c404, url: "http://127.0.0.1:\(port)/bad", topics: [order_state_changed], hash_key: hash-key-for-tests}
                """)
            config.http.adminPort = 0
            try await withBridge(config) { bridge in
                let before = PrometheusSamples(try await adminGET(bridge, "/metrics").body)
                #expect(before.value("webhook_bridge_deliveries_total", ["webhook": "good", "outcome": "acked"]) == nil)
                #expect(before.value("webhook_bridge_webhook_status", ["webhook": "bad", "status": "enabled"]) == 1)

                try await produce(StatusTests.events(topic: topic, entities: 4, perEntity: 3))
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.uri.hasPrefix("/good") }.count >= 12 })
                #expect(await waitFor { bridge.engine.lane("bad")?.status.status == .paused })
                // A malformed record after the failure: dead-lettered, and one more record the parked webhook is behind by.
                try await produce([KafkaOutgoingRecord(topic: topic, key: "E0", value: "not json")])
                #expect(await waitFor { bridge.engine.partitionLags().allSatisfy { $0.lag == 0 } })

                let (status, text) = try await adminGET(bridge, "/metrics")
                #expect(status == 200)
                let metrics = PrometheusSamples(text)
                #expect(metrics.value("webhook_bridge_deliveries_total", ["webhook": "good", "outcome": "acked"]) == 12)
                #expect(metrics.value("webhook_bridge_messages_total", ["webhook": "good", "outcome": "acked"]) == 12)
                let badRequests = receiver.requests.filter { $0.uri.hasPrefix("/bad") }.count
                #expect(badRequests >= 1 && metrics.value("webhook_bridge_deliveries_total", ["webhook": "bad", "outcome": "status_500"]) == Double(badRequests))
                #expect(metrics.value("webhook_bridge_delivery_latency_seconds_count", ["webhook": "good"]) == 12)
                #expect((metrics.value("webhook_bridge_delivery_latency_seconds_sum", ["webhook": "good"]) ?? 0) > 0)
                #expect(metrics.value("webhook_bridge_dead_letters_total", ["topic": topic]) == 1)
                #expect(metrics.value("webhook_bridge_webhook_status", ["webhook": "bad", "status": "paused"]) == 1)
                #expect(metrics.value("webhook_bridge_webhook_status", ["webhook": "bad", "status": "enabled"]) == 0)
                #expect(metrics.value("webhook_bridge_webhook_status", ["webhook": "good", "status": "enabled"]) == 1)
                #expect(metrics.value("webhook_bridge_in_flight_requests", ["webhook": "good"]) == 0)
                #expect(metrics.value("webhook_bridge_parked_partitions", ["webhook": "bad"]) == 2)
                #expect(metrics.value("webhook_bridge_parked_partitions", ["webhook": "good"]) == 0)
                #expect(metrics.value("webhook_bridge_ready") == 1)
                // sites, topics, two webhooks and their statuses and cursors at least.
                #expect((metrics.value("webhook_bridge_control_view_keys") ?? 0) >= 5)
                // The failed webhook has every record from its first event on still to receive.
                #expect(bridge.engine.runtime().first { $0.id == "bad" }?.cursorLag == 13)
                #expect(PrometheusSamples(try await adminGET(bridge, "/metrics").body).value("webhook_bridge_cursor_lag_records", ["webhook": "bad"]) == 13)
                #expect(bridge.engine.partitionLags().count == 2)
                #expect(PrometheusSamples(try await adminGET(bridge, "/metrics").body).value("webhook_bridge_consumer_lag_records", ["topic": topic, "partition": "1"]) == 0)

                // /status: the same picture as JSON, and as the `status` command's table.
                let json = try #require(try JSONSerialization.jsonObject(with: Data(try await adminGET(bridge, "/status").body.utf8)) as? [String: Any])
                let webhooks = try #require(json["webhooks"] as? [[String: Any]])
                let bad = try #require(webhooks.first { $0["id"] as? String == "bad" })
                #expect(bad["status"] as? String == "paused" && bad["pause"] as? String == "auto" && bad["cursor_lag"] as? Int == 13)
                #expect((bad["last_error"] as? String)?.contains("500") == true)
                let table = StatusTable.render(json)
                let row = try #require(table.split(separator: "\n").first { $0.hasPrefix("bad ") })
                #expect(row.contains("paused (auto)") && row.contains(" 13 ") && row.contains("500"), "\(row)")
                #expect(table.split(separator: "\n").contains { $0.hasPrefix(topic) }, "\(table)")
            }
        }
    }
}

extension ReliabilitySuite {
    /// The demo scripts an outage against its retry schedule, so it runs in the serialized phase.
    @Suite("Reliability: the demo", .serialized)
    struct DemoTests {
        @Test("the demo's summary matches what its receiver saw: every message acknowledged once per webhook, signed, in order; erp paused and recovered")
        func summaryMatchesReceiver() async throws {
            let (summary, requests) = try await Demo.run(
                Demo.Options(orders: 12, parcels: 9, outage: .milliseconds(2500)), logger: BridgeTestCluster.logger, progress: { _ in })
            #expect(summary.succeeded, "\(summary)")
            // Counted here from the raw requests, independently of the demo's own bookkeeping.
            let expected = ["erp": 12 * 4 + 9 * 3, "warehouse": 9 * 3, "crm": 12 * 4 + 12, "shipping": 12 * 2]
            for row in summary.webhooks {
                let sent = requests.filter { $0.uri.hasPrefix("/\(row.id)") }
                let acked = sent.filter { $0.answeredStatus == 202 }
                let ids: [String] =
                    row.id == "warehouse"
                    ? acked.flatMap { ($0.json?["messages"] as? [[String: Any]] ?? []).compactMap { ($0["headers"] as? [String: String])?["message_id"] } }
                    : acked.compactMap { $0.header("message_id") }
                #expect(row.expected == expected[row.id] && row.delivered == expected[row.id], "\(row.id)")
                #expect(Set(ids).count == row.delivered && ids.count == row.delivered + row.redeliveries, "\(row.id)")
                #expect(row.requests == sent.count && row.failedRequests == sent.count - acked.count, "\(row.id)")
                #expect(row.verified == ids.count, "\(row.id)")
            }
            let erp = try #require(summary.webhooks.first { $0.id == "erp" })
            // Retries after 1 s and 2 s fail (the second raises on_failure); the one 4 s in is acknowledged.
            #expect(erp.failedRequests >= 3, "the first failure and two failed retries")
            #expect(requests.filter { $0.uri.hasPrefix("/warehouse") }.allSatisfy { $0.header("batch_id") != nil })
            #expect(Set(requests.filter { $0.uri.hasPrefix("/shipping") }.compactMap { $0.json?["new_state"] as? String }) == ["packed", "shipped"], "the filter kept the rest away")
            #expect(requests.filter { $0.uri.hasPrefix("/crm") }.allSatisfy { $0.standardVerdict == .valid(keyIndex: 0) && $0.header("x-webhook-signature") == nil })
            #expect(summary.alerts.map { $0.prefix { $0 != " " } } == ["on_failure", "on_failure_recovered"])
            #expect(summary.seconds < 60)
        }

        @Test("`webhook-bridge demo` exits 0 and prints the summary table")
        func executableExitsZero() async throws {
            let demo = try ChildProcess(ChildProcess.executable, ["demo", "--orders", "6", "--parcels", "6", "--outage", "2.5"])
            #expect(await demo.waitForLine(timeout: .seconds(90)) { $0.hasPrefix("demo: ") } != nil, "\(demo.lines)")
            #expect(await demo.stop(signal: 0) == 0, "\(demo.lines)")
            #expect(demo.lines.contains { $0.hasPrefix("│ erp ") && $0.contains("hmac, outage") }, "\(demo.lines)")
            #expect(demo.lines.contains { $0.hasPrefix("alert: on_failure_recovered") }, "\(demo.lines)")
            #expect(demo.lines.last?.hasPrefix("demo: every event delivered") == true, "\(demo.lines)")
        }
    }
}
