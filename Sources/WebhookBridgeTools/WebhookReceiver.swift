import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Waiting
import WebhookDomain

/// A webhook receiver on loopback: records every request with its signature verdict and answers
/// with whatever `respond` decides. Used by the demo, by tests as a scripted receiver, and by
/// the `sink` command.
public final class WebhookReceiver: Sendable {
    public struct Received: Sendable {
        public var method: String
        public var uri: String
        public var headers: [String: String]
        public var body: [UInt8]
        public var receivedAt: Date
        /// Verdict of the `X-Webhook-Signature` header against the receiver's secret.
        public var hmacVerdict: WebhookSignature.Verdict
        /// Verdict of the Standard Webhooks headers against the receiver's secret.
        public var standardVerdict: WebhookSignature.Verdict
        /// The status the receiver answered with.
        public var answeredStatus = 0

        public func header(_ name: String) -> String? { headers[name.lowercased()] }

        /// The signed bytes: the body, or for GET the `payload` query parameter.
        public var signedPayload: [UInt8] {
            if !body.isEmpty { return body }
            let value = URLComponents(string: uri)?.queryItems?.first { $0.name == "payload" }?.value
            return Array((value ?? "").utf8)
        }

        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(signedPayload))) as? [String: Any]
        }
    }

    /// How to answer a request: a status, after an optional delay.
    public struct Answer: Sendable {
        public var status: Int
        public var delay: Duration
        /// A JSON body to answer with (tests use the receiver as a stand-in for other services).
        public var body: String?
        /// Extra response headers (a test's `Retry-After`).
        public var headers: [String: String]
        public init(status: Int = 202, delay: Duration = .zero, body: String? = nil, headers: [String: String] = [:]) {
            self.status = status
            self.delay = delay
            self.body = body
            self.headers = headers
        }
    }

    private let secret: HashKey?
    private let respond: @Sendable (Received) async -> Answer
    private let received = Waitable<[Received]>([])
    private let port = Waitable<Int?>(nil)
    private let logger: Logger

    public init(secret: HashKey?, logger: Logger, respond: @escaping @Sendable (Received) async -> Answer = { _ in Answer() }) {
        self.secret = secret
        self.respond = respond
        self.logger = logger
    }

    /// Everything received so far, in arrival order.
    public var requests: [Received] { received.value }

    /// Waits until `condition` holds for what was received, re-checking at each arrival; gives up
    /// after `timeout` and returns false.
    public func wait(timeout: Duration, until condition: @escaping @Sendable ([Received]) -> Bool) async -> Bool {
        await received.wait(until: condition, timeout: timeout)
    }

    /// The bound port, once the server runs.
    public func boundPort() async -> Int {
        await port.wait { $0 } ?? 0
    }

    /// The server as a service, on `host:port` (port 0 picks a free one).
    public func service(host: String = "127.0.0.1", port: Int = 0) -> some Service {
        application(server: .http1(), host: host, port: port)
    }

    /// The server over HTTPS (with `tls`'s certificate, and its client certificate checks).
    public func service(host: String = "127.0.0.1", port: Int = 0, tls: TLSConfiguration) throws -> some Service {
        application(server: try .tls(.http1(), tlsConfiguration: tls), host: host, port: port)
    }

    private func application(server: HTTPServerBuilder, host: String, port requestedPort: Int) -> some Service {
        // Every method and path lands in `handle`.
        Application(
            responder: CallbackResponder { (request, _: BasicRequestContext) in try await self.handle(request) },
            server: server,
            configuration: .init(address: .hostname(host, port: requestedPort), serverName: "webhook-receiver"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? 0
                self.port.withLock { $0 = bound }
            },
            logger: logger)
    }

    private func handle(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 16 * 1024 * 1024)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        // HTTP/1's Host header arrives as the request's authority.
        if let authority = request.head.authority { headers["host"] = authority }
        var entry = Received(
            method: request.method.rawValue, uri: request.uri.description, headers: headers, body: Array(buffer: body), receivedAt: Date(),
            hmacVerdict: .missing, standardVerdict: .missing)
        if let secret {
            entry.hmacVerdict = WebhookSignature.verifyHMAC(header: entry.header("x-webhook-signature"), secret: secret, body: entry.signedPayload)
            entry.standardVerdict = WebhookSignature.verifyStandard(
                id: entry.header("webhook-id"), timestamp: entry.header("webhook-timestamp"), signature: entry.header("webhook-signature"),
                secret: secret, body: entry.signedPayload)
        }
        let answer = await respond(entry)
        entry.answeredStatus = answer.status
        received.withLock { $0.append(entry) }
        if answer.delay > .zero { try? await Task.sleep(for: answer.delay) }
        var response = Response(status: .init(code: answer.status))
        if let body = answer.body {
            response = Response(status: .init(code: answer.status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        // The names come from the code that scripts the receiver (a test): a bad one is its mistake.
        for (name, value) in answer.headers { response.headers[.init(name)!] = value }
        return response
    }
}
