import Foundation
import Kafka
import Synchronization
import Testing
import WebhookDomain

@testable import WebhookBridge
@testable import WebhookBridgeTools

@Suite("Trace spans of delivery attempts (issue 15 item 4)")
struct TracingTests {
    static let recordTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let recordParentID = "00f067aa0ba902b7"

    @Test(
        "one span per attempt, exported over OTLP/HTTP to a collector stand-in (flushed when the bridge stops): a record's trace id is kept, the receiver's traceparent is the span's"
    )
    func spanPerAttempt() async throws {
        let topic = BridgeTestCluster.unique("tracing")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        // Entity B's first request is answered 500: its webhook retries it (attempt 2), acked.
        let failedOnce = Mutex(false)
        let answer: @Sendable (WebhookReceiver.Received) async -> WebhookReceiver.Answer = { request in
            guard request.json?["entity"] as? String == "B" else { return .init(status: 202) }
            return failedOnce.withLock { failed in
                defer { failed = true }
                return .init(status: failed ? 202 : 500)
            }
        }
        // The collector answers as OTLP/HTTP does: 200 with an empty ExportTraceServiceResponse.
        try await withReceiver(secret: nil, respond: { _ in .init(status: 200, body: "{}") }) { collector, collectorPort in
            try await withReceiver(secret: nil, respond: answer) { receiver, port in
                let group = try BridgeTestCluster.group()
                var config = try testConfig(sources: [(topic, "order_state_changed")], receiverPort: port, group: group)
                config.tracing = try BridgeConfig.parse(yaml: "tracing: {otlp_endpoint: \"http://127.0.0.1:\(collectorPort)\"}").tracing
                try await withBridge(config) { _ in
                    let traceparent = "00-\(Self.recordTraceID)-\(Self.recordParentID)-01"
                    try await produce([
                        KafkaOutgoingRecord(
                            topic: topic, key: "A", value: #"{"entity":"A"}"#,
                            headers: [KafkaHeader(key: "traceparent", value: Array(traceparent.utf8)), KafkaHeader(key: "tracestate", value: Array("vendor=x".utf8))]),
                        KafkaOutgoingRecord(topic: topic, key: "B", value: #"{"entity":"B"}"#),
                        KafkaOutgoingRecord(topic: topic, key: "C", value: #"{"entity":"C"}"#),
                    ])
                    #expect(await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.answeredStatus == 202 }.count == 3 })
                }
                // The bridge has stopped: the exporter, stopped last, sent what was left.
                let exports = collector.requests
                #expect(!exports.isEmpty && exports.allSatisfy { $0.method == "POST" && $0.uri == "/v1/traces" && $0.header("content-type") == "application/x-protobuf" })
                let spans = exports.flatMap { ExportedSpan.decode($0.body) }
                let requests = receiver.requests
                // A, C, and B twice; at least once, so under load a message may be sent again (a
                // request in flight while B's failure paused the webhook): each still has its span.
                #expect(requests.count >= 4 && Set(requests.compactMap { $0.header("message_id") }).count == 3, "\(requests.count) requests")
                #expect(spans.count == requests.count, "one span per attempt: \(spans)")
                for request in requests {
                    let context = try #require(request.header("traceparent")?.split(separator: "-").map(String.init))
                    let span = try #require(spans.first { $0.spanID == context[2] }, "the receiver's parent is its attempt's span")
                    let entity = try #require(request.json?["entity"] as? String)
                    #expect(span.traceID == context[1])
                    #expect(span.name == "webhook delivery")
                    #expect(span.attributes["webhook.id"] == "hook")
                    #expect(span.attributes["webhook.topic"] == "order_state_changed")
                    #expect(span.attributes["webhook.message_id"] == request.header("message_id"))
                    #expect(span.attributes["http.response.status_code"] == String(request.answeredStatus))
                    #expect(span.attributes["webhook.outcome"] == (request.answeredStatus == 202 ? "acked" : "status_500"))
                    #expect(span.statusCode == (request.answeredStatus == 202 ? 1 : 2))
                    if entity == "A" {
                        #expect(span.traceID == Self.recordTraceID, "the record's trace goes on")
                        #expect(span.parentSpanID == Self.recordParentID, "the span is the record's child")
                        #expect(request.header("tracestate") == "vendor=x")
                    } else {
                        #expect(span.traceID != Self.recordTraceID && span.parentSpanID.isEmpty, "a record without a traceparent starts a trace")
                    }
                }
                let attemptsOfB = requests.filter { $0.json?["entity"] as? String == "B" }.compactMap { request in
                    spans.first { $0.spanID == request.header("traceparent")?.split(separator: "-")[2].description }?.attributes["webhook.attempt"]
                }
                #expect(attemptsOfB == ["1", "2"])
            }
        }
    }

    @Test("a batch is one span with its batch id and message count, a child of its first message's trace")
    func batchSpan() async throws {
        let topic = BridgeTestCluster.unique("tracing-batch")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        try await withReceiver(secret: nil, respond: { _ in .init(status: 200, body: "{}") }) { collector, collectorPort in
            try await withReceiver(secret: nil) { receiver, port in
                let group = try BridgeTestCluster.group()
                var config = try BridgeConfig.parse(yaml: """
                    \(testKafkaAndHTTP(group: group))
                    sites: [{id: c404, token: c404-test-token-0001}]
                    routes: [{source: \(topic), site: c404, topic: order_state_changed}]
                    webhooks: [{id: hook, site: c404, url: "http://127.0.0.1:\(port)/hooks", topics: [order_state_changed], hash_key: batch-key-0123456789, options: {batching: true, batch_linger: 0.3}}]
                    tracing: {otlp_endpoint: "http://127.0.0.1:\(collectorPort)/v1/traces"}
                    """)
                config.http.adminPort = 0
                try await withBridge(config) { _ in
                    let traceparent = "00-\(Self.recordTraceID)-\(Self.recordParentID)-01"
                    try await produce([
                        KafkaOutgoingRecord(topic: topic, key: "A", value: #"{"entity":"A"}"#, headers: [KafkaHeader(key: "traceparent", value: Array(traceparent.utf8))]),
                        KafkaOutgoingRecord(topic: topic, key: "B", value: #"{"entity":"B"}"#),
                        KafkaOutgoingRecord(topic: topic, key: "C", value: #"{"entity":"C"}"#),
                    ])
                    #expect(await receiver.wait(timeout: .seconds(30)) { $0.compactMap { Int($0.header("message_count") ?? "") }.reduce(0, +) == 3 })
                }
                let spans = collector.requests.flatMap { ExportedSpan.decode($0.body) }
                let requests = receiver.requests
                #expect(spans.count == requests.count, "one span per batch request")
                for request in requests {
                    let context = try #require(request.header("traceparent")?.split(separator: "-").map(String.init))
                    let span = try #require(spans.first { $0.spanID == context[2] })
                    #expect(span.attributes["webhook.batch_id"] == request.header("batch_id"))
                    #expect(span.attributes["webhook.message_count"] == request.header("message_count"))
                    #expect(span.attributes["webhook.message_id"] == nil)
                    let messages = try #require(request.json?["messages"] as? [[String: Any]])
                    if (messages.first?["data"] as? [String: Any])?["entity"] as? String == "A" {
                        #expect(span.traceID == Self.recordTraceID && span.parentSpanID == Self.recordParentID, "the batch follows its first message")
                    }
                }
            }
        }
    }

    @Test("OTEL_* settings swift-otel would stop the process for turn tracing off, logged; the bridge goes on")
    func unsupportedEnvironment() {
        let cases: [([String: String], refused: Bool)] = [
            ([:], false),
            (["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"], true),
            (["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"], true),
            (["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"], false),
            (["OTEL_PROPAGATORS": "tracecontext,baggage"], true),
            (["OTEL_PROPAGATORS": "b3"], true),
            (["OTEL_PROPAGATORS": "tracecontext"], false),
            (["OTEL_PROPAGATORS": "none,b3"], false),
            // Not a list swift-otel reads (a space, an unknown name): it ignores the whole value.
            (["OTEL_PROPAGATORS": "tracecontext, baggage"], false),
            (["OTEL_PROPAGATORS": "tracecontext,baggage,datadog"], false),
            (["OTEL_TRACES_SAMPLER": "xray"], true),
            (["OTEL_TRACES_SAMPLER": "parentbased_always_on"], false),
        ]
        for (environment, refused) in cases {
            #expect((TraceExport.unsupportedSetting(in: environment) != nil) == refused, "\(environment)")
        }
        var logger = BridgeTestCluster.logger
        logger.logLevel = .critical
        let settings = BridgeConfig.TracingSettings(otlpEndpoint: "http://127.0.0.1:4318")
        #expect(TraceExport.start(settings, environment: ["OTEL_PROPAGATORS": "tracecontext,baggage"], logger: logger) == nil)
    }

    @Test("tracing.otlp_endpoint: null by default, an absolute http(s) URL otherwise; spans go to its /v1/traces unless it has a path")
    func endpointSetting() throws {
        #expect(try BridgeConfig.parse(yaml: "{}").tracing.otlpEndpoint == nil)
        #expect(try BridgeConfig.parse(yaml: "tracing: {otlp_endpoint: null}").tracing.otlpEndpoint == nil)
        for (given, traces) in [
            ("http://otel-collector:4318", "http://otel-collector:4318/v1/traces"),
            ("https://otel.example.com/", "https://otel.example.com/v1/traces"),
            ("http://127.0.0.1:4318/custom/traces", "http://127.0.0.1:4318/custom/traces"),
        ] {
            #expect(try BridgeConfig.parse(yaml: "tracing: {otlp_endpoint: \"\(given)\"}").tracing.tracesURL == traces)
        }
        for wrong in ["otel-collector:4318", "grpc://otel:4317", "/v1/traces", "http://"] {
            #expect(throws: ConfigError(path: "tracing.otlp_endpoint", problem: "not an absolute http(s) URL")) {
                try BridgeConfig.parse(yaml: "tracing: {otlp_endpoint: \"\(wrong)\"}")
            }
        }
        #expect(throws: ConfigError.self) { try BridgeConfig.parse(yaml: "tracing: {endpoint: http://otel:4318}") }
        #expect(ConfigReloader.changedKeys(from: "tracing: {otlp_endpoint: null}", to: "tracing: {otlp_endpoint: http://otel:4318}") == ["tracing"])
    }
}
