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
        /// An OAuth 2.0 webhook got no token (`detail`: the token endpoint's answer or error).
        case authorization(detail: String)
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
        case .authorization: return "token_request_failed"
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
        case .authorization: return FailureText.tokenRequestFailed.rawValue
        case nil: return FailureText.deliveryError.rawValue
        }
    }

    /// The failure in the HTTP client's own words, for the operator's log line only: it may name
    /// the host and the addresses it resolved to.
    public var failureDetail: String {
        switch failure {
        case .connection(_, let detail), .tls(_, let detail), .refusedDestination(let detail), .authorization(let detail): return detail
        case .timeout, nil: return failureDescription
        }
    }
}

/// How a webhook's receiver is reached besides its URL: the TLS towards it, the proxy on the way,
/// the OAuth 2.0 client whose token goes with each request.
public struct ReceiverConnection: Sendable, Equatable {
    public var tls: WebhookTLS?
    public var proxy: HTTPProxy?
    public var oauth2: OAuth2Client?

    public init(tls: WebhookTLS? = nil, proxy: HTTPProxy? = nil, oauth2: OAuth2Client? = nil) {
        self.tls = tls
        self.proxy = proxy
        self.oauth2 = oauth2
    }

    public init(webhook: Webhook, site: Site) {
        tls = webhook.tls
        proxy = site.proxy
        if case .oauth2(let client) = webhook.auth { oauth2 = client }
    }

    /// Straight to the URL, with the system's trust store.
    public static let direct = ReceiverConnection()
}

/// The HTTP client of the deliveries: redirects are not followed (a 3xx is a failed delivery),
/// every request has a deadline for its whole response, response bodies are read and discarded.
/// Direct requests go through `DeliveryHTTPClient`; where private destinations are refused, each
/// to an address its host was checked to resolve to (`ResolvedDestinationCheck`). Through a proxy
/// (AsyncHTTPClient, `EgressClients`), the host is checked and the proxy connects to it by name.
/// `shutdown()` must be called.
public final class WebhookHTTPClient: Sendable {
    private let client: DeliveryHTTPClient
    /// Nil when private destinations are allowed.
    private let destinationCheck: ResolvedDestinationCheck?
    private let egressClients: EgressClients
    private let receiverTLS: ReceiverTLS
    let tokens: OAuth2Tokens

    /// With `allowPrivateDestinations` false, a request whose host is or resolves to a private
    /// address is not sent (a `refusedDestination` failure).
    public convenience init(maxConnectionsPerHost: Int = 64, allowPrivateDestinations: Bool = true) {
        self.init(maxConnectionsPerHost: maxConnectionsPerHost, destinationCheck: allowPrivateDestinations ? nil : ResolvedDestinationCheck())
    }

