import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import WebhookDomain

/// What one HTTP attempt came to, before the site's ack rules judge it.
public struct HTTPAttemptResult: Sendable {
    /// Each failure has its kind, the words everyone may see, and the HTTP client's own `detail`,
    /// which may name the host and its addresses: for the operator's log line only.
    public enum Failure: Sendable, Equatable {
        case timeout
        case connection(FailureText, detail: String)
        case tls(FailureText, detail: String)
        case refusedDestination(detail: String)
    }

    /// The response status, if a response arrived in time.
    public var status: Int?
    /// `Retry-After` of the response, in seconds, if it had one.
    public var retryAfter: Duration?
    public var failure: Failure?
    public var latency: Duration

    /// A label-safe outcome for logs and metrics.
    public var outcomeLabel: String {
        if let status { return "status_\(status)" }
        switch failure {
        case .timeout: return "timeout"
        case .connection: return "connection_error"
        case .tls: return "tls_error"
        case .refusedDestination: return "refused_destination"
        case nil: return "unknown"
        }
    }

    /// The failure as it is kept and shown (`last_error`, alerts, the attempts topic, the log
    /// line's `error`): its kind or the HTTP status, never a host, an address or a URL
    /// (DESIGN.md §10).
    public var failureDescription: String {
        if let status { return FailureText.status(status) }
        switch failure {
        case .timeout: return FailureText.timeout.rawValue
        case .connection(let kind, _), .tls(let kind, _): return kind.rawValue
        case .refusedDestination: return FailureText.privateDestination.rawValue
        case nil: return FailureText.deliveryError.rawValue
        }
    }

    /// The failure in the HTTP client's own words, for the operator's log line only: it may name
    /// the host and the addresses it resolved to.
    public var failureDetail: String {
        switch failure {
        case .connection(_, let detail), .tls(_, let detail), .refusedDestination(let detail): return detail
        case .timeout, nil: return failureDescription
        }
    }
}

/// The HTTP client of the deliveries (AsyncHTTPClient): redirects are not followed (a 3xx is a
/// failed delivery), every request has a deadline for its whole response, response bodies are
/// read and discarded. Where private destinations are refused, each request goes to an address
/// its host was checked to resolve to (`ResolvedDestinationCheck`, `PinnedClients`).
/// `shutdown()` must be called.
public final class WebhookHTTPClient: Sendable {
    private let client: HTTPClient
    /// Nil when private destinations are allowed.
    private let destinationCheck: ResolvedDestinationCheck?
    private let pinnedClients: PinnedClients

    /// With `allowPrivateDestinations` false, a request whose host is or resolves to a private
    /// address is not sent (a `refusedDestination` failure).
    public convenience init(maxConnectionsPerHost: Int = 64, allowPrivateDestinations: Bool = true) {
        self.init(maxConnectionsPerHost: maxConnectionsPerHost, destinationCheck: allowPrivateDestinations ? nil : ResolvedDestinationCheck())
    }

