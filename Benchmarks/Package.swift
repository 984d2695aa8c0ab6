// swift-tools-version: 6.1
import PackageDescription

// The benchmarks, a package of their own so that the product and `make test` neither depend on
// package-benchmark nor build any of this (issue 17):
//   WebhookMicroBenchmarks (package-benchmark: routing, signing, batch and CloudEvents bodies, Avro)
//   LeanHTTPClient (a prototype HTTP/1.1 client on SwiftNIO's codecs, measured against AsyncHTTPClient)
//   webhook-bridge-bench (the end-to-end bench around nginx, wrk and the Python forwarder, and the
//   HTTP client comparison)
let package = Package(
    name: "webhook-bridge-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "webhook-bridge", path: ".."),
        // The malloc interposer counts allocations; its other default trait (an ARC runtime
        // interposer) is a package this machine's mirror does not have.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        .executableTarget(
            name: "WebhookMicroBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "WebhookDomain", package: "webhook-bridge"),
                .product(name: "Avro", package: "webhook-bridge"),
            ],
            path: "Benchmarks/WebhookMicroBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .target(
            name: "LeanHTTPClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "webhook-bridge-bench",
            dependencies: [
                "LeanHTTPClient",
                .product(name: "WebhookBridge", package: "webhook-bridge"),
                .product(name: "WebhookBridgeTools", package: "webhook-bridge"),
                .product(name: "Kafka", package: "webhook-bridge"),
                .product(name: "WebhookDomain", package: "webhook-bridge"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
