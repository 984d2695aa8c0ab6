import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import WebhookDomain

@testable import Delivery

/// `last_error` (the control topic's status record, `/status`, the webhook resource, alerts, the
/// attempts topic) names an error kind or an HTTP status, never a host or an address
/// (DESIGN.md §10); the client's own words stay in the log line's `detail`.
@Suite("Failure texts without hosts or addresses")
struct FailureTextTests {
    /// An error as some layer might word it, naming the host and its addresses.
    struct WordedError: Error, CustomStringConvertible {
        var description: String
    }

    static let secrets = ["erp.internal.example", "10.1.2.3", "fd00::7", "https://", ":8443"]

    static func expectNoHosts(_ text: String, _ comment: Comment? = nil) {
        for secret in secrets { #expect(!text.contains(secret), "\(text.debugDescription) names \(secret)") }
    }

    @Test(
        "errors naming hosts and addresses are described by their kind only; the detail keeps the client's words",
        arguments: [
            (WordedError(description: "connect(descriptor:addr:size:): Connection refused (errno: 111) to erp.internal.example/10.1.2.3:8443") as any Error & Sendable, "connection refused"),
            (IOError(errnoCode: ECONNREFUSED, reason: "connect to https://erp.internal.example:8443 (10.1.2.3)"), "connection refused"),
            (IOError(errnoCode: ECONNRESET, reason: "read from 10.1.2.3:8443"), "connection reset"),
            (IOError(errnoCode: EHOSTUNREACH, reason: "connect to [fd00::7]:8443"), "host unreachable"),
            (IOError(errnoCode: ETIMEDOUT, reason: "connect to erp.internal.example (10.1.2.3:8443)"), "connect timeout"),
            (WordedError(description: "DNS error: lookup of erp.internal.example failed: no answer from 10.1.2.3:53"), "host name not resolved"),
            (WordedError(description: "handshakeFailed(sslError([Error: 268435581 error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at erp.internal.example 10.1.2.3]))"), "tls certificate rejected"),
            (WordedError(description: "TLS alert from erp.internal.example (10.1.2.3:8443): protocol version"), "tls handshake failed"),
            (WordedError(description: "something odd happened talking to erp.internal.example at 10.1.2.3:8443 ([fd00::7])"), "connection error"),
            (HTTPClientError.connectTimeout, "connect timeout"),
            (HTTPClientError.remoteConnectionClosed, "connection closed by the receiver"),
            (HTTPClientError.deadlineExceeded, "timeout"),
        ] as [(any Error & Sendable, String)])
    func classified(error: any Error & Sendable, kind: String) {
        let result = HTTPAttemptResult(status: nil, retryAfter: nil, failure: WebhookHTTPClient.classify(error), latency: .zero)
        #expect(result.failureDescription == kind)
        Self.expectNoHosts(result.failureDescription)
        Self.expectNoHosts(WebhookLane.failure(result).reason)
        // A timeout has no words of its own; the others keep them for the log line.
        if kind != "timeout" { #expect(result.failureDetail.contains(String(describing: error).prefix(40))) }
    }

    @Test("a refused private destination and an HTTP status: their kind and status only")
    func refusedAndStatus() {
        let refused = HTTPAttemptResult(
            status: nil, retryAfter: nil,
            failure: .refusedDestination(detail: "destination erp.internal.example resolves to 10.1.2.3, a loopback, private, link-local or metadata address"),
            latency: .zero)
        #expect(refused.failureDescription == "private destination refused")
        #expect(refused.failureDetail.contains("10.1.2.3"))
        #expect(HTTPAttemptResult(status: 503, retryAfter: nil, failure: nil, latency: .zero).failureDescription == "HTTP 503")
    }

    @Test("a real refused connection to 127.0.0.1: 'connection refused', the address only in the detail")
    func realRefusedConnection() async throws {
        // A port that was just free: nothing listens there.
        let port = try { () throws -> Int in
            let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(probe) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            try #require(withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, length) } } == 0)
            try #require(withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(probe, $0, &length) } } == 0)
            return Int(UInt16(bigEndian: address.sin_port))
        }()
        let client = WebhookHTTPClient()
        let webhook = Webhook(id: "w", siteID: "s", url: "http://127.0.0.1:\(port)/hooks", topics: ["t"], hashKeys: [HashKey("k")])
        let message = RoutedMessage(
            siteID: "s", topic: WebhookTopic(name: "t", ordered: true), messageID: "m", sequence: "0-1", entity: [], payload: Array("{}".utf8),
            sourcePartition: 0, sourceOffset: 1)
        let result = await client.send(WebhookRequest.single(message, to: webhook, timestamp: 1_700_000_000), timeout: .seconds(5))
        await client.shutdown()
        #expect(result.failureDescription == "connection refused", "detail: \(result.failureDetail)")
        #expect(!result.failureDescription.contains("127.0.0.1"))
    }

    @Test("texts read back from the control topic are shown only when they are a kind or a status")
    func displayable() {
        for text in ["HTTP 500", "timeout", "connection refused", "private destination refused", "tls certificate rejected"] {
            #expect(FailureText.displayable(text) == text)
        }
        for text in ["destination erp.internal.example resolves to 10.1.2.3", "HTTP 500 from 10.1.2.3", "HTTP abc", "", "no answer within the ack timeout"] {
            #expect(FailureText.displayable(text) == "delivery error", "\(text)")
        }
    }
}
