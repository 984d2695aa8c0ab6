import Testing

@testable import Avro

/// Input written to hurt: every case is a thrown `AvroError` with a clear reason, at once, with
/// no large allocation and no crash.
@Suite("Avro decoding: hostile input")
struct HostileInputTests {
    static func failure(_ schema: String, _ bytes: [UInt8], maxDepth: Int = 128) -> AvroError? {
        #expect(throws: AvroError.self) { try decode(schema, bytes, maxDepth: maxDepth) }
    }

    static let array = #"{"type": "array", "items": "long"}"#
    static let nulls = #"{"type": "array", "items": "null"}"#

    @Test("lengths and counts beyond the bytes left are refused before anything is allocated")
    func hostileLengths() {
        let huge = Encode.long(1 << 62)
        #expect(Self.failure(#""string""#, huge + [0x41])?.description == "truncated at byte 10 reading a string of 4611686018427387904 bytes (1 left)")
        #expect(Self.failure(#""bytes""#, Encode.long(-5))?.description == "negative length -5 reading bytes at byte 0")
        #expect(Self.failure(Self.array, huge + [0])?.reason == "block of 4611686018427387904 items (1 bytes left) at byte 0")
        #expect(Self.failure(#"{"type": "map", "values": "null"}"#, Encode.long(1_000) + Encode.string("k"))?.code == .invalidValue)
        #expect(Self.failure(Self.array, Encode.long(.min) + [0])?.reason == "block count -9223372036854775808 at byte 0")
        #expect(Self.failure(Self.array, Encode.long(-1) + Encode.long(1 << 40) + [2, 0])?.code == .invalidValue)
        #expect(Self.failure(#"{"type": "fixed", "name": "F", "size": 1099511627776}"#, [1, 2])?.code == .truncated)
    }

    @Test("items that take no bytes (null, empty records) are limited in number, not in bytes")
    func emptyItems() throws {
        let hostile = Self.failure(Self.nulls, Encode.long(1 << 40) + [0])
        #expect(hostile?.reason == "more than 65536 empty items at byte 0")
        // The budget is for the whole value, across blocks and arrays.
        let blocks = [UInt8]((0..<2).flatMap { _ in Encode.long(40_000) }) + [0]
        #expect(Self.failure(Self.nulls, blocks)?.code == .invalidValue)
        let fine = try decode(Self.nulls, Encode.long(65_536) + [0])
        #expect(fine.count == 2 + 65_536 * 5 - 1)
        let empty = #"{"type": "array", "items": {"type": "record", "name": "E", "fields": []}}"#
        #expect(Self.failure(empty, Encode.long(1 << 50) + [0])?.code == .invalidValue)
    }

    @Test("negative block counts: the byte size must be there and match the items")
    func blockSizes() throws {
        // -2 items in 2 bytes: 1, 2.
        #expect(try decode(Self.array, Encode.long(-2) + Encode.long(2) + [2, 4, 0]) == "[1,2]")
        #expect(Self.failure(Self.array, Encode.long(-2) + Encode.long(3) + [2, 4, 0])?.reason == "block declared 3 bytes but its items took 2 at byte 0")
        #expect(Self.failure(Self.array, Encode.long(-2) + Encode.long(-1) + [2, 4, 0])?.code == .invalidValue)
        #expect(Self.failure(Self.array, Encode.long(-2))?.code == .truncated)
    }

    @Test("malformed values: varints too long, indices out of range, booleans other than 0 and 1, bad UTF-8, trailing bytes")
    func malformed() {
        #expect(Self.failure(#""long""#, [UInt8](repeating: 0xFF, count: 10) + [1])?.reason == "malformed varint (more than 64 bits) reading a long at byte 0")
        #expect(Self.failure(#""int""#, [0xFF, 0xFF, 0xFF, 0xFF, 0x10])?.reason == "malformed varint (more than 32 bits) reading an int at byte 0")
        #expect(Self.failure(#""long""#, [0x80, 0x80])?.reason == "truncated at byte 2 reading a long")
        #expect(Self.failure(#"["null", "int"]"#, [4])?.reason == "union index 2 (2 branches) at byte 0")
        #expect(Self.failure(#"["null", "int"]"#, [1])?.reason == "union index -1 (2 branches) at byte 0")
        #expect(Self.failure(#"{"type": "enum", "name": "E", "symbols": ["A"]}"#, [2])?.reason == "enum index 1 (1 symbols) at byte 0")
        #expect(Self.failure(#""boolean""#, [2])?.reason == "boolean byte 2 (not 0 or 1) at byte 0")
        #expect(Self.failure(#""string""#, [6, 0x61, 0xC3, 0x28])?.reason == "string is not valid UTF-8 at byte 2")
        for bad: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80], [0xFF]] {
            #expect(Self.failure(#""string""#, Encode.long(Int64(bad.count)) + bad)?.code == .invalidValue, "\(bad)")
        }
        #expect(Self.failure(#"{"type": "map", "values": "int"}"#, [2, 2, 0xFF, 0x7F, 2, 0])?.reason == "string is not valid UTF-8 at byte 2")
        #expect(Self.failure(#""int""#, [2, 0])?.description == "1 bytes left after the value at byte 1")
        #expect(Self.failure(#""null""#, [0])?.code == .trailingBytes)
    }

    @Test("errors name the field: record fields by name, array items and map entries by position")
    func errorPaths() {
        let schema = #"""
            {"type": "record", "name": "Order", "fields": [{"name": "id", "type": "long"}, {"name": "total", "type": "double"},
              {"name": "lines", "type": {"type": "array", "items": {"type": "record", "name": "Line", "fields": [{"name": "qty", "type": "int"}]}}},
              {"name": "extra", "type": {"type": "map", "values": ["null", "string"]}}]}
            """#
        let total: [UInt8] = [0, 0, 0, 0, 0, 0, 0xF0, 0x3F]
        let truncated = Self.failure(schema, Encode.long(5) + [0, 0, 0])
        #expect(truncated?.description == "truncated at byte 1 reading a double in field 'total'")
        #expect(truncated?.code == .truncated && truncated?.path == "total" && truncated?.label == "truncated" && truncated?.isRetriable == false)
        let line = Self.failure(schema, Encode.long(5) + total + Encode.long(3) + [2, 4, 0xFF])
        #expect(line?.description == "truncated at byte 13 reading an int in field 'lines[2].qty'")
        let entry = Self.failure(schema, Encode.long(5) + total + [0] + Encode.long(2) + Encode.string("a") + [0] + Encode.string("b") + [6])
        #expect(entry?.description == "union index 3 (2 branches) at byte 16 in field 'extra[1]'")
    }

    @Test("nesting deeper than the limit is an error, not a stack overflow")
    func depth() throws {
        let list = #"{"type": "record", "name": "L", "fields": [{"name": "next", "type": ["null", "L"]}]}"#
        let deep = [UInt8](repeating: 2, count: 100_000) + [0]
        #expect(Self.failure(list, deep)?.reason == "nested deeper than 128 levels at byte 128")
        #expect(try decode(list, [UInt8](repeating: 2, count: 127) + [0]).hasSuffix(String(repeating: "}", count: 128)))
        #expect(Self.failure(list, [UInt8](repeating: 2, count: 10) + [0], maxDepth: 10)?.code == .tooDeep)
        let arrays = #"{"type": "record", "name": "A", "fields": [{"name": "a", "type": {"type": "array", "items": "A"}}]}"#
        #expect(Self.failure(arrays, [UInt8](repeating: 2, count: 50_000))?.code == .tooDeep)
    }
}
