import Foundation
import Testing

@testable import WebhookDomain

@Suite("Outbound requests")
struct RequestTests {
    static let message = RoutedMessage(
        siteID: "c404", topic: WebhookTopic(name: "order_state_changed", ordered: true), messageID: "m-1", sequence: "0-5",
        entity: Array("DV1".utf8), payload: Array(#"{"order_id":"DV1","note":"a&b c"}"#.utf8), sourcePartition: 0, sourceOffset: 5)

    static func webhook(_ method: HTTPMethod, signature: SignatureScheme = .hmac) -> Webhook {
        var options = WebhookOptions()
        options.signature = signature
        return Webhook(id: "erp", siteID: "c404", url: "https://erp.example.com/hooks", method: method, topics: ["order_state_changed"],
                       hashKeys: [HashKey("k")], options: options)
    }

    @Test("every method but GET carries the body; XGET is a GET with a body", arguments: HTTPMethod.allCases)
    func methods(method: HTTPMethod) {
        let request = WebhookRequest.single(Self.message, to: Self.webhook(method), timestamp: 100)
        #expect(request.method == (method == .xget ? "GET" : method.rawValue))
        if method == .get {
            #expect(request.body == nil)
            let payload = URLComponents(string: request.url)?.queryItems?.first { $0.name == "payload" }?.value
            #expect(payload == #"{"order_id":"DV1","note":"a&b c"}"#)
        } else {
            #expect(request.body == Self.message.payload)
            #expect(request.url == "https://erp.example.com/hooks")
        }
        let signature = request.headers.first { $0.name == WebhookSignature.hmacHeader }?.value
        #expect(WebhookSignature.verifyHMAC(header: signature, secret: HashKey("k"), body: Self.message.payload) == .valid(keyIndex: 0))
    }

    @Test("a single message carries the contract headers")
    func headers() {
        let request = WebhookRequest.single(Self.message, to: Self.webhook(.post, signature: .both), timestamp: 100)
        let headers = Dictionary(request.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(headers["Content-Type"] == "application/json")
        #expect(headers["message_id"] == "m-1")
        #expect(headers["topic"] == "order_state_changed")
        #expect(headers["webhook_id"] == "erp")
        #expect(headers["sequence"] == "0-5")
        #expect(headers["User-Agent"] == "webhook-bridge/\(WebhookBridgeVersion.current)")
        #expect(headers["X-Webhook-Signature"]?.hasPrefix("t=100,h0=") == true)
        #expect(headers["webhook-id"] == "m-1")
        #expect(headers["webhook-signature"]?.hasPrefix("v1,") == true)
    }

    @Test("a batch is one signed JSON document with each message's headers and data")
    func batch() throws {
        var second = Self.message
        second.messageID = "m-\"2\""
        second.topic = WebhookTopic(name: "parcel_state_changed", ordered: true)
        let request = WebhookRequest.batch([Self.message, second], to: Self.webhook(.post), timestamp: 100)
        let body = try #require(request.body)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let messages = try #require(json["messages"] as? [[String: Any]])
        #expect(messages.count == 2)
        #expect((messages[1]["headers"] as? [String: String])?["message_id"] == "m-\"2\"")
        #expect((messages[1]["headers"] as? [String: String])?["topic"] == "parcel_state_changed")
        #expect((messages[0]["data"] as? [String: String])?["order_id"] == "DV1")
        let headers = Dictionary(request.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(headers["message_count"] == "2")
        #expect(headers["batch_id"] == WebhookRequest.batch([Self.message, second], to: Self.webhook(.post), timestamp: 999).headers.first { $0.name == "batch_id" }?.value)
        #expect(WebhookSignature.verifyHMAC(header: headers["X-Webhook-Signature"], secret: HashKey("k"), body: body) == .valid(keyIndex: 0))
    }
}
