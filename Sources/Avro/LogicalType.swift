/// The logical types the decoder writes as text. Any other, or one on the wrong underlying type
/// or with invalid attributes, is ignored and the value decodes as its underlying type, as the
/// specification requires of readers. (`duration` and `big-decimal` are among those ignored: a
/// duration stays base64 of its 12 bytes, a big-decimal base64 of its bytes.)
enum LogicalType {
    static func resolve(_ json: SchemaJSON, on underlying: AvroNode) -> AvroNode? {
        guard case .string(let name)? = json["logicalType"] else { return nil }
        switch (name, underlying) {
        case ("decimal", .bytes): return decimal(json, fixedSize: nil)
        case ("decimal", .fixed(let size)): return decimal(json, fixedSize: size)
        case ("uuid", .string): return .string
        case ("uuid", .fixed(16)): return .uuidFixed(size: 16)
        case ("date", .int): return .date
        case ("time-millis", .int): return .time(.millis)
        case ("time-micros", .long): return .time(.micros)
        case ("timestamp-millis", .long): return .timestamp(.millis, local: false)
        case ("timestamp-micros", .long): return .timestamp(.micros, local: false)
        case ("timestamp-nanos", .long): return .timestamp(.nanos, local: false)
        case ("local-timestamp-millis", .long): return .timestamp(.millis, local: true)
        case ("local-timestamp-micros", .long): return .timestamp(.micros, local: true)
        case ("local-timestamp-nanos", .long): return .timestamp(.nanos, local: true)
        default: return nil
        }
    }

    /// A decimal needs 1 ≤ precision (at most `AvroSchema.maximumDecimalPrecision`, and for a
    /// fixed at most what its size holds) and 0 ≤ scale ≤ precision.
    private static func decimal(_ json: SchemaJSON, fixedSize: Int?) -> AvroNode? {
        guard case .number(let precisionText)? = json["precision"], let precision = Int(precisionText),
            (1...AvroSchema.maximumDecimalPrecision).contains(precision)
        else { return nil }
        var scale = 0
        switch json["scale"] {
        case nil: break
        case .number(let text)?:
            guard let value = Int(text), (0...precision).contains(value) else { return nil }
            scale = value
        default: return nil
        }
        if let fixedSize, precision > maximumPrecision(fixedSize: fixedSize) { return nil }
        return .decimal(scale: scale, magnitudeLimit: JSONWriter.decimalMagnitudeLimit(precision: precision), fixedSize: fixedSize)
    }

    /// floor(log10(2^(8n-1) - 1)): the digits a two's-complement number of n bytes always holds.
    static func maximumPrecision(fixedSize: Int) -> Int {
        guard fixedSize > 0 else { return 0 }
        return Int((Double(8 * min(fixedSize, 1 << 20) - 1) * 0.301_029_995_663_981_2).rounded(.down))
    }
}
