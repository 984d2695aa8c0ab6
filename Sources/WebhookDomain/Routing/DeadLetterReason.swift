/// The text of a dead letter's `dead_letter_reason` header.
///
/// A reason may quote the record (an unknown site or topic named by one of its fields), so it
/// is cut to at most `maxBytes` of UTF-8, between two characters: a long field can neither make
/// the dead letter too large to write nor leave half a character in the header.
public enum DeadLetterReason {
    public static let maxBytes = 1024

    /// The header value for `reason`: its UTF-8 bytes, cut to at most `maxBytes`.
    public static func headerValue(_ reason: String) -> [UInt8] {
        let bytes = Array(reason.utf8)
        guard bytes.count > maxBytes else { return bytes }
        // The first byte left out must start a character: back up over continuation bytes (10xxxxxx).
        var end = maxBytes
        while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return Array(bytes[..<end])
    }
}
