import AsyncHTTPClient
import Foundation
import LeanHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import WebhookDomain

/// Issue 17 item 3: what a request costs the client process with AsyncHTTPClient (configured and
/// called as `Delivery/WebhookHTTPClient.swift` does) and with the lean client prototype, each
/// driven from tasks (as the delivery lanes are today) and from futures chained on the event loops
/// (no task hop per request). Each run sends the same signed webhook request to nginx.
final class HTTPClientComparison: Sendable {
    enum Client: String, CaseIterable, Sendable {
        case asyncHTTPClientTasks = "AsyncHTTPClient, awaited in tasks (as the bridge)"
        case asyncHTTPClientLoops = "AsyncHTTPClient, chained on the event loops"
        case leanTasks = "lean client, awaited in tasks"
        case leanLoops = "lean client, chained on the event loops"
    }

    /// One measured run.
    struct Sample: Sendable {
        var requestsPerSecond: Double
        /// This process's CPU time (all threads, user and system; getrusage) per request.
        var clientMicroseconds: Double
        /// nginx's (master and worker, /proc) per request.
        var nginxMicroseconds: Double
    }

    struct Result: Sendable {
        var client: Client
        var inFlight: Int
        var samples: [Sample]

        func median(_ figure: (Sample) -> Double) -> Double {
            let sorted = samples.map(figure).sorted()
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let nginx: BenchProcesses.Running
    private let url: String
    private let endpoint: LeanHTTPClient.Endpoint
    private let asyncHTTPClient: HTTPClient
    private let lean = LeanHTTPClient()
    /// A signed webhook request as the bridge makes one: built once, so signing is not measured.
    private let request: WebhookRequest

    init(port: Int, nginx: BenchProcesses.Running) {
        self.nginx = nginx
        url = "http://127.0.0.1:\(port)/hooks"
        endpoint = LeanHTTPClient.Endpoint(host: "127.0.0.1", port: port)
        // WebhookHTTPClient's configuration.
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5)), decompression: .disabled)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        asyncHTTPClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        request = Self.signedRequest(url: url)
    }

    /// A 600-byte order event, signed with `hmac`, and the bridge's headers.
    static func signedRequest(url: String) -> WebhookRequest {
        let payload = #"{"order_id":"ORD-2026-000184467","date":1764670000123,"old_state":"packed","new_state":"shipped","customer":{"id":"C-88412","email":"jane.doe@example.com"},"currency":"EUR","total":"184.70","lines":[{"sku":"SKU-100231","quantity":2,"price":"49.90"},{"sku":"SKU-100877","quantity":1,"price":"59.90"},{"sku":"SKU-204410","quantity":1,"price":"25.00"}],"carrier":"DHL","tracking_number":"00340434161094042557","warehouse":"FRA-2","shipping_address":{"street":"Hauptstrasse 12","city":"Frankfurt am Main","postal_code":"60311","country":"DE"},"sequence":184467}"#
        let message = RoutedMessage(
            siteID: "bench", topic: WebhookTopic(name: "order_state_changed", ordered: true), messageID: "2f1c7a52-6a3e-4d0b-9b51-0c8f3a1e5d27",
            sequence: "3-184467", entity: Array("ORD-2026-000184467".utf8), payload: Array(payload.utf8), sourcePartition: 3, sourceOffset: 184_467)
        let webhook = Webhook(id: "bench", siteID: "bench", url: url, topics: ["order_state_changed"], hashKeys: [HashKey("bench-hash-key-0123")])
        return WebhookRequest.single(message, to: webhook, timestamp: 1_764_670_000)
    }

    /// Every client at every concurrency once untimed (connections opened), then `runs` rounds of
    /// all of them in turn, so a noisy moment of the shared machine falls on all alike.
    func run(requests: Int, runs: Int, inFlight: [Int], progress: (String) -> Void) async throws -> [Result] {
        for concurrency in inFlight {
            for client in Client.allCases { _ = try await measure(client, inFlight: concurrency, requests: min(requests, 2_000)) }
        }
        var results = inFlight.flatMap { concurrency in Client.allCases.map { Result(client: $0, inFlight: concurrency, samples: []) } }
        for round in 1...runs {
            for index in results.indices {
                let sample = try await measure(results[index].client, inFlight: results[index].inFlight, requests: requests)
                results[index].samples.append(sample)
                progress(
                    String(
                        format: "run %d, %d in flight, %@: %.0f requests/s, %.1f µs CPU per request (nginx %.1f µs)", round, results[index].inFlight,
                        results[index].client.rawValue, sample.requestsPerSecond, sample.clientMicroseconds, sample.nginxMicroseconds))
            }
        }
        return results
    }

    func shutdown() async {
        await lean.shutdown()
        try? await asyncHTTPClient.shutdown()
    }

    private func measure(_ client: Client, inFlight: Int, requests: Int) async throws -> Sample {
        let nginxBefore = nginx.cpuSecondsWithChildren ?? 0
        let cpuBefore = BenchProcesses.Running.ownCPUSeconds
        let start = ContinuousClock.now
        let refused: Int
        switch client {
        case .asyncHTTPClientTasks: refused = try await Self.fromTasks(requests: requests, inFlight: inFlight) { try await self.sendAsyncHTTPClient() }
        case .asyncHTTPClientLoops: refused = try await Self.onLoops(requests: requests, inFlight: inFlight) { self.sendAsyncHTTPClient(on: $0) }
        case .leanTasks:
            refused = try await Self.fromTasks(requests: requests, inFlight: inFlight) {
                Int(try await self.lean.execute(self.leanRequest(), on: MultiThreadedEventLoopGroup.singleton.next(), deadline: Self.deadline()).get().status.code)
            }
        case .leanLoops: refused = try await Self.onLoops(requests: requests, inFlight: inFlight) { self.lean.execute(self.leanRequest(), on: $0, deadline: Self.deadline()) }
        }
        let seconds = (ContinuousClock.now - start).seconds
        let cpu = BenchProcesses.Running.ownCPUSeconds - cpuBefore
        let nginxCPU = (nginx.cpuSecondsWithChildren ?? 0) - nginxBefore
        guard refused == 0 else { throw Failure(description: "\(client.rawValue): \(refused) of \(requests) responses were not 202") }
        return Sample(
            requestsPerSecond: Double(requests) / seconds, clientMicroseconds: cpu / Double(requests) * 1e6, nginxMicroseconds: nginxCPU / Double(requests) * 1e6)
    }

    /// The site's default ack timeout, as the bridge's deadline.
    private static func deadline() -> NIODeadline { .now() + .seconds(15) }

    // MARK: AsyncHTTPClient, as WebhookHTTPClient calls it

    private func asyncHTTPClientRequest() throws -> HTTPClient.Request {
        var headers = HTTPHeaders()
        for header in request.headers { headers.add(name: header.name, value: header.value) }
        return try HTTPClient.Request(url: request.url, method: HTTPMethod(rawValue: request.method), headers: headers, body: request.body.map { .bytes($0) })
    }

    private func sendAsyncHTTPClient() async throws -> Int {
        let task = asyncHTTPClient.execute(request: try asyncHTTPClientRequest(), delegate: ResponseHeadDelegate(), deadline: Self.deadline())
        let head = try await withTaskCancellationHandler { try await task.futureResult.get() } onCancel: { task.cancel() }
        return Int(head.status.code)
    }

    private func sendAsyncHTTPClient(on loop: any EventLoop) -> EventLoopFuture<HTTPResponseHead> {
        do {
            return asyncHTTPClient.execute(
                request: try asyncHTTPClientRequest(), delegate: ResponseHeadDelegate(), eventLoop: .delegateAndChannel(on: loop), deadline: Self.deadline()
            ).futureResult
        } catch {
            return loop.makeFailedFuture(error)
        }
    }

    // MARK: The lean client

    /// The same per-request work as for AsyncHTTPClient (headers and body copied), but the
    /// endpoint is parsed once, as a webhook's would be.
    private func leanRequest() -> LeanHTTPClient.Request {
        var headers = HTTPHeaders()
        for header in request.headers { headers.add(name: header.name, value: header.value) }
        return LeanHTTPClient.Request(endpoint: endpoint, path: "/hooks", headers: headers, body: request.body.map { ByteBuffer(bytes: $0) })
    }

    // MARK: Drivers

    /// `inFlight` tasks, each sending its share one request at a time: the count not answered 202.
    private static func fromTasks(requests: Int, inFlight: Int, send: @escaping @Sendable () async throws -> Int) async throws -> Int {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for lane in 0..<inFlight {
                let share = requests / inFlight + (lane < requests % inFlight ? 1 : 0)
                group.addTask {
                    var refused = 0
                    for _ in 0..<share {
                        if try await send() != 202 { refused += 1 }
                    }
                    return refused
                }
            }
            return try await group.reduce(0, +)
        }
    }

    /// `inFlight` lanes spread over the event loops, each sending its next request from the
    /// previous one's completion, on its loop: the count not answered 202.
    private static func onLoops(
        requests: Int, inFlight: Int, send: @escaping @Sendable (any EventLoop) -> EventLoopFuture<HTTPResponseHead>
    ) async throws -> Int {
        var lanes: [EventLoopFuture<Int>] = []
        for lane in 0..<inFlight {
            let share = requests / inFlight + (lane < requests % inFlight ? 1 : 0)
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            let done = loop.makePromise(of: Int.self)
            loop.execute {
                func next(_ remaining: Int, refused: Int) {
                    guard remaining > 0 else { return done.succeed(refused) }
                    send(loop).assumeIsolated().whenComplete { result in
                        switch result {
                        case .success(let head): next(remaining - 1, refused: refused + (head.status.code == 202 ? 0 : 1))
                        case .failure(let error): done.fail(error)
                        }
                    }
                }
                next(share, refused: 0)
            }
            lanes.append(done.futureResult)
        }
        var refused = 0
        for lane in lanes { refused += try await lane.get() }
        return refused
    }

    /// Medians of the runs, as a Markdown table.
    static func table(_ results: [Result]) -> String {
        var lines = [
            "| client | in flight | requests/s | client CPU per request (runs' range) | nginx CPU per request | client CPU ÷ AsyncHTTPClient's (as the bridge) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for result in results {
            let baseline = results.first { $0.inFlight == result.inFlight && $0.client == .asyncHTTPClientTasks }?.median(\.clientMicroseconds)
            let cpu = result.median(\.clientMicroseconds)
            let runs = result.samples.map(\.clientMicroseconds)
            lines.append(
                String(
                    format: "| %@ | %d | %.0f | %.1f µs (%.1f–%.1f) | %.1f µs | %@ |", result.client.rawValue, result.inFlight, result.median(\.requestsPerSecond),
                    cpu, runs.min() ?? 0, runs.max() ?? 0, result.median(\.nginxMicroseconds), baseline.map { String(format: "%.2f", cpu / $0) } ?? ""))
        }
        return lines.joined(separator: "\n")
    }
}

/// Keeps a response's head and drops its body, as the bridge's delegate does.
private final class ResponseHeadDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
    private var head: HTTPResponseHead?

    func didReceiveHead(task: HTTPClient.Task<HTTPResponseHead>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        self.head = head
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<HTTPResponseHead>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<HTTPResponseHead>) throws -> HTTPResponseHead {
        guard let head else { throw HTTPClientError.remoteConnectionClosed }
        return head
    }
}