    init(maxConnectionsPerHost: Int = 64, destinationCheck: ResolvedDestinationCheck?, tokens: OAuth2Tokens = OAuth2Tokens()) {
        self.destinationCheck = destinationCheck
        self.tokens = tokens
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5)),
            decompression: .disabled)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = maxConnectionsPerHost
        receiverTLS = ReceiverTLS()
        client = DeliveryHTTPClient(maxConnectionsPerEndpoint: maxConnectionsPerHost, tls: receiverTLS)
        egressClients = EgressClients(configuration: configuration)
    }

    /// Sends a request and waits at most `timeout` for the status line and body. `abort` cuts it
    /// short from outside (the result is then a failure the caller disregards).
    public func send(_ request: WebhookRequest, to connection: ReceiverConnection = .direct, timeout: Duration) async -> HTTPAttemptResult {
        await send(request, to: connection, timeout: timeout, abort: nil)
    }

    /// With OAuth 2.0, the request carries the client's token; a 401 drops it, and the request
    /// goes once more with a new one before the attempt counts as failed.
    func send(_ request: WebhookRequest, to connection: ReceiverConnection, timeout: Duration, abort: RequestAbort?) async -> HTTPAttemptResult {
        let start = ContinuousClock.now
        guard let oauth2 = connection.oauth2 else { return await exchange(request, connection, timeout: timeout, abort: abort).result }
        var (result, token) = await exchange(request, connection, authorizedBy: oauth2, timeout: timeout, abort: abort)
        if result.status == 401, let token {
            tokens.discard(token, of: oauth2)
            (result, _) = await exchange(request, connection, authorizedBy: oauth2, timeout: timeout, abort: abort)
        }
        result.latency = ContinuousClock.now - start
        return result
    }

    /// The request with the client's token (a token request first, unless one is kept); the
    /// token it went with.
    private func exchange(
        _ request: WebhookRequest, _ connection: ReceiverConnection, authorizedBy oauth2: OAuth2Client, timeout: Duration, abort: RequestAbort?
    ) async -> (HTTPAttemptResult, token: String?) {
        switch await tokens.token(for: oauth2, fetch: { await self.requestToken(oauth2, connection, timeout: timeout) }) {
        case .success(let token):
            var authorized = request
            authorized.headers.append(("Authorization", "Bearer \(token)"))
            return (await exchange(authorized, connection, timeout: timeout, abort: abort).result, token)
        case .failure(let error):
            return (HTTPAttemptResult(status: nil, retryAfter: nil, failure: .authorization(detail: error.detail), latency: .zero), nil)
        }
    }

    /// Asks the token endpoint for a token (client credentials, the client's id and secret as
    /// HTTP Basic), through the webhook's proxy and TLS.
    private func requestToken(_ oauth2: OAuth2Client, _ connection: ReceiverConnection, timeout: Duration) async -> Result<OAuth2Tokens.Grant, TokenRequestError> {
        let request = WebhookRequest(
            method: "POST", url: oauth2.tokenURL,
            headers: [("Authorization", oauth2.basicAuthorization), ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
            body: Array(oauth2.requestBody.utf8))
        let (result, body) = await exchange(request, connection, timeout: timeout, abort: nil, keepingBodyUpTo: 64 * 1024)
        guard let status = result.status else { return .failure(TokenRequestError(detail: "token endpoint: \(result.failureDetail)")) }
        guard status == 200 else { return .failure(TokenRequestError(detail: "token endpoint answered HTTP \(status)")) }
        guard let grant = OAuth2Tokens.grant(from: body) else { return .failure(TokenRequestError(detail: "token endpoint's answer has no bearer access_token")) }
        return .success(grant)
    }

    /// One request and its response: to a checked address, or through the proxy, with the
    /// receiver's TLS; up to `keepingBodyUpTo` bytes of the response body kept.
    private func exchange(
        _ request: WebhookRequest, _ connection: ReceiverConnection, timeout: Duration, abort: RequestAbort?, keepingBodyUpTo bodyLimit: Int = 0
    ) async -> (result: HTTPAttemptResult, body: [UInt8]) {
        let start = ContinuousClock.now
        // TimeAmount(_:) and NIODeadline's + clamp, so no timeout from a site record can trap here.
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let failed = { (failure: HTTPAttemptResult.Failure) in
            (HTTPAttemptResult(status: nil, retryAfter: nil, failure: failure, latency: ContinuousClock.now - start), [UInt8]())
        }
        if let proxy = connection.proxy {
            // Without a host the HTTP client reports the URL as invalid.
            if let host = URLComponents(string: request.url)?.host, !host.isEmpty, case .refused(let failure) = await checkedAddress(of: host) {
                return failed(failure)
            }
            var tls: TLSConfiguration?
            if let receiverTLS = connection.tls {
                do { tls = try self.receiverTLS.configuration(for: receiverTLS) } catch { return failed(.tls(.tlsHandshakeFailed, detail: "\(error)")) }
            }
            return await egressClients.withClient(proxy) { client in
                await self.send(request, with: client, tls: tls, deadline: deadline, start: start, abort: abort, bodyLimit: bodyLimit)
            }
        }
        var outgoing: DeliveryRequest
        do { outgoing = try DeliveryRequest(request, address: nil, tls: connection.tls) } catch { return failed(Self.classify(error)) }
        switch await checkedAddress(of: outgoing.endpoint.host) {
        case .connect(let address): outgoing.endpoint.address = address
        case .refused(let failure): return failed(failure)
        }
        do {
            let response = try await client.execute(outgoing, deadline: deadline, bodyLimit: bodyLimit, abort: abort)
            let result = HTTPAttemptResult(
                status: Int(response.head.status.code), retryAfter: Self.retryAfter(response.head.headers.first(name: "Retry-After")), failure: nil,
                latency: ContinuousClock.now - start)
            return (result, response.body)
        } catch {
            return failed(Self.classify(error))
        }
    }

    /// The address to connect `host` to: nil when private destinations are allowed (or `host` is
    /// a literal address), else the one the check approved, or why there is none.
    private func checkedAddress(of host: String) async -> CheckedAddress {
        guard let destinationCheck else { return .connect(nil) }
        switch await destinationCheck.verdict(on: host) {
        case .approved(let address): return .connect(address)
        case .refused(let problem): return .refused(.refusedDestination(detail: problem))
        case .unresolved: return .refused(.connection(.hostNotFound, detail: "\(host) has no address"))
        }
    }

    private enum CheckedAddress {
        case connect(String?)
        case refused(HTTPAttemptResult.Failure)
    }

    /// A request through a proxy (AsyncHTTPClient).
    private func send(
        _ request: WebhookRequest, with client: HTTPClient, tls: TLSConfiguration?, deadline: NIODeadline, start: ContinuousClock.Instant,
        abort: RequestAbort?, bodyLimit: Int
    ) async -> (HTTPAttemptResult, [UInt8]) {
        do {
            var headers = HTTPHeaders()
            for header in request.headers { headers.add(name: header.name, value: header.value) }
            let outgoing = try HTTPClient.Request(
                url: request.url, method: HTTPMethod(rawValue: request.method), headers: headers, body: request.body.map { .bytes($0) },
                tlsConfiguration: tls)
            // The delegate API's deadline covers the whole response, body included (the async
            // API's covers the head only): a receiver that sends its head in time and dribbles
            // its body past the ack timeout has not acknowledged in time (DESIGN.md §5).
            // A cancelled task (a revocation or a shutdown cutting the request short) cancels it.
            let task = client.execute(request: outgoing, delegate: ResponseDelegate(bodyLimit: bodyLimit), deadline: deadline)
            abort?.onAbort { task.cancel() }
            let (head, body) = try await withTaskCancellationHandler { try await task.futureResult.get() } onCancel: { task.cancel() }
            let result = HTTPAttemptResult(
                status: Int(head.status.code), retryAfter: Self.retryAfter(head.headers.first(name: "Retry-After")), failure: nil,
                latency: ContinuousClock.now - start)
            return (result, body)
        } catch {
            return (HTTPAttemptResult(status: nil, retryAfter: nil, failure: Self.classify(error), latency: ContinuousClock.now - start), [])
        }
    }

    public func shutdown() async {
        await egressClients.shutdown()
        await client.shutdown()
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
        if let error = error as? DeliveryHTTPClient.Failure {
            switch error {
            case .deadlineExceeded: return .timeout
            case .connectTimeout: return .connectTimeout
            case .connectionClosed: return .connectionClosed
            case .invalidURL, .cancelled, .shutDown: return .connectionError
            }
        }
        switch error as? ChannelError {
        case .connectTimeout: return .connectTimeout
        case .ioOnClosedChannel, .eof, .outputClosed: return .connectionClosed
        default: break
        }
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

/// Keeps a response's head and the first `bodyLimit` bytes of its body, and drops the rest (read
/// to the end, so the connection can be reused). AsyncHTTPClient calls it on the request's event
/// loop, one call at a time.
private final class ResponseDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = (HTTPResponseHead, [UInt8])

    private let bodyLimit: Int
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []

    init(bodyLimit: Int) { self.bodyLimit = bodyLimit }

    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        self.head = head
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        if body.count < bodyLimit { body += buffer.readableBytesView.prefix(bodyLimit - body.count) }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
        guard let head else { throw HTTPClientError.remoteConnectionClosed }
        return (head, body)
    }
}
