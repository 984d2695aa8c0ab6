import Foundation

/// A parsed event: a JSON object with dotted-path lookups.
public struct JSONObject: @unchecked Sendable {
    // Values are Foundation JSON values (immutable once parsed).
    let fields: [String: Any]

    /// Parses bytes that must be a JSON object; nil for anything else (garbage, arrays, scalars).
    public init?(bytes: [UInt8]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return nil }
        fields = object
    }

    init(fields: [String: Any]) { self.fields = fields }

    /// The value at a dotted path (`order.site_id`).
    func value(at path: String) -> Any? {
        var current: Any? = fields
        for component in path.split(separator: ".", omittingEmptySubsequences: false) {
            current = (current as? [String: Any])?[String(component)]
        }
        return current
    }

    /// A string at a path; numbers are accepted and written in decimal.
    public func string(at path: String) -> String? {
        switch value(at: path) {
        case let string as String: string
        // Booleans are NSNumbers of type "c" here; they are not ids.
        case let number as NSNumber where String(cString: number.objCType) != "c": number.stringValue
        default: nil
        }
    }

    /// The object at a path, serialised back to JSON.
    public func objectBytes(at path: String) -> [UInt8]? {
        guard let object = value(at: path) as? [String: Any],
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return nil }
        return Array(data)
    }
}
