/// Writes Avro binary in the Schema Registry wire format, for the benchmark and tests that need
/// records as an Avro pipeline produces them (the product only reads Avro: `Sources/Avro`).
/// Only what those records use: longs, strings and `["null", …]` unions, per the Avro
/// specification (zig-zag varints, length-prefixed UTF-8).
public struct AvroWriter {
    public private(set) var bytes: [UInt8]

    /// Starts a value framed for schema `schemaID` (magic byte 0, the id big-endian).
    public init(schemaID: UInt32) {
        bytes = [0] + withUnsafeBytes(of: schemaID.bigEndian) { Array($0) }
    }

    public mutating func long(_ value: Int64) {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        repeat {
            bytes.append(UInt8(zigzag & 0x7F) | (zigzag > 0x7F ? 0x80 : 0))
            zigzag >>= 7
        } while zigzag > 0
    }

    public mutating func string(_ text: String) {
        long(Int64(text.utf8.count))
        bytes += text.utf8
    }

    /// A `["null", "string"]` union.
    public mutating func optionalString(_ text: String?) {
        guard let text else { return long(0) }
        long(1)
        string(text)
    }
}
