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
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, byte) in bytes.prefix(16).enumerated() {
            let value = index == 6 ? (byte & 0x0F) | 0x80 : index == 8 ? (byte & 0x3F) | 0x80 : byte
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int(value >> 4)])
            text.append(digits[Int(value & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
