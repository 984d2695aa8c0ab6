import Crypto
import Foundation

/// A signing key. Given as a string by the user (its UTF-8 bytes are the key) or generated
/// (32 random bytes, shown once as `whsec_` + base64, the Standard Webhooks form). A string that
/// starts with `whsec_` is read back as base64 bytes, so a generated key round-trips.
public struct HashKey: Sendable, Equatable, CustomStringConvertible {
    public let bytes: [UInt8]
    /// The form the user gave or was given; kept so the control topic can store it as text.
    public let text: String

    public init(_ text: String) {
        self.text = text
        if text.hasPrefix("whsec_"), let decoded = Data(base64Encoded: String(text.dropFirst(6))) {
            bytes = Array(decoded)
        } else {
            bytes = Array(text.utf8)
        }
    }

    public static func generate() -> HashKey {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return HashKey("whsec_" + Data(bytes).base64EncodedString())
    }

    /// The Standard Webhooks secret form.
    public var whsec: String { "whsec_" + Data(bytes).base64EncodedString() }

    var symmetricKey: SymmetricKey { SymmetricKey(data: bytes) }

    /// Never the key itself: keys must not reach logs.
    public var description: String { "HashKey(redacted)" }
}
