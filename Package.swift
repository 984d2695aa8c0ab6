// swift-tools-version: 6.1
import PackageDescription

// Layers (DESIGN.md §11), each a target that only sees the layers below it:
//   Waiting (the one "wait until" primitive: a value behind a lock that tasks wait on)
//   CLibrdkafka → Kafka (knows nothing of webhooks) → Waiting
//   WebhookDomain (pure: models, routing, signing, no I/O)
//   Avro (pure: writer schemas, Avro binary → JSON, the Schema Registry framing; no dependencies)
//   Delivery (lanes, HTTP client, offset progress, attempt spans through the tracing API) → Kafka, WebhookDomain
//   ControlPlane (the control topic: view and store; admin API) → Kafka, WebhookDomain, Delivery
//   Alerts (SMTP client on SwiftNIO, alert emails and SMS) → WebhookDomain
//   WebhookBridge (config file, service assembly, metrics, the OTLP span exporter) → everything above
//   WebhookBridgeTools (demo, check, sink, receiver) → WebhookBridge and below
//   webhook-bridge (the CLI executable)
// The benchmarks (micro-benchmarks, the end-to-end bench, the HTTP client comparison) are a package
// of their own in Benchmarks/, so neither the product nor `make test` builds them.
let package = Package(
    name: "webhook-bridge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "webhook-bridge", targets: ["webhook-bridge"]),
        // For the benchmarks package (Benchmarks/), which depends on this one by path; nothing
        // else should link them.
        .library(name: "WebhookDomain", targets: ["WebhookDomain"]),
        .library(name: "Avro", targets: ["Avro"]),
        .library(name: "Kafka", targets: ["Kafka"]),
        .library(name: "WebhookBridge", targets: ["WebhookBridge"]),
        .library(name: "WebhookBridgeTools", targets: ["WebhookBridgeTools"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        // Only the OTLP/HTTP exporter (protobuf): the default traits would add OTLP/gRPC and
        // grpc-swift, which the bridge does not use and which would lengthen every clean build.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        .systemLibrary(
            name: "CLibrdkafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .target(
            name: "Waiting",
            dependencies: [.product(name: "DequeModule", package: "swift-collections")]
        ),
        .target(
            name: "Kafka",
            dependencies: [
                "CLibrdkafka",
                "Waiting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "WebhookDomain",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(name: "Avro"),
        .target(
            name: "Delivery",
            dependencies: [
                "Avro",
                "Kafka",
                "Waiting",
                "WebhookDomain",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .target(
            name: "ControlPlane",
            dependencies: [
                "Kafka",
                "Waiting",
                "WebhookDomain",
                "Delivery",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Alerts",
            dependencies: [
                "WebhookDomain",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "WebhookBridge",
            dependencies: [
                "Alerts",
                "ControlPlane",
                "Kafka",
                "WebhookDomain",
                "Delivery",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "OTel", package: "swift-otel"),
            ]
        ),
        .target(
            name: "WebhookBridgeTools",
            dependencies: [
                "WebhookBridge",
                "Waiting",
                "Kafka",
                "WebhookDomain",
                "Delivery",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "webhook-bridge",
            dependencies: [
                "WebhookBridge",
                "WebhookBridgeTools",
                "ControlPlane",
                "Kafka",
                "WebhookDomain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "WaitingTests", dependencies: ["Waiting"]),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka"]),
        .testTarget(name: "WebhookDomainTests", dependencies: ["WebhookDomain"]),
        .testTarget(name: "AvroTests", dependencies: ["Avro"]),
        .testTarget(name: "DeliveryTests", dependencies: ["Delivery", "Kafka", "WebhookDomain"]),
        .testTarget(
            name: "AlertsTests",
            dependencies: [
                "Alerts", "WebhookDomain",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ControlPlaneTests",
            dependencies: [
                "ControlPlane", "Kafka", "Delivery", "WebhookDomain",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(
            name: "WebhookBridgeTests",
            dependencies: [
                "WebhookBridge",
                "WebhookBridgeTools",
                "ControlPlane",
                "Waiting",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                "Kafka",
                "Delivery",
                "WebhookDomain",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
