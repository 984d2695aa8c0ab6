/// An Avro writer schema, parsed from its JSON text (the Schema Registry serves it as a string).
///
/// The schema is a graph of nodes held in one array: a named type is defined once and every
/// reference to it, its own fields included (a linked list, a tree), is the index of that node.
/// So recursive schemas need no reference cycles, and the decoder walks them by index. Records,
/// unions and enums hold ranges of flat tables rather than arrays of their own: a node is then a
/// plain value, and the decoder's hot loop copies nodes without reference counting.
///
/// Logical types are resolved here: a valid one becomes its own node kind, an unknown or invalid
/// one (a `date` on a string, a decimal whose scale exceeds its precision) leaves the underlying
/// type, as the specification says.
public struct AvroSchema: Sendable {
    let nodes: [AvroNode]
    let root: Int
    /// The records' fields, each record's together.
    let fields: [AvroField]
    /// By field, its name (for errors).
    let fieldNames: [String]
    /// The unions' branches (node indices), each union's together.
    let branches: [Int]
    /// The enums' symbols as ranges of `text`, each enum's together.
    let symbols: [Range<Int>]
    /// JSON text ready to append: field keys (`"name":`) and enum symbols (`"SYMBOL"`).
    let text: [UInt8]
    /// The fewest bytes a value of each node takes: bounds the item count a block may claim.
    let minimumSizes: [Int]

    /// Parses a schema. Throws `AvroError` with code `.invalidSchema` naming the problem.
    public init(parsing text: String) throws(AvroError) {
        var builder = AvroSchemaBuilder()
        root = try builder.node(for: try SchemaJSON.parse(text), namespace: "")
        nodes = builder.nodes
        fields = builder.fields
        fieldNames = builder.fieldNames
        branches = builder.branches
        symbols = builder.symbols
        self.text = builder.text
        minimumSizes = Self.minimumSizes(of: nodes, fields: fields, branches: branches)
    }

    /// The largest decimal precision: a decimal declaring more is ignored as an invalid logical
    /// type (its bytes become base64), because the exact text of a wider value costs time
    /// quadratic in its length, which a hostile value could exploit.
    public static let maximumDecimalPrecision = 4096

    /// A lower bound of each node's encoded size, with every reference to a node still being
    /// measured (a recursive type) counted as 0.
    private static func minimumSizes(of nodes: [AvroNode], fields: [AvroField], branches: [Int]) -> [Int] {
        var sizes = [Int?](repeating: nil, count: nodes.count)
        var visiting = Set<Int>()
        func size(_ index: Int) -> Int {
            if let known = sizes[index] { return known }
            if visiting.contains(index) { return 0 }
            visiting.insert(index)
            defer { visiting.remove(index) }
            let result: Int
            switch nodes[index] {
            case .null: result = 0
            case .record(let range):
                result = fields[range].reduce(0) { min($0 + size($1.type), 1 << 40) }
            case .union(let range):
                result = 1 + (branches[range].map(size).min() ?? 0)
            case .fixed(let count), .uuidFixed(let count), .decimal(_, _, fixedSize: let count?):
                result = count
            case .float: result = 4
            case .double: result = 8
            default: result = 1  // a varint, a length or a block count: at least one byte
            }
            sizes[index] = result
            return result
        }
        return nodes.indices.map(size)
    }
}

/// One node of the schema graph. Children are indices into `AvroSchema.nodes`; ranges are of
/// `AvroSchema.fields`, `.branches` and `.symbols`.
enum AvroNode: Sendable {
    case null, boolean, int, long, float, double, bytes, string
    case record(fields: Range<Int>)
    case enumeration(symbols: Range<Int>)
    case array(items: Int)
    case map(values: Int)
    case union(branches: Range<Int>)
    case fixed(size: Int)
    /// On `bytes` (`fixedSize` nil) or on a `fixed`; `magnitudeLimit` is the most bytes of
    /// magnitude its precision allows.
    case decimal(scale: Int, magnitudeLimit: Int, fixedSize: Int?)
    /// A `uuid` on a `fixed` of 16 bytes (a `uuid` on a string is the string).
    case uuidFixed(size: Int)
    /// Days since 1970-01-01, an `int`.
    case date
    /// Time of day: `time-millis` on an `int`, `time-micros` on a `long`.
    case time(TimeUnit)
    /// Since 1970-01-01T00:00:00Z; `local`: a wall-clock time in no zone, written without `Z`.
    case timestamp(TimeUnit, local: Bool)
    /// A named type while its definition is being parsed.
    case placeholder
}

struct AvroField: Sendable {
    /// `"name":`, a range of `AvroSchema.text`.
    let key: Range<Int>
    let type: Int
}

enum TimeUnit: Sendable {
    case millis, micros, nanos

    var perSecond: Int64 {
        switch self {
        case .millis: 1_000
        case .micros: 1_000_000
        case .nanos: 1_000_000_000
        }
    }

    var digits: Int {
        switch self {
        case .millis: 3
        case .micros: 6
        case .nanos: 9
        }
    }
}
