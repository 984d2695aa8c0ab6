import Avro
import Benchmark
import WebhookDomain

// The per-message work of a delivery, without I/O: routing a record, signing, building a single,
// a batch and a CloudEvents request, and decoding an Avro value. Run with `make microbench`;
// figures in docs/benchmarks.md.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000)

    Benchmark("route an order event (JSON, fixed site and topic)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(Fixtures.router.route(Fixtures.record)) }
    }
    Benchmark("sign: hmac, one key, 600-byte body") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(WebhookSignature.hmac(keys: Fixtures.webhook.hashKeys, timestamp: Fixtures.timestamp, body: Fixtures.event))
        }
    }
    Benchmark("sign: standard, one key, 600-byte body") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(WebhookSignature.standard(keys: Fixtures.webhook.hashKeys, id: Fixtures.message.messageID, timestamp: Fixtures.timestamp, body: Fixtures.event))
        }
    }
    Benchmark("request: single, hmac") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(WebhookRequest.single(Fixtures.message, to: Fixtures.webhook, timestamp: Fixtures.timestamp)) }
    }
    Benchmark("request: single, CloudEvents, hmac") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(WebhookRequest.single(Fixtures.message, to: Fixtures.cloudEventsWebhook, timestamp: Fixtures.timestamp))
        }
    }
    Benchmark("request: batch of 30, hmac", configuration: .init(scalingFactor: .one)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(WebhookRequest.batch(Fixtures.batch, to: Fixtures.webhook, timestamp: Fixtures.timestamp)) }
    }
    Benchmark("Avro: decode an order record to JSON") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try Fixtures.avroDecoder.json(from: Fixtures.avroOrder)) }
    }
}
