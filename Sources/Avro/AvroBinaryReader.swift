/// Reads Avro's binary primitives from a payload. Every read checks the bytes left first and
/// throws `AvroError` instead of running past the end; offsets in errors count from the
/// payload's first byte.
///
/// The payload is a buffer pointer, valid only inside `AvroDecoder.json(from:)`, which scopes it
/// with `withUnsafeBufferPointer`: slices of it cost no reference counting, which an
/// `ArraySlice` did for every string (about a third of the decoding time). No pointer escapes
/// that call; the output is copied into the JSON buffer.
struct AvroBinaryReader {
    let bytes: UnsafeBufferPointer<UInt8>
    /// The offset of the next byte.
    private(set) var offset = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - offset }

    func truncated(_ what: StaticString) -> AvroError {
        AvroError(.truncated, "truncated at byte \(offset) reading \(what)")
    }

    func invalid(_ reason: String, at offset: Int) -> AvroError {
        AvroError(.invalidValue, "\(reason) at byte \(offset)")
    }

    mutating func byte(_ what: StaticString) throws(AvroError) -> UInt8 {
        guard offset < bytes.count else { throw truncated(what) }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// A zig-zag varint of at most 10 bytes whose value fits 64 bits.
    mutating func long(_ what: StaticString = "a long") throws(AvroError) -> Int64 {
        Int64(bitPattern: try varint(UInt64.self, what))
    }

    /// A zig-zag varint of at most 5 bytes whose value fits 32 bits.
    mutating func int(_ what: StaticString = "an int") throws(AvroError) -> Int32 {
        Int32(bitPattern: try varint(UInt32.self, what))
    }

    /// A zig-zag varint of `Raw`'s width: 7 bits a byte, least significant first; the last
    /// possible byte (the 10th of 64 bits, the 5th of 32) may hold only the bits left (1 or 4).
    private mutating func varint<Raw: FixedWidthInteger & UnsignedInteger>(_: Raw.Type, _ what: StaticString) throws(AvroError) -> Raw {
        let start = offset
        let lastShift = Raw.bitWidth / 7 * 7
        let lastByteLimit = UInt8(1 << (Raw.bitWidth - lastShift)) - 1
        var raw: Raw = 0
        var shift = 0
        while true {
            let byte = try self.byte(what)
            guard shift < lastShift || byte <= lastByteLimit else {
                throw invalid("malformed varint (more than \(Raw.bitWidth) bits) reading \(what)", at: start)
            }
            raw |= Raw(byte & 0x7F) << shift
            if byte < 0x80 { return raw >> 1 ^ (0 &- (raw & 1)) }  // zig-zag: the low bit is the sign
            shift += 7
        }
    }

    /// The next `count` bytes, which must all be there.
    mutating func take(_ count: Int, _ what: StaticString) throws(AvroError) -> UnsafeBufferPointer<UInt8> {
        guard count <= remaining else { throw truncated(what) }
        defer { offset += count }
        return UnsafeBufferPointer(rebasing: bytes[offset..<offset + count])
    }

    /// A long length, then that many bytes: a hostile length (negative, or 2^62) is refused
    /// before anything is allocated.
    mutating func lengthPrefixed(_ what: StaticString) throws(AvroError) -> UnsafeBufferPointer<UInt8> {
        let start = offset
        let length = try long(what)
        guard length >= 0 else { throw invalid("negative length \(length) reading \(what)", at: start) }
        guard length <= remaining else {
            throw AvroError(.truncated, "truncated at byte \(offset) reading \(what) of \(length) bytes (\(remaining) left)")
        }
        return try take(Int(length), what)
    }

    /// IEEE 754 binary32, little-endian.
    mutating func float() throws(AvroError) -> Float {
        let raw = UnsafeRawBufferPointer(try take(4, "a float")).loadUnaligned(as: UInt32.self)
        return Float(bitPattern: UInt32(littleEndian: raw))
    }

    /// IEEE 754 binary64, little-endian.
    mutating func double() throws(AvroError) -> Double {
        let raw = UnsafeRawBufferPointer(try take(8, "a double")).loadUnaligned(as: UInt64.self)
        return Double(bitPattern: UInt64(littleEndian: raw))
    }
}