    init(maxConnectionsPerHost: Int = 64, destinationCheck: ResolvedDestinationCheck?) {
        self.destinationCheck = destinationCheck
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5)),
            decompression: .disabled)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = maxConnectionsPerHost
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        pinnedClients = PinnedClients(configuration: configuration)
    }

    /// Sends a request and waits at most `timeout` for the status line and body. `abort` cuts it
    /// short from outside (the result is then a failure the caller disregards).
    public func send(_ request: WebhookRequest, timeout: Duration) async -> HTTPAttemptResult {
        await send(request, timeout: timeout, abort: nil)
    }

    func send(_ request: WebhookRequest, timeout: Duration, abort: RequestAbort?) async -> HTTPAttemptResult {
        let start = ContinuousClock.now
        // TimeAmount(_:) and NIODeadline's + clamp, so no timeout from a site record can trap here.
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        // Without a host the HTTP client reports the URL as invalid.
        guard let destinationCheck, let host = URLComponents(string: request.url)?.host, !host.isEmpty else {
            return await send(request, with: client, deadline: deadline, start: start, abort: abort)
        }
        switch await destinationCheck.verdict(on: host) {
        case .approved(address: nil):
            return await send(request, with: client, deadline: deadline, start: start, abort: abort)
        case .approved(let address?):
            return await pinnedClients.withClient(host: host, address: address) { await send(request, with: $0, deadline: deadline, start: start, abort: abort) }
        case .refused(let problem):
            return HTTPAttemptResult(status: nil, retryAfter: nil, failure: .refusedDestination(detail: problem), latency: ContinuousClock.now - start)
        case .unresolved:
            return HTTPAttemptResult(
                status: nil, retryAfter: nil, failure: .connection(.hostNotFound, detail: "\(host) has no address"), latency: ContinuousClock.now - start)
        }
    }

    private func send(
        _ request: WebhookRequest, with client: HTTPClient, deadline: NIODeadline, start: ContinuousClock.Instant, abort: RequestAbort?
    ) async -> HTTPAttemptResult {
        do {
            var headers = HTTPHeaders()
            for header in request.headers { headers.add(name: header.name, value: header.value) }
            let outgoing = try HTTPClient.Request(
                url: request.url, method: HTTPMethod(rawValue: request.method), headers: headers, body: request.body.map { .bytes($0) })
            // The delegate API's deadline covers the whole response, body included (the async
            // API's covers the head only): a receiver that sends its head in time and dribbles
            // its body past the ack timeout has not acknowledged in time (DESIGN.md §5).
            // A cancelled task (a revocation or a shutdown cutting the request short) cancels it.
            let task = client.execute(request: outgoing, delegate: ResponseHeadDelegate(), deadline: deadline)
            abort?.onAbort { task.cancel() }
            let head = try await withTaskCancellationHandler { try await task.futureResult.get() } onCancel: { task.cancel() }
            return HTTPAttemptResult(
                status: Int(head.status.code), retryAfter: Self.retryAfter(head.headers.first(name: "Retry-After")), failure: nil,
                latency: ContinuousClock.now - start)
        } catch {
            return HTTPAttemptResult(status: nil, retryAfter: nil, failure: Self.classify(error), latency: ContinuousClock.now - start)
        }
    }

    public func shutdown() async {
        await pinnedClients.shutdown()
        try? await client.shutdown()
    }

    /// The failure an error from the HTTP client stands for: its kind from the error's type and
    /// errno where the client gives them, else from its words; its words as the detail.
    static func classify(_ error: any Error) -> HTTPAttemptResult.Failure {
        let text = String(describing: error)
        let detail = text.count > 300 ? String(text.prefix(300)) : text
        let kind = kind(of: error)
        switch kind {
        case .timeout: return .timeout
        case .tlsHandshakeFailed, .tlsCertificateRejected: return .tls(kind, detail: detail)
        default: return .connection(kind, detail: detail)
        }
    }

    static func kind(of error: any Error) -> FailureText {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout: return .timeout
            case .connectTimeout: return .connectTimeout
            case .remoteConnectionClosed: return .connectionClosed
            default: break
            }
        }
        if let error = error as? NIOConnectionError {
            if error.dnsAError != nil || error.dnsAAAAError != nil, error.connectionErrors.isEmpty { return .hostNotFound }
            // Every address failed: the first one's reason stands for them.
            if let first = error.connectionErrors.first { return kind(of: first.error) }
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return .connectionRefused
            case ECONNRESET, EPIPE: return .connectionReset
            case ETIMEDOUT: return .connectTimeout
            case EHOSTUNREACH, ENETUNREACH: return .hostUnreachable
            default: return .connectionError
            }
        }
        let words = String(describing: error).lowercased()
        if error is NIOSSLError || error is BoringSSLError || ["ssl", "tls", "certificate", "handshake"].contains(where: words.contains) {
            return words.contains("certificate") ? .tlsCertificateRejected : .tlsHandshakeFailed
        }
        if words.contains("connection refused") { return .connectionRefused }
        if words.contains("connection reset") || words.contains("broken pipe") { return .connectionReset }
        if words.contains("dns") || words.contains("nodename nor servname") || words.contains("name or service not known") { return .hostNotFound }
        return .connectionError
    }

    /// `Retry-After` as seconds or an HTTP date.
    static func retryAfter(_ value: String?) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds >= 0 { return DurationText.seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return DurationText.seconds(max(0, date.timeIntervalSinceNow))
    }
}

/// Keeps a response's head and drops its body (read to the end, so the connection can be reused).
/// AsyncHTTPClient calls it on the request's event loop, one call at a time.
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
