import Crypto

/// Stable message ids (DESIGN.md §4): the record's own `message_id` header if it is a safe token,
/// else derived from where the record is and which webhook topic it was routed to, so retries,
/// restarts, rebalances and replays resend the same id.
public enum MessageID {
    /// The longest `message_id` header used as it is, in bytes.
    public static let maxHeaderBytes = 200

    /// Whether a record's own `message_id` header can go into a request as it is: printable ASCII
    /// without spaces, 1 to 200 bytes. Anything else (a CR LF made every request fail in the HTTP
    /// client) is replaced by a derived id.
    public static func isSafeToken(_ text: String) -> Bool {
        let bytes = text.utf8
        return !bytes.isEmpty && bytes.count <= maxHeaderBytes && bytes.allSatisfy { (0x21...0x7E).contains($0) }
    }

    /// Whether the record has a `message_id` header that cannot be used (and is replaced).
    public static func refusesHeader(of record: SourceRecord) -> Bool {
        record.messageIDHeader.map { !isSafeToken($0) } ?? false
    }

    /// The id of a record's message on one webhook topic. A record routed to several topics gets
    /// one id per topic: its header id for `firstTopic` (the first of the topics it is routed
    /// to), `<header id>.<webhook topic>` for the others.
    public static func make(for record: SourceRecord, webhookTopic: String, firstTopic: String? = nil) -> String {
        if let header = record.messageIDHeader, isSafeToken(header) {
            return webhookTopic == (firstTopic ?? webhookTopic) ? header : "\(header).\(webhookTopic)"
        }
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
