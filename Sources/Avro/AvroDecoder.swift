/// Decodes one Avro binary value (the payload after the Schema Registry's 5 bytes) with its
/// writer schema into JSON text, as DESIGN.md §3 maps it: records → objects in field order,
/// unions → the plain value, enums → the symbol, bytes and fixed → base64, maps → objects, the
/// logical types → text (see `JSONWriter+Time`, `JSONWriter+Decimal`); NaN and ±Infinity → null.
///
/// Input is untrusted: every read is bounds-checked, a length or a block count must fit in the
/// bytes left, nesting is limited to `maxDepth`, and every failure is a thrown `AvroError`.
public struct AvroDecoder: Sendable {
    public let schema: AvroSchema
    /// The deepest nesting of records, arrays and maps decoded.
    public let maxDepth: Int
    /// The most items of a type that takes no bytes (`null`, an empty record) one value may
    /// hold in all its arrays: without it a few bytes could claim 2^62 nulls.
    public let maxEmptyItems: Int

    public init(schema: AvroSchema, maxDepth: Int = 128, maxEmptyItems: Int = 65_536) {
        self.schema = schema
        self.maxDepth = maxDepth
        self.maxEmptyItems = maxEmptyItems
    }

    /// The JSON text of the value in `payload`, which must hold exactly one value.
    public func json(from payload: ArraySlice<UInt8>) throws(AvroError) -> [UInt8] {
        // The payload and the schema's text are read through buffer pointers valid for this call
        // only (see AvroBinaryReader); every index is checked against their counts first.
        try payload.withUnsafeBufferPointer { (input) throws(AvroError) in
            try schema.text.withUnsafeBufferPointer { (text) throws(AvroError) in
                var run = DecodingRun(decoder: self, payload: input, text: text)
                run.writer.output.reserveCapacity(input.count * 2 + 16)
                try run.value(schema.root, depth: 0)
                guard run.reader.remaining == 0 else {
                    throw AvroError(.trailingBytes, "\(run.reader.remaining) bytes left after the value at byte \(run.reader.offset)")
                }
                return run.writer.output
            }
        }
    }

    public func json(from payload: [UInt8]) throws(AvroError) -> [UInt8] {
        try json(from: payload[...])
    }
}

/// The state of one decoding: where the reader is, what has been written, what budget is left.
private struct DecodingRun {
    let schema: AvroSchema
    /// `schema.text`, scoped by `AvroDecoder.json(from:)`.
    let text: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var emptyItemsLeft: Int
    var reader: AvroBinaryReader
    var writer = JSONWriter()

    init(decoder: AvroDecoder, payload: UnsafeBufferPointer<UInt8>, text: UnsafeBufferPointer<UInt8>) {
        schema = decoder.schema
        self.text = text
        maxDepth = decoder.maxDepth
        emptyItemsLeft = decoder.maxEmptyItems
        reader = AvroBinaryReader(payload)
    }

