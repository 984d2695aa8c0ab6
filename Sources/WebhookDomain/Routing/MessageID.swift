import Crypto

/// Stable message ids (DESIGN.md §4): the record's own `message_id` header if it has one, else
/// derived from where the record is and which webhook topic it was routed to, so retries,
/// restarts, rebalances and replays resend the same id.
public enum MessageID {
    public static func make(for record: SourceRecord, webhookTopic: String) -> String {
        if let header = record.messageIDHeader, !header.isEmpty { return header }
        let digest = SHA256.hash(data: Array("\(record.topic)\u{0}\(record.partition)\u{0}\(record.offset)\u{0}\(webhookTopic)".utf8))
        return uuidString(Array(digest.prefix(16)))
    }

    /// Formats 16 bytes as a UUID (version 8, "custom"), the shape receivers expect of an id.
    static func uuidString(_ bytes: [UInt8]) -> String {
        var b = bytes
        b[6] = (b[6] & 0x0F) | 0x80
        b[8] = (b[8] & 0x3F) | 0x80
        let hex = b.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        let h = Array(hex)
        return [h[0..<8], h[8..<12], h[12..<16], h[16..<20], h[20..<32]].map { String($0) }.joined(separator: "-")
    }
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
