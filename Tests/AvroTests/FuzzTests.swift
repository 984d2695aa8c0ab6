import Foundation
import Testing

@testable import Avro

/// Seeded fuzzing, like the JSON scanner's (`JSONObjectTests`): random bytes and mutations of the
/// encodings fastavro wrote, against their schemas. Every outcome must be a thrown `AvroError`
/// or valid JSON; a crash fails the whole run. `AVRO_FUZZ_ROUNDS` sets the rounds of each test
/// (20,000 by default), `AVRO_FUZZ_SEED` the seed.
@Suite("Avro decoding: fuzzed input")
struct FuzzTests {
    static let rounds = ProcessInfo.processInfo.environment["AVRO_FUZZ_ROUNDS"].flatMap(Int.init) ?? 20_000
    static let seed = ProcessInfo.processInfo.environment["AVRO_FUZZ_SEED"].flatMap(UInt64.init) ?? 15

    /// The distinct schemas of the reference cases, parsed, each with its encodings.
    static func corpus() throws -> [(schema: AvroSchema, text: String, encodings: [[UInt8]])] {
        var bySchema: [String: [[UInt8]]] = [:]
        var order: [String] = []
        for reference in try ReferenceFixtures.cases.get() {
            if bySchema[reference.schema] == nil { order.append(reference.schema) }
            bySchema[reference.schema, default: []].append(reference.avro)
        }
        return try order.map { (try AvroSchema(parsing: $0), $0, bySchema[$0]!) }
    }

    /// Decodes; a value must be valid JSON. Returns whether it decoded.
    static func check(_ schema: AvroSchema, _ bytes: [UInt8], _ label: () -> String, _ failures: inout [String]) -> Bool {
        do {
            let json = try AvroDecoder(schema: schema).json(from: bytes)
            if case .failure(let problem) = JSONMatch.parse(json) { failures.append("\(label()) bytes \(bytes): \(problem)") }
            return true
        } catch {
            if error.reason.isEmpty { failures.append("\(label()): an error without a reason") }
            return false
        }
    }

    @Test("mutated encodings (bytes flipped, set, inserted, removed, lengths and counts bent): an error or valid JSON")
    func mutations() throws {
        let corpus = try Self.corpus()
        var generator = SplitMix(seed: Self.seed)
        var failures: [String] = []
        var decoded = 0
        let interesting: [UInt8] = [0x00, 0x01, 0x02, 0x7F, 0x80, 0xFF, 0xFE, 0xC0, 0xED, 0xF4, 0x22, 0x5C]
        for round in 0..<Self.rounds {
            let entry = corpus[Int(generator.next() % UInt64(corpus.count))]
            var bytes = entry.encodings[Int(generator.next() % UInt64(entry.encodings.count))]
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let position = bytes.isEmpty ? 0 : Int(generator.next() % UInt64(bytes.count))
                let byte = generator.next() % 2 == 0 ? interesting[Int(generator.next() % UInt64(interesting.count))] : UInt8(truncatingIfNeeded: generator.next())
                switch generator.next() % 5 {
                case 0 where !bytes.isEmpty: bytes[position] ^= UInt8(1) << (generator.next() % 8)
                case 1 where !bytes.isEmpty: bytes[position] = byte
                case 2 where !bytes.isEmpty: bytes.remove(at: position)
                case 3: bytes.insert(contentsOf: Encode.long(Int64(bitPattern: generator.next()) >> (generator.next() % 64)), at: position)
                default: bytes.insert(byte, at: position)
                }
            }
            if Self.check(entry.schema, bytes, { "round \(round), schema \(entry.text)" }, &failures) { decoded += 1 }
        }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
        // Both outcomes happen: the mutations reach past the first byte's checks.
        #expect(decoded > Self.rounds / 50 && decoded < Self.rounds - Self.rounds / 50, "\(decoded) of \(Self.rounds) decoded")
    }

    @Test("random bytes against every schema: an error or valid JSON")
    func randomBytes() throws {
        let corpus = try Self.corpus()
        var generator = SplitMix(seed: Self.seed &+ 1)
        var failures: [String] = []
        var decoded = 0
        for round in 0..<Self.rounds {
            let entry = corpus[round % corpus.count]
            let count = Int(generator.next() % 48)
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if Self.check(entry.schema, bytes, { "round \(round), schema \(entry.text)" }, &failures) { decoded += 1 }
        }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
        #expect(decoded > 0)
    }
}
