import Foundation
import Testing

@testable import WebhookDomain

@Suite("Signatures")
struct SignatureTests {
    @Test("standard scheme matches the Standard Webhooks published test vector")
    func standardWebhooksVector() {
        // From the Standard Webhooks reference libraries' tests.
        let key = HashKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let headers = WebhookSignature.standard(
            keys: [key], id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8))
        #expect(headers.first { $0.name == "webhook-signature" }?.value == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(headers.first { $0.name == "webhook-id" }?.value == "msg_p5jXN8AQM9LWM0D4loKWxJek")
        #expect(headers.first { $0.name == "webhook-timestamp" }?.value == "1614265330")
    }

    @Test("hmac scheme signs timestamp and body with every key, newest first")
    func hmacHeader() {
        // Expected value computed independently: hmac.new(b"personnal_hash_key", b'1700000000.{"a":1}', sha256).hexdigest()
        let header = WebhookSignature.hmac(keys: [HashKey("personnal_hash_key"), HashKey("older")], timestamp: 1_700_000_000, body: Array(#"{"a":1}"#.utf8))
        let parts = header.split(separator: ",").map(String.init)
        #expect(parts.count == 3)
        #expect(parts[0] == "t=1700000000")
        #expect(parts[1] == "h0=dfb93dad2604ef122ab444b85122a07621cdca900a4e0d41acc46ea30162152a")
        #expect(parts[2].hasPrefix("h1=") && parts[2] != "h1=" + parts[1].dropFirst(3))
    }

    @Test("a receiver verifies with whichever key it holds and rejects forgeries")
    func verify() {
        let old = HashKey("old-key")
        let new = HashKey("new-key")
        let body = Array(#"{"order_id":"X"}"#.utf8)
        let header = WebhookSignature.hmac(keys: [new, old], timestamp: 42, body: body)
        #expect(WebhookSignature.verifyHMAC(header: header, secret: new, body: body) == .valid(keyIndex: 0))
        #expect(WebhookSignature.verifyHMAC(header: header, secret: old, body: body) == .valid(keyIndex: 1))
        #expect(WebhookSignature.verifyHMAC(header: header, secret: HashKey("other"), body: body) == .invalid)
        #expect(WebhookSignature.verifyHMAC(header: header, secret: new, body: Array(#"{"order_id":"Y"}"#.utf8)) == .invalid)
        #expect(WebhookSignature.verifyHMAC(header: nil, secret: new, body: body) == .missing)

        let standard = WebhookSignature.standard(keys: [new, old], id: "m1", timestamp: 42, body: body)
        let value = { (name: String) in standard.first { $0.name == name }?.value }
        #expect(WebhookSignature.verifyStandard(id: value("webhook-id"), timestamp: value("webhook-timestamp"), signature: value("webhook-signature"), secret: old, body: body) == .valid(keyIndex: 1))
        #expect(WebhookSignature.verifyStandard(id: "m2", timestamp: value("webhook-timestamp"), signature: value("webhook-signature"), secret: new, body: body) == .invalid)
    }

    @Test("generated keys are 32 random bytes shown in whsec_ form, and read back from it")
    func generatedKeys() {
        let key = HashKey.generate()
        #expect(key.bytes.count == 32)
        #expect(key.text.hasPrefix("whsec_"))
        #expect(HashKey(key.text).bytes == key.bytes)
        #expect(HashKey.generate().bytes != key.bytes)
        #expect(!"\(key)".contains(key.text))
    }

    @Test("rotation keeps the three newest keys, newest first")
    func rotation() {
        var webhook = Webhook(id: "w", siteID: "s", url: "https://x.example", topics: ["t"], hashKeys: [HashKey("k1")])
        for name in ["k2", "k3", "k4"] { webhook.rotate(to: HashKey(name)) }
        #expect(webhook.hashKeys.map(\.text) == ["k4", "k3", "k2"])
    }
}