    mutating func value(_ node: Int, depth: Int) throws(AvroError) {
        switch schema.nodes[node] {
        case .null: writer.append("null")
        case .boolean:
            switch try reader.byte("a boolean") {
            case 0: writer.append("false")
            case 1: writer.append("true")
            case let other: throw reader.invalid("boolean byte \(other) (not 0 or 1)", at: reader.offset - 1)
            }
        case .int: writer.integer(Int64(try reader.int()))
        case .long: writer.integer(try reader.long())
        case .float: writer.floatingPoint(try reader.float())
        case .double: writer.floatingPoint(try reader.double())
        case .bytes: writer.base64(try reader.lengthPrefixed("bytes"))
        case .string: try string("a string")
        case .fixed(let size): writer.base64(try reader.take(size, "a fixed"))
        case .enumeration(let symbols):
            let start = reader.offset
            let index = try reader.int("an enum index")
            guard index >= 0, index < symbols.count else {
                throw reader.invalid("enum index \(index) (\(symbols.count) symbols)", at: start)
            }
            writer.append(UnsafeBufferPointer(rebasing: text[schema.symbols[symbols.lowerBound + Int(index)]]))
        case .union(let branches):
            let start = reader.offset
            let index = try reader.long("a union index")
            guard index >= 0, index < branches.count else {
                throw reader.invalid("union index \(index) (\(branches.count) branches)", at: start)
            }
            try value(schema.branches[branches.lowerBound + Int(index)], depth: depth)
        case .record(let fields):
            try enter(depth)
            writer.append(UInt8(ascii: "{"))
            for index in fields {
                if index > fields.lowerBound { writer.append(UInt8(ascii: ",")) }
                let field = schema.fields[index]
                writer.append(UnsafeBufferPointer(rebasing: text[field.key]))
                do { try value(field.type, depth: depth + 1) } catch { throw error.within(field: schema.fieldNames[index]) }
            }
            writer.append(UInt8(ascii: "}"))
        case .array(let items):
            try enter(depth)
            writer.append(UInt8(ascii: "["))
            try blocks(itemSize: schema.minimumSizes[items], "an array block") { (run: inout DecodingRun) throws(AvroError) in
                try run.value(items, depth: depth + 1)
            }
            writer.append(UInt8(ascii: "]"))
        case .map(let values):
            try enter(depth)
            writer.append(UInt8(ascii: "{"))
            try blocks(itemSize: 1 + schema.minimumSizes[values], "a map block") { (run: inout DecodingRun) throws(AvroError) in
                try run.string("a map key")
                run.writer.append(UInt8(ascii: ":"))
                try run.value(values, depth: depth + 1)
            }
            writer.append(UInt8(ascii: "}"))
        case .decimal(let scale, let limit, let fixedSize):
            let start = reader.offset
            let bytes = if let fixedSize { try reader.take(fixedSize, "a decimal") } else { try reader.lengthPrefixed("a decimal") }
            guard writer.decimal(bytes, scale: scale, magnitudeLimit: limit) else {
                throw reader.invalid("decimal of \(bytes.count) bytes exceeds its precision", at: start)
            }
        case .uuidFixed(let size): writer.uuid(try reader.take(size, "a uuid"))
        case .date: writer.date(days: try reader.int("a date"))
        case .time(let unit): writer.time(unit == .millis ? Int64(try reader.int("a time")) : try reader.long("a time"), unit: unit)
        case .timestamp(let unit, let local): writer.timestamp(try reader.long("a timestamp"), unit: unit, local: local)
        case .placeholder: preconditionFailure("a named type's definition was never completed")
        }
    }

    private mutating func string(_ what: StaticString) throws(AvroError) {
        let bytes = try reader.lengthPrefixed(what)
        try writer.string(bytes, at: reader.offset - bytes.count)
    }

    private func enter(_ depth: Int) throws(AvroError) {
        guard depth < maxDepth else { throw AvroError(.tooDeep, "nested deeper than \(maxDepth) levels at byte \(reader.offset)") }
    }

    /// Array and map items come in blocks: a count, then that many items; 0 ends. A negative
    /// count is followed by the block's size in bytes, which must then match what the items took.
    /// A count must fit in the bytes left at `itemSize` bytes an item (or in the empty-item
    /// budget when an item may take none), so a hostile count fails at once.
    private mutating func blocks(itemSize: Int, _ what: StaticString, item: (inout DecodingRun) throws(AvroError) -> Void) throws(AvroError) {
        var position = 0
        while true {
            let start = reader.offset
            var count = try reader.long(what)
            if count == 0 { return }
            var declared: (size: Int, end: Int)?
            if count < 0 {
                guard count != .min else { throw reader.invalid("block count \(count)", at: start) }
                count = -count
                let size = try reader.long("a block size")
                guard size >= 0, size <= reader.remaining else {
                    throw reader.invalid("block size \(size) (\(reader.remaining) bytes left)", at: start)
                }
                declared = (Int(size), reader.offset + Int(size))
            }
            if itemSize > 0 {
                guard count <= reader.remaining / itemSize else {
                    throw reader.invalid("block of \(count) items (\(reader.remaining) bytes left)", at: start)
                }
            } else {
                guard count <= emptyItemsLeft else { throw reader.invalid("more than \(emptyItemsLeft) empty items", at: start) }
                emptyItemsLeft -= Int(count)
            }
            for _ in 0..<count {
                if position > 0 { writer.append(UInt8(ascii: ",")) }
                do { try item(&self) } catch { throw error.within(position: position) }
                position += 1
            }
            if let declared, declared.end != reader.offset {
                throw reader.invalid("block declared \(declared.size) bytes but its items took \(reader.offset - declared.end + declared.size)", at: start)
            }
        }
    }
}
