import Foundation
import Synchronization

extension Router {
    /// The event a record's value holds for one route: its format undone (`json_sr`'s 5 bytes;
    /// `avro` values arrive already decoded to JSON), then its envelope. The JSON is validated
    /// once per distinct body, however many routes read it.
    struct EventCache {
        let record: SourceRecord
        private var parsed: [(bytes: ArraySlice<UInt8>, object: JSONObject?)] = []

        init(record: SourceRecord) { self.record = record }

        mutating func event(for route: Route) -> Placement<(object: JSONObject, bytes: [UInt8])> {
            if let reason = record.undecodable { return .failed(reason) }
            guard let value = record.value else {
                if case .debezium = route.envelope { return .skipped("tombstone") }
                return .failed("tombstone: the record has no value")
            }
            var body = value[...]
            if route.format == .jsonSR {
                guard value.count >= 5, value[0] == 0 else {
                    return .failed("not in the schema registry's wire format (magic byte 0, then a 4-byte schema id)")
                }
                body = value[5...]
            }
            guard let object = json(body) else { return .failed(route.format == .jsonSR ? "not a JSON object after the schema id" : "not a JSON object") }
            switch route.envelope {
            case .none: return .placed((object, Array(body)))
            case .debezium(let includeDeletes): return Debezium.event(in: object, includeDeletes: includeDeletes)
            }
        }

        private mutating func json(_ bytes: ArraySlice<UInt8>) -> JSONObject? {
            if let known = parsed.first(where: { $0.bytes == bytes }) { return known.object }
            let object = JSONObject(bytes: Array(bytes))
            parsed.append((bytes, object))
            return object
        }
    }

    /// Debezium change events (DESIGN.md §3), with or without the JSON converter's
    /// `schema`/`payload` wrapper.
    enum Debezium {
        static func event(in change: JSONObject, includeDeletes: Bool) -> Placement<(object: JSONObject, bytes: [UInt8])> {
            var change = change
            if change.contains("schema"), change.contains("payload") {
                guard let payload = change.objectBytes(at: "payload"), let unwrapped = JSONObject(bytes: payload) else { return .skipped("tombstone") }
                change = unwrapped
            }
            guard let op = change.string(at: "op") else { return .failed("debezium: no op field") }
            switch op {
            case "c", "u", "r":
                guard let after = change.objectBytes(at: "after"), let object = JSONObject(bytes: after) else {
                    return .failed("debezium: op \(op) without an after image")
                }
                return .placed((object, after))
            case "d":
                guard includeDeletes else { return .skipped("debezium delete") }
                guard let before = change.objectBytes(at: "before"), let marked = JSONObject(bytes: markedDeleted(before)) else {
                    return .failed("debezium: op d without a before image (the table needs REPLICA IDENTITY FULL or its equivalent)")
                }
                return .placed((marked, markedDeleted(before)))
            case "t", "m":
                return .skipped("debezium op \(op)")
            default:
                return .failed("debezium: unknown op \(op)")
            }
        }

        /// The object's bytes with `"_deleted":true` added as its last member.
        static func markedDeleted(_ object: [UInt8]) -> [UInt8] {
            var bytes = object
            guard let close = bytes.lastIndex(of: UInt8(ascii: "}")) else { return bytes }
            let isEmpty = bytes[..<close].last(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{")
            bytes.replaceSubrange(close..<close, with: Array((isEmpty ? #""_deleted":true"# : #","_deleted":true"#).utf8))
            return bytes
        }
    }
}

/// The routes whose source is a pattern (`^oms\..*`, librdkafka's regex subscription, which also
/// picks up topics created later), and which of them each topic seen so far matches.
final class PatternRoutes: Sendable {
    private let patterns: [(route: Route, regex: NSRegularExpressionBox)]
    private let matches = Mutex<[String: [Route]]>([:])

    init(_ routes: [Route]) {
        patterns = routes.compactMap { route in (try? NSRegularExpression(pattern: route.source)).map { (route, NSRegularExpressionBox($0)) } }
    }

    var sources: [String] { Array(Set(patterns.map(\.route.source))) }
    var isEmpty: Bool { patterns.isEmpty }

    func routes(matching topic: String) -> [Route] {
        guard !patterns.isEmpty else { return [] }
        if let known = matches.withLock({ $0[topic] }) { return known }
        let range = NSRange(topic.startIndex..., in: topic)
        let found = patterns.filter { $0.regex.value.firstMatch(in: topic, range: range) != nil }.map(\.route)
        matches.withLock { $0[topic] = found }
        return found
    }
}

/// NSRegularExpression is immutable and thread-safe once made.
struct NSRegularExpressionBox: @unchecked Sendable {
    let value: NSRegularExpression
    init(_ value: NSRegularExpression) { self.value = value }
}
