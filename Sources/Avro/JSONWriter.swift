/// Appends JSON text to one growing byte buffer: the decoder's only output, so a value is written
/// once, with no intermediate tree and no Foundation on the hot path.
struct JSONWriter {
    var output: [UInt8] = []

    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { output.append(contentsOf: $0) }
    }

    mutating func append(_ byte: UInt8) {
        output.append(byte)
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        output.append(contentsOf: bytes)
    }

    /// A decimal integer.
    mutating func integer(_ value: Int64) {
        if value < 0 { output.append(UInt8(ascii: "-")) }
        unsigned(value.magnitude)
    }

    /// A decimal integer, padded with zeros to at least `width` digits.
    mutating func unsigned(_ value: UInt64, width: Int = 1) {
        var count = 1
        var probe = value
        while probe >= 10 {
            probe /= 10
            count += 1
        }
        output.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(count, width)))
        var rest = value
        var index = output.count - 1
        while rest > 0 {
            output[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            index -= 1
        }
    }

    /// The shortest text that reads back as the same value (Swift's `description`, always valid
    /// JSON for a finite value). NaN and the infinities have no JSON number: they are `null`, as
    /// JavaScript's `JSON.stringify` writes them.
    mutating func floatingPoint(_ value: some BinaryFloatingPoint & CustomStringConvertible) {
        guard value.isFinite else { return append("null") }
        output.append(contentsOf: value.description.utf8)
    }

    /// A JSON string of `bytes`, which must be UTF-8. Throws at the first byte that is not,
    /// reporting it as byte `offset` + its index.
    mutating func string(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) throws(AvroError) {
        output.append(UInt8(ascii: "\""))
        var run = 0  // start of the bytes not yet copied
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= 0x80 {
                guard let length = Self.utf8SequenceLength(bytes, at: index) else {
                    throw AvroError(.invalidValue, "string is not valid UTF-8 at byte \(offset + index)")
                }
                index += length
            } else if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<index]))
                escape(byte)
                index += 1
                run = index
            } else {
                index += 1
            }
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<index]))
        output.append(UInt8(ascii: "\""))
    }

    private mutating func escape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): append("\\\"")
        case UInt8(ascii: "\\"): append("\\\\")
        case 0x0A: append("\\n")
        case 0x0D: append("\\r")
        case 0x09: append("\\t")
        case 0x08: append("\\b")
        case 0x0C: append("\\f")
        default:
            append("\\u00")
            output.append(Self.hexDigits[Int(byte >> 4)])
            output.append(Self.hexDigits[Int(byte & 0x0F)])
        }
    }

    static let hexDigits = Array("0123456789abcdef".utf8)

    /// A JSON string of 16 bytes as a UUID: lower-case hex, `8-4-4-4-12`.
    mutating func uuid(_ bytes: UnsafeBufferPointer<UInt8>) {
        output.append(UInt8(ascii: "\""))
        for (position, byte) in bytes.enumerated() {
            if [4, 6, 8, 10].contains(position) { output.append(UInt8(ascii: "-")) }
            output.append(Self.hexDigits[Int(byte >> 4)])
            output.append(Self.hexDigits[Int(byte & 0x0F)])
        }
        output.append(UInt8(ascii: "\""))
    }

    /// The length of the well-formed UTF-8 sequence at `index` (Unicode Table 3-7: no overlong
    /// forms, no surrogates, nothing above U+10FFFF), or nil.
    static func utf8SequenceLength(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int? {
        let lead = bytes[index]
        let length: Int
        var second: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; second = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; second = 0x80...0x9F
        case 0xF0: length = 4; second = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; second = 0x80...0x8F
        default: return nil
        }
        guard bytes.count - index >= length, second.contains(bytes[index + 1]) else { return nil }
        for continuation in bytes[(index + 2)..<(index + length)] where continuation & 0xC0 != 0x80 { return nil }
        return length
    }

    /// A JSON string of standard base64 with padding (RFC 4648 §4).
    mutating func base64(_ bytes: UnsafeBufferPointer<UInt8>) {
        output.append(UInt8(ascii: "\""))
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            let b0 = UInt32(bytes[index])
            let b1 = count > 1 ? UInt32(bytes[index + 1]) : 0
            let b2 = count > 2 ? UInt32(bytes[index + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            for position in 0..<4 {
                output.append(position <= count ? Self.base64Alphabet[Int(group >> (18 - 6 * position) & 0x3F)] : UInt8(ascii: "="))
            }
            index += count
        }
        output.append(UInt8(ascii: "\""))
    }

    static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// A JSON string of text known to be valid (names and symbols from a schema).
    static func quoted(_ text: String) -> [UInt8] {
        var writer = JSONWriter()
        var text = text
        text.withUTF8 { try? writer.string($0, at: 0) }  // a Swift String is always UTF-8
        return writer.output
    }
}
