import Foundation
import Testing

@testable import Avro

/// One value written by fastavro (`scripts/avro_fixtures.py`): the writer schema, the Avro
/// binary, and the JSON DESIGN.md §3 maps it to.
struct ReferenceCase: Sendable, CustomStringConvertible {
    let name: String
    let schema: String
    let avro: [UInt8]
    let expected: String

    var description: String { name }
}

struct FixtureFailure: Error, Sendable, CustomStringConvertible {
    let description: String
}

/// The reference cases, made once per test process by `scripts/avro_fixtures.sh` (which installs
/// fastavro in a virtualenv on first use). When it cannot run, the tests that need it fail with
/// its message: they never pass without having checked anything.
enum ReferenceFixtures {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The seed of the random values (`AVRO_FIXTURE_SEED`, 1 by default).
    static let seed = ProcessInfo.processInfo.environment["AVRO_FIXTURE_SEED"] ?? "1"

    static let cases: Result<[ReferenceCase], FixtureFailure> = Result { () throws(FixtureFailure) in try generate() }

    private static func generate() throws(FixtureFailure) -> [ReferenceCase] {
        let script = repository.appendingPathComponent("scripts/avro_fixtures.sh").path
        let errorLog = FileManager.default.temporaryDirectory.appendingPathComponent("avro-fixtures-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: errorLog) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, seed]
        let output = Pipe()
        process.standardOutput = output
        do {
            guard FileManager.default.createFile(atPath: errorLog.path, contents: nil) else { throw FixtureFailure(description: "cannot write \(errorLog.path)") }
            process.standardError = try FileHandle(forWritingTo: errorLog)
            try process.run()
        } catch {
            throw FixtureFailure(description: "could not run \(script): \(error)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let log = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
            throw FixtureFailure(description: """
                the reference implementation is unavailable: \(script) exited with status \(process.terminationStatus) \
                (it needs python3 with venv, see scripts/setup.sh, and PyPI on first use to install fastavro):
                \(log.suffix(2000))
                """)
        }
        guard let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let cases = document["cases"] as? [[String: String]]
        else { throw FixtureFailure(description: "\(script) printed no cases: \(String(decoding: data.prefix(500), as: UTF8.self))") }
        return cases.map { entry in
            ReferenceCase(name: entry["name"] ?? "?", schema: entry["schema"] ?? "", avro: bytes(hex: entry["avro"] ?? ""), expected: entry["expected"] ?? "")
        }
    }

    static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count - 1, by: 2).map { UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16)! }
    }
}

/// Compares JSON texts as values: objects member by member in order (the decoder keeps field
/// order), numbers by text or, when either has a fraction or an exponent, by their Double (Python
/// writes `1e+16` where Swift may write `1e16`-like forms; a float32's shortest text is the same
/// value either way).
enum JSONMatch {
    static func difference(actual: [UInt8], expected: String) -> String? {
        let actualValue: SchemaJSON
        switch parse(actual) {
        case .success(let value): actualValue = value
        case .failure(let problem): return problem.description
        }
        guard let expectedValue = try? SchemaJSON.parse(expected, maxDepth: 10_000) else { return "expected is not JSON: \(expected.prefix(300))" }
        return same(actualValue, expectedValue) ? nil : "got \(String(decoding: actual.prefix(400), as: UTF8.self)), expected \(expected.prefix(400))"
    }

    /// The decoder's output as a JSON value, if it is UTF-8 and valid JSON (RFC 8259).
    static func parse(_ json: [UInt8]) -> Result<SchemaJSON, FixtureFailure> {
        guard let text = String(validating: json, as: UTF8.self) else { return .failure(FixtureFailure(description: "output is not UTF-8")) }
        do {
            return .success(try SchemaJSON.parse(text, maxDepth: 10_000))
        } catch {
            return .failure(FixtureFailure(description: "output is not JSON (\(error)): \(text.prefix(300))"))
        }
    }

    static func same(_ a: SchemaJSON, _ b: SchemaJSON) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)):
            if x == y { return true }
            let fractional = { (text: String) in text.contains { ".eE".contains($0) } }
            return (fractional(x) || fractional(y)) && Double(x) != nil && Double(x) == Double(y)
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && same($0.value, $1.value) }
        default:
            return a == b
        }
    }
}

/// A small seeded generator, so a failing fuzz case can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
