/// The Confluent Schema Registry's framing of a record value: magic byte 0, the schema id as 4
/// bytes big-endian, then the payload (Avro binary for `format: avro`, JSON for `json_sr`).
public enum SchemaRegistryWireFormat {
    /// Splits a framed value into its schema id and payload (which may be empty).
    public static func split(_ value: ArraySlice<UInt8>) throws(AvroError) -> (schemaID: UInt32, payload: ArraySlice<UInt8>) {
        guard let magic = value.first else { throw AvroError(.notFramed, "empty value (expected magic byte 0 and a 4-byte schema id)") }
        guard magic == 0 else { throw AvroError(.notFramed, "magic byte \(magic), expected 0 (not in the Schema Registry wire format)") }
        guard value.count >= 5 else { throw AvroError(.notFramed, "\(value.count) bytes, shorter than the 5-byte Schema Registry header") }
        let id = value.dropFirst().prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return (id, value.dropFirst(5))
    }

    public static func split(_ value: [UInt8]) throws(AvroError) -> (schemaID: UInt32, payload: ArraySlice<UInt8>) {
        try split(value[...])
    }
}
