import Crypto
import Foundation

/// Request signatures (DESIGN.md §4).
///
/// - `hmac`: `X-Webhook-Signature: t=<unix seconds>,h0=<hex>,h1=<hex>,h2=<hex>` with
///   `hN = hex(HMAC-SHA256(key N, "<t>.<body>"))`, h0 the newest key.
/// - `standard`: Standard Webhooks' `webhook-id`, `webhook-timestamp` and
///   `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<t>.<body>")>` per key, space-separated.
public enum WebhookSignature {
    public static let hmacHeader = "X-Webhook-Signature"

    public static func hmac(keys: [HashKey], timestamp: Int64, body: [UInt8]) -> String {
        var signed = Array("\(timestamp).".utf8)
        signed += body
        var parts = ["t=\(timestamp)"]
        for (index, key) in keys.prefix(3).enumerated() {
            let code = HMAC<SHA256>.authenticationCode(for: signed, using: key.symmetricKey)
            parts.append("h\(index)=\(hex(code))")
        }
        return parts.joined(separator: ",")
    }

    public static func standard(keys: [HashKey], id: String, timestamp: Int64, body: [UInt8]) -> [(name: String, value: String)] {
        var signed = Array("\(id).\(timestamp).".utf8)
        signed += body
        let signatures = keys.prefix(3).map { key in
            "v1," + Data(HMAC<SHA256>.authenticationCode(for: signed, using: key.symmetricKey)).base64EncodedString()
        }
        return [("webhook-id", id), ("webhook-timestamp", String(timestamp)), ("webhook-signature", signatures.joined(separator: " "))]
    }

    /// What a receiver concludes about a request's signature.
    public enum Verdict: Sendable, Equatable {
        /// Valid with the given key slot (0 for h0 / the first `v1` entry).
        case valid(keyIndex: Int)
        case invalid
        case missing
    }

    /// Checks an `X-Webhook-Signature` header against one secret, as a receiver does.
    public static func verifyHMAC(header: String?, secret: HashKey, body: [UInt8]) -> Verdict {
        guard let header else { return .missing }
        var timestamp: String?
        var signatures: [(Int, String)] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { return .invalid }
            if pair[0] == "t" {
                timestamp = pair[1]
            } else if pair[0].hasPrefix("h"), let index = Int(pair[0].dropFirst()) {
                signatures.append((index, pair[1]))
            }
        }
        guard let timestamp else { return .invalid }
        var signed = Array("\(timestamp).".utf8)
        signed += body
        let expected = hex(HMAC<SHA256>.authenticationCode(for: signed, using: secret.symmetricKey))
        for (index, signature) in signatures where constantTimeEquals(signature, expected) { return .valid(keyIndex: index) }
        return .invalid
    }

    /// Checks Standard Webhooks headers against one secret, as the reference libraries do.
    public static func verifyStandard(id: String?, timestamp: String?, signature: String?, secret: HashKey, body: [UInt8]) -> Verdict {
        guard let id, let timestamp, let signature else { return .missing }
        var signed = Array("\(id).\(timestamp).".utf8)
        signed += body
        let expected = "v1," + Data(HMAC<SHA256>.authenticationCode(for: signed, using: secret.symmetricKey)).base64EncodedString()
        for (index, candidate) in signature.split(separator: " ").enumerated() where constantTimeEquals(String(candidate), expected) {
            return .valid(keyIndex: index)
        }
        return .invalid
    }

    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ code: HashedAuthenticationCode<SHA256>) -> String { hex(Array(code)) }
}
