import Foundation
import Hummingbird

/// A JSON object from a request body with typed readers whose errors name the field
/// (`webhook.topics[1]`), for 400 answers that say what to fix.
struct JSONBody: @unchecked Sendable {
    // Foundation JSON values, immutable once parsed.
    let fields: [String: Any]
    let path: String

    static let maxBytes = 64 * 1024

    /// Reads the body: at most `maxBytes` (413 beyond), a JSON object (400 otherwise); an empty
    /// body reads as `{}`.
    static func read(_ request: Request) async throws -> JSONBody {
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: maxBytes) } catch {
            throw AdminError(.contentTooLarge, "payload_too_large", "the body is larger than \(maxBytes) bytes")
        }
        let bytes = Array(buffer: buffer)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return JSONBody(fields: [:], path: "") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) else {
            throw AdminError(.badRequest, "invalid_json", "the body is not valid JSON")
        }
        guard let fields = object as? [String: Any] else { throw AdminError(.badRequest, "invalid_json", "the body must be a JSON object") }
        return JSONBody(fields: fields, path: "")
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func has(_ key: String) -> Bool { fields[key] != nil && !(fields[key] is NSNull) }

    func allow(_ keys: Set<String>) throws {
        if let unknown = fields.keys.sorted().first(where: { !keys.contains($0) }) {
            throw AdminError.badRequest(name(unknown), "unknown field (allowed: \(keys.sorted().joined(separator: ", ")))")
        }
    }

    func object(_ key: String) throws -> JSONBody? {
        guard has(key) else { return nil }
        guard let object = fields[key] as? [String: Any] else { throw AdminError.badRequest(name(key), "expected an object") }
        return JSONBody(fields: object, path: name(key))
    }

    func string(_ key: String) throws -> String? {
        guard has(key) else { return nil }
        guard let value = fields[key] as? String else { throw AdminError.badRequest(name(key), "expected a string") }
        guard !value.isEmpty else { throw AdminError.badRequest(name(key), "must not be empty") }
        return value
    }

    func require<T>(_ key: String, _ read: (String) throws -> T?) throws -> T {
        guard let value = try read(key) else { throw AdminError.badRequest(name(key), "required") }
        return value
    }

    func bool(_ key: String) throws -> Bool? {
        guard has(key) else { return nil }
        guard let number = fields[key] as? NSNumber, Self.isBool(number) else { throw AdminError.badRequest(name(key), "expected true or false") }
        return number.boolValue
    }

    func number(_ key: String) throws -> Double? {
        guard has(key) else { return nil }
        guard let number = fields[key] as? NSNumber, !Self.isBool(number), number.doubleValue.isFinite else {
            throw AdminError.badRequest(name(key), "expected a number")
        }
        return number.doubleValue
    }

    /// A whole number, any size an `Int` holds (its limits are its validator's).
    func int(_ key: String) throws -> Int? {
        guard let value = try number(key) else { return nil }
        guard value == value.rounded(), let int = Int(exactly: value) else { throw AdminError.badRequest(name(key), "expected a whole number") }
        return int
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = try number(key) else { return nil }
        guard value == value.rounded(), let int = Int(exactly: value), range.contains(int) else {
            throw AdminError.badRequest(name(key), "expected a whole number between \(range.lowerBound) and \(range.upperBound)")
        }
        return int
    }

    func strings(_ key: String) throws -> [String]? {
        guard has(key) else { return nil }
        guard let values = fields[key] as? [Any] else { throw AdminError.badRequest(name(key), "expected a list of strings") }
        return try values.enumerated().map { index, value in
            guard let string = value as? String, !string.isEmpty else { throw AdminError.badRequest("\(name(key))[\(index)]", "expected a non-empty string") }
            return string
        }
    }

    func oneOf<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws -> T? where T.RawValue == String {
        guard let text = try string(key) else { return nil }
        guard let value = T(rawValue: text) ?? T(rawValue: text.uppercased()) ?? T(rawValue: text.lowercased()) else {
            throw AdminError.badRequest(name(key), "expected one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    /// JSON booleans arrive as NSNumber too; their type encoding is "c" (numbers are "i", "q", "d").
    static func isBool(_ number: NSNumber) -> Bool { String(cString: number.objCType) == "c" }
}
