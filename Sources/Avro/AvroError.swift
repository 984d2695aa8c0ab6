/// A schema that cannot be read, or bytes that do not decode with it. Never retriable: the same
/// bytes and schema fail the same way, so the caller dead-letters the record with `description`.
public struct AvroError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure, label-safe for metrics.
    public enum Code: String, Sendable {
        /// The writer schema is not valid JSON or not a valid Avro schema.
        case invalidSchema = "invalid_schema"
        /// The bytes ended inside a value.
        case truncated
        /// A value the schema does not allow: an index out of range, a length beyond the bytes
        /// left, text that is not UTF-8, a malformed varint, a block that does not add up.
        case invalidValue = "invalid_value"
        /// Values nested deeper than the decoder's limit.
        case tooDeep = "too_deep"
        /// Bytes left after the value.
        case trailingBytes = "trailing_bytes"
        /// Not in the Schema Registry wire format (magic byte 0 and a 4-byte schema id).
        case notFramed = "not_framed"
    }

    public let code: Code
    /// What went wrong and, for data, at which byte of the payload: "truncated at byte 17 reading a long".
    public let reason: String
    /// Where in the value, outermost first: record fields by name, array items and map entries by
    /// position (`order.lines[2].total`); empty at the top level and for schema errors.
    public private(set) var path: String = ""

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var isRetriable: Bool { false }
    /// A short, label-safe name for metrics.
    public var label: String { code.rawValue }
    public var description: String { path.isEmpty ? reason : "\(reason) in field '\(path)'" }

    /// The same error seen from the record that holds `field`.
    func within(field: String) -> AvroError {
        var outer = self
        outer.path = path.isEmpty ? field : path.first == "[" ? field + path : field + "." + path
        return outer
    }

    /// The same error seen from the array or map that holds the item at `position`.
    func within(position: Int) -> AvroError {
        var outer = self
        outer.path = path.isEmpty || path.first == "[" ? "[\(position)]" + path : "[\(position)]." + path
        return outer
    }
}
