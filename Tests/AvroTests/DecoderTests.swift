import Testing

@testable import Avro

/// Avro binary written by hand: zig-zag varints and length-prefixed text.
enum Encode {
    static func long(_ value: Int64) -> [UInt8] {
        var rest = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        var bytes: [UInt8] = []
        repeat {
            bytes.append(UInt8(rest & 0x7F) | (rest > 0x7F ? 0x80 : 0))
            rest >>= 7
        } while rest > 0
        return bytes
    }

    static func string(_ text: String) -> [UInt8] { long(Int64(text.utf8.count)) + Array(text.utf8) }
}

func decode(_ schema: String, _ bytes: [UInt8], maxDepth: Int = 128) throws(AvroError) -> String {
    String(decoding: try AvroDecoder(schema: try AvroSchema(parsing: schema), maxDepth: maxDepth).json(from: bytes), as: UTF8.self)
}

/// The exact text written, byte for byte, where the reference comparison allows latitude.
@Suite("Avro decoding: the JSON text")
struct DecoderTests {
    @Test("a record: fields in schema order, no spaces, strings escaped, unions as the plain value")
    func record() throws {
        let schema = #"""
            {"type": "record", "name": "R", "fields": [
              {"name": "z", "type": "int"}, {"name": "a", "type": "string"}, {"name": "u", "type": ["null", "long"]},
              {"name": "n", "type": ["long", "null"]}, {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["ONE", "TWO"]}},
              {"name": "b", "type": "bytes"}, {"name": "m", "type": {"type": "map", "values": "boolean"}},
              {"name": "l", "type": {"type": "array", "items": "float"}}]}
            """#
        let bytes = Encode.long(-3) + Encode.string("q\"\\\n\u{01}é😀") + [2] + Encode.long(7) + [2] + [2] + Encode.string("\u{0}\u{ff}")
            + [2] + Encode.string("k") + [1] + [0] + [4, 0, 0, 0xC0, 0x3F, 0, 0, 0x80, 0x7F] + [0]
        #expect(try decode(schema, bytes) == #"{"z":-3,"a":"q\"\\\n\u0001é😀","u":7,"n":null,"e":"TWO","b":"AMO/","m":{"k":true},"l":[1.5,null]}"#)
    }

    @Test("floats and doubles: shortest round-trip text; NaN and the infinities are null")
    func floatingPoint() throws {
        func float(_ value: Float) -> [UInt8] { withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
        func double(_ value: Double) -> [UInt8] { withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
        #expect(try decode(#""float""#, float(0.1)) == "0.1")
        #expect(try decode(#""float""#, float(-0.0)) == "-0.0")
        #expect(try decode(#""float""#, float(.nan)) == "null")
        #expect(try decode(#""double""#, double(0.1)) == "0.1")
        #expect(try decode(#""double""#, double(1e300)) == "1e+300")
        #expect(try decode(#""double""#, double(-.infinity)) == "null")
        #expect(try decode(#""double""#, double(.infinity)) == "null")
    }

    @Test("timestamps: RFC 3339 UTC with the unit's fraction digits; local ones without Z; outside years 1–9999 the number")
    func timestamps() throws {
        func timestamp(_ kind: String, _ value: Int64) throws -> String {
            try decode(#"{"type": "long", "logicalType": "\#(kind)"}"#, Encode.long(value))
        }
        #expect(try timestamp("timestamp-millis", 1_796_119_200_250) == #""2026-12-01T10:00:00.250Z""#)
        #expect(try timestamp("timestamp-micros", 1_796_119_200_250_123) == #""2026-12-01T10:00:00.250123Z""#)
        #expect(try timestamp("timestamp-nanos", 1_796_119_200_250_123_456) == #""2026-12-01T10:00:00.250123456Z""#)
        #expect(try timestamp("local-timestamp-millis", 1_796_119_200_250) == #""2026-12-01T10:00:00.250""#)
        #expect(try timestamp("timestamp-millis", -1) == #""1969-12-31T23:59:59.999Z""#)
        #expect(try timestamp("timestamp-millis", -62_135_596_800_000) == #""0001-01-01T00:00:00.000Z""#)
        #expect(try timestamp("timestamp-millis", -62_135_596_800_001) == "-62135596800001")
        #expect(try timestamp("timestamp-millis", 253_402_300_800_000) == "253402300800000")
        #expect(try timestamp("timestamp-micros", .min) == "-9223372036854775808")
        #expect(try timestamp("timestamp-micros", .max) == "9223372036854775807")
    }

    @Test("dates, times of day, uuids")
    func otherLogicalTypes() throws {
        #expect(try decode(#"{"type": "int", "logicalType": "date"}"#, Encode.long(-1)) == #""1969-12-31""#)
        #expect(try decode(#"{"type": "int", "logicalType": "date"}"#, Encode.long(11_016)) == #""2000-02-29""#)
        #expect(try decode(#"{"type": "int", "logicalType": "date"}"#, Encode.long(-719_163)) == "-719163")
        #expect(try decode(#"{"type": "int", "logicalType": "time-millis"}"#, Encode.long(37_800_250)) == #""10:30:00.250""#)
        #expect(try decode(#"{"type": "long", "logicalType": "time-micros"}"#, Encode.long(37_800_000_001)) == #""10:30:00.000001""#)
        #expect(try decode(#"{"type": "int", "logicalType": "time-millis"}"#, Encode.long(86_400_000)) == "86400000")
        #expect(try decode(#"{"type": "string", "logicalType": "uuid"}"#, Encode.string("1b4e28ba-2fa1-11d2-883f-0016541e4f4f")) == #""1b4e28ba-2fa1-11d2-883f-0016541e4f4f""#)
        let uuidBytes: [UInt8] = [0x1B, 0x4E, 0x28, 0xBA, 0x2F, 0xA1, 0x11, 0xD2, 0x88, 0x3F, 0x00, 0x16, 0x54, 0x1E, 0x4F, 0x4F]
        #expect(try decode(#"{"type": "fixed", "name": "U", "size": 16, "logicalType": "uuid"}"#, uuidBytes) == #""1b4e28ba-2fa1-11d2-883f-0016541e4f4f""#)
    }

    @Test("decimals: exact text from two's-complement bytes of any length, as a string")
    func decimals() throws {
        func decimal(_ bytes: [UInt8], precision: Int = 40, scale: Int) throws -> String {
            try decode(#"{"type": "bytes", "logicalType": "decimal", "precision": \#(precision), "scale": \#(scale)}"#, Encode.long(Int64(bytes.count)) + bytes)
        }
        #expect(try decimal([0xFF], scale: 2) == #""-0.01""#)
        #expect(try decimal([], scale: 2) == #""0.00""#)
        #expect(try decimal([0x30, 0x39], scale: 0) == #""12345""#)
        #expect(try decimal([0xCF, 0xC7], scale: 3) == #""-12.345""#)
        #expect(try decimal([0xFF, 0xFF, 0xFF, 0x85], scale: 1) == #""-12.3""#)  // redundant sign bytes
        #expect(try decimal([0x80], scale: 0) == #""-128""#)
        #expect(try decimal([0x80] + [UInt8](repeating: 0, count: 15), scale: 0) == #""-170141183460469231731687303715884105728""#)  // -2^127
        #expect(try decimal([0x7F] + [UInt8](repeating: 0xFF, count: 15), scale: 38) == #""1.70141183460469231731687303715884105727""#)
        // More magnitude than the precision allows: refused before any long arithmetic.
        let error = #expect(throws: AvroError.self) { try decimal([UInt8](repeating: 0x11, count: 1000), precision: 10, scale: 2) }
        #expect(error?.code == .invalidValue && error?.reason.contains("exceeds its precision") == true)
        // A precision above the decoder's limit is an invalid logical type: the bytes, base64.
        #expect(try decimal([0x01], precision: AvroSchema.maximumDecimalPrecision + 1, scale: 0) == #""AQ==""#)
    }

    @Test("base64 of bytes and fixed, every padding length")
    func base64() throws {
        let samples: [(bytes: [UInt8], text: String)] = [([], ""), ([0x66], "Zg=="), ([0x66, 0x6F], "Zm8="), ([0x66, 0x6F, 0x6F], "Zm9v"), ([0xFB, 0xFF, 0xBF, 0x00], "+/+/AA==")]
        for sample in samples {
            #expect(try decode(#""bytes""#, Encode.long(Int64(sample.bytes.count)) + sample.bytes) == "\"\(sample.text)\"")
            #expect(try decode(#"{"type": "fixed", "name": "F", "size": \#(sample.bytes.count)}"#, sample.bytes) == "\"\(sample.text)\"")
        }
    }

    @Test("every control character is escaped; DEL, U+2028 and non-ASCII text pass as UTF-8")
    func escapes() throws {
        let text = String((0..<0x20).map { Character(Unicode.Scalar($0)!) }) + "\u{7F}\u{2028}ü"
        let json = try decode(#""string""#, Encode.string(text))
        #expect(json == #""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f"# + "\u{7F}\u{2028}ü\"")
    }

    @Test("the Schema Registry wire format: magic byte 0, a 4-byte big-endian id, the payload")
    func wireFormat() throws {
        let framed: [UInt8] = [0, 0x00, 0x01, 0x02, 0x03, 0xAA, 0xBB]
        let (id, payload) = try SchemaRegistryWireFormat.split(framed)
        #expect(id == 0x0001_0203 && Array(payload) == [0xAA, 0xBB])
        #expect(try SchemaRegistryWireFormat.split([0, 0xFF, 0xFF, 0xFF, 0xFF]).schemaID == .max)
        #expect(try SchemaRegistryWireFormat.split([0, 0, 0, 0, 1]).payload.isEmpty)
        for bad: [UInt8] in [[], [1, 0, 0, 0, 1, 2], Array(#"{"a":1}"#.utf8), [0, 0, 0, 1]] {
            let error = #expect(throws: AvroError.self) { try SchemaRegistryWireFormat.split(bad) }
            #expect(error?.code == .notFramed, "\(bad)")
        }
    }
}
