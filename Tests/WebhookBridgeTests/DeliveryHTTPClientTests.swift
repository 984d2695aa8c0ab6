import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Testing
import WebhookDomain

@testable import Delivery

/// The direct deliveries' HTTP client against a scripted server: keep-alive reuse, closes after
/// `Connection: close` and after a deadline mid-body, the cap of connections per endpoint, a
/// pinned address with the name in the Host header, SNI and the certificate check.
@Suite("Delivery HTTP client")
struct DeliveryHTTPClientTests {
    static func request(_ url: String, address: String? = nil, tls: WebhookTLS? = nil) throws -> DeliveryRequest {
        try DeliveryRequest(WebhookRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")], body: Array("{}".utf8)), address: address, tls: tls)
    }

    static func send(
        _ client: DeliveryHTTPClient, _ request: DeliveryRequest, timeout: TimeAmount = .seconds(10), abort: RequestAbort? = nil
    ) async -> Result<Int, any Error> {
        do { return .success(Int(try await client.execute(request, deadline: .now() + timeout, abort: abort).head.status.code)) } catch { return .failure(error) }
    }

    /// A client on an event loop of its own against a server answering as `script` says: `body`
    /// sends `request` (to the server) with it. Client, loop and server are shut down after it;
    /// the server is returned, for what it has seen.
    static func withClient(
        maxConnectionsPerEndpoint: Int = 64, script: @escaping @Sendable (_ index: Int) -> ScriptedHTTPServer.Answer = { _ in .status(202) },
        _ body: (DeliveryHTTPClient, DeliveryRequest, ScriptedHTTPServer) async throws -> Void
    ) async throws -> ScriptedHTTPServer {
        let server = try await ScriptedHTTPServer(script: script)
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = DeliveryHTTPClient(group: loop, maxConnectionsPerEndpoint: maxConnectionsPerEndpoint)
        do {
            try await body(client, try Self.request("http://127.0.0.1:\(server.port)/hook"), server)
        } catch {
            await client.shutdown()
            try await loop.shutdownGracefully()
            await server.stop()
            throw error
        }
        await client.shutdown()
        try await loop.shutdownGracefully()
        await server.stop()
        return server
    }

    @Test("a keep-alive connection carries the next request; one answered with Connection: close is not reused")
    func keepAliveAndClose() async throws {
        let server = try await Self.withClient(script: { .status(202, close: $0 == 1) }) { client, request, _ throws in
            for _ in 0..<3 { #expect(try await Self.send(client, request).get() == 202) }
        }
        // The first two on one connection; the second said close, so the third needed another.
        #expect(server.requests.map(\.connection) == [1, 1, 2])
    }

    @Test("a reused connection closed unanswered: the request goes once more on a new one")
    func staleConnectionResent() async throws {
        let server = try await Self.withClient(script: { $0 == 1 ? .closeUnanswered : .status(202) }) { client, request, _ throws in
            #expect(try await Self.send(client, request).get() == 202)
            #expect(try await Self.send(client, request).get() == 202)
        }
        // The second went out on the first connection, which closed: again, on a second.
        #expect(server.requests.map(\.connection) == [1, 1, 2])
    }

    @Test("only once, and never on a new connection: a receiver that closes without answering fails the request")
    func unansweredNotResentForever() async throws {
        let server = try await Self.withClient(script: { $0 == 0 ? .status(202) : .closeUnanswered }) { client, request, _ throws in
            #expect(try await Self.send(client, request).get() == 202)
            let reused = await Self.send(client, request)
            let fresh = await Self.send(client, request)
            let closed: [FailureText?] = [.connectionClosed, .connectionReset]
            #expect(closed.contains(WebhookHTTPClient.classify(try #require(reused.failure)).kind))
            #expect(closed.contains(WebhookHTTPClient.classify(try #require(fresh.failure)).kind))
        }
        // The second once more after its reused connection closed; the third on a new one, once.
        #expect(server.requests.map(\.connection) == [1, 1, 2, 3])
    }

    @Test("a deadline in the middle of the body is a timeout and closes the connection")
    func deadlineMidBody() async throws {
        let server = try await Self.withClient(script: { $0 == 0 ? .stallMidBody : .status(202) }) { client, request, _ throws in
            let stalled = await Self.send(client, request, timeout: .milliseconds(300))
            #expect(WebhookHTTPClient.classify(try #require(stalled.failure)) == .timeout)
            #expect(await client.connectionCount(request.endpoint) == 0, "the timed-out connection is closed")
            #expect(try await Self.send(client, request).get() == 202)
        }
        #expect(server.requests.map(\.connection) == [1, 2])
    }

    @Test("an abort cuts a request short mid-body and closes its connection")
    func abortMidBody() async throws {
        _ = try await Self.withClient(script: { _ in .stallMidBody }) { client, request, server throws in
            let abort = RequestAbort()
            async let outcome = Self.send(client, request, timeout: .seconds(60), abort: abort)
            #expect(await waitFor { server.requests.count == 1 })
            abort.abort()
            let failure = await outcome.failure
            #expect(failure is DeliveryHTTPClient.Failure, "\(String(describing: failure))")
            #expect(await client.connectionCount(request.endpoint) == 0, "the aborted connection is closed")
        }
    }

    @Test("requests beyond the cap of connections per endpoint wait for a free one")
    func connectionCap() async throws {
        let server = try await Self.withClient(maxConnectionsPerEndpoint: 2) { client, request, _ throws in
            let statuses = await withTaskGroup(of: Int?.self) { group in
                for _ in 0..<10 { group.addTask { try? await Self.send(client, request).get() } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 202, count: 10))
        }
        #expect(server.connections <= 2, "\(server.connections) connections")
    }

    @Test("pinned: the connection goes to the address, the name goes in the Host header")
    func pinnedAddress() async throws {
        let server = try await ScriptedHTTPServer()
        let client = DeliveryHTTPClient()
        let status = await Self.send(client, try Self.request("http://pinned.invalid:\(server.port)/hook", address: "127.0.0.1"))
        await client.shutdown()
        await server.stop()
        #expect(try status.get() == 202)
        #expect(server.requests.map(\.host) == ["pinned.invalid:\(server.port)"])
    }

    /// NIOSSL (as AsyncHTTPClient uses it too) accepts a certificate whose IP address entry is the
    /// connected address whatever the name, so the test certificate (localhost and 127.0.0.1)
    /// cannot show a wrong name refused; a CA outside the trust store is.
    @Test("TLS behind a private CA: accepted by name when pinned to the address, and by address; rejected without the CA")
    func privateCertificateAuthority() async throws {
        let certificates = try ReceiverConnectionTests.Certificates.make()
        var configuration = try certificates.serverConfiguration()
        configuration.certificateVerification = .none
        let server = try await ScriptedHTTPServer(tls: configuration)
        let tls = WebhookTLS(certificateAuthority: try String(contentsOfFile: certificates.ca, encoding: .utf8))
        let client = DeliveryHTTPClient()
        let byName = await Self.send(client, try Self.request("https://localhost:\(server.port)/hook", address: "127.0.0.1", tls: tls))
        let byAddress = await Self.send(client, try Self.request("https://127.0.0.1:\(server.port)/hook", tls: tls))
        let systemTrustOnly = await Self.send(client, try Self.request("https://localhost:\(server.port)/hook", address: "127.0.0.1"), timeout: .milliseconds(500))
        await client.shutdown()
        await server.stop()
        #expect(try byName.get() == 202)
        #expect(try byAddress.get() == 202)
        #expect(server.requests.map(\.host) == ["localhost:\(server.port)", "127.0.0.1:\(server.port)"])
        #expect(WebhookHTTPClient.classify(try #require(systemTrustOnly.failure)).kind == .tlsCertificateRejected)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

extension HTTPAttemptResult.Failure {
    var kind: FailureText? {
        switch self {
        case .connection(let kind, _), .tls(let kind, _): kind
        default: nil
        }
    }
}
