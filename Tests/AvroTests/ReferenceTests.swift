import Testing

@testable import Avro

/// The decoder against values written by fastavro, the reference implementation
/// (`scripts/avro_fixtures.py`): every type, nested and recursive records, both orders of
/// nullable unions, blocks with positive and negative counts, every logical type.
@Suite("Avro decoding against fastavro")
struct ReferenceTests {
    static func decode(_ reference: ReferenceCase, _ bytes: ArraySlice<UInt8>) throws -> [UInt8] {
        try AvroDecoder(schema: try AvroSchema(parsing: reference.schema)).json(from: bytes)
    }

    @Test("every value fastavro wrote decodes to the JSON DESIGN.md §3 maps it to")
    func matchesReference() throws {
        let cases = try ReferenceFixtures.cases.get()
        #expect(cases.count > 700, "the fixture script wrote only \(cases.count) cases")
        var failures: [String] = []
        for reference in cases {
            do {
                let json = try Self.decode(reference, reference.avro[...])
                if let difference = JSONMatch.difference(actual: json, expected: reference.expected) {
                    failures.append("\(reference): \(difference)")
                }
            } catch {
                failures.append("\(reference): \(error) (schema \(reference.schema), bytes \(reference.avro))")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(cases.count) differ:\n\(failures.prefix(15).joined(separator: "\n"))")
    }

    @Test("every proper prefix of every encoding is an error (truncated or invalid), never a crash or a value")
    func truncations() throws {
        let cases = try ReferenceFixtures.cases.get()
        var accepted: [String] = []
        var prefixes = 0
        for reference in cases {
            let schema = try AvroSchema(parsing: reference.schema)
            for length in 0..<reference.avro.count {
                prefixes += 1
                do {
                    _ = try AvroDecoder(schema: schema).json(from: reference.avro[..<length])
                    accepted.append("\(reference) cut at \(length)")
                } catch {
                    // An AvroError, as the typed throws guarantee: that is the point.
                }
            }
        }
        #expect(prefixes > 5_000)
        #expect(accepted.isEmpty, "\(accepted.prefix(10))")
    }

    @Test("a byte appended to any encoding is refused as trailing bytes")
    func trailingBytes() throws {
        for reference in try ReferenceFixtures.cases.get() {
            let error = #expect(throws: AvroError.self) { try Self.decode(reference, (reference.avro + [0])[...]) }
            #expect(error?.code == .trailingBytes, "\(reference)")
        }
    }

    @Test("the decoder is exercised on every kind of schema node")
    func coverage() throws {
        let cases = try ReferenceFixtures.cases.get()
        var kinds = Set<String>()
        for reference in cases {
            for node in try AvroSchema(parsing: reference.schema).nodes { kinds.insert(String(describing: node).prefix { $0 != "(" }.description) }
        }
        let all = ["null", "boolean", "int", "long", "float", "double", "bytes", "string", "record", "enumeration", "array", "map", "union",
                   "fixed", "decimal", "uuidFixed", "date", "time", "timestamp"]
        #expect(Set(all).subtracting(kinds).isEmpty, "never decoded: \(Set(all).subtracting(kinds))")
    }
}
