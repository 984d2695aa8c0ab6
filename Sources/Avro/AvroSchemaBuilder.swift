/// Turns schema JSON into nodes, following the specification's rules for names: a name with a dot
/// is a fullname; otherwise its namespace is the type's `namespace` or the enclosing one. A
/// reference is looked up in the enclosing namespace, then in the null namespace, and must follow
/// the definition (a record may refer to itself from its own fields).
struct AvroSchemaBuilder {
    private(set) var nodes: [AvroNode] = []
    private(set) var fields: [AvroField] = []
    private(set) var fieldNames: [String] = []
    private(set) var branches: [Int] = []
    private(set) var symbols: [Range<Int>] = []
    private(set) var text: [UInt8] = []
    /// Fullname → node.
    private var named: [String: Int] = [:]
    /// Per node, what a union may hold only once: the type name, or the fullname of a named type.
    private var unionKeys: [String] = []

    private static let primitives: [String: AvroNode] = [
        "null": .null, "boolean": .boolean, "int": .int, "long": .long,
        "float": .float, "double": .double, "bytes": .bytes, "string": .string,
    ]

    mutating func node(for json: SchemaJSON, namespace: String) throws(AvroError) -> Int {
        switch json {
        case .string(let name):
            if let primitive = Self.primitives[name] { return add(primitive, unionKey: name) }
            return try reference(name, namespace: namespace)
        case .array(let schemas):
            return try union(schemas, namespace: namespace)
        case .object:
            return try complex(json, namespace: namespace)
        default:
            throw invalid("a schema must be a type name, an object or a union array, not \(json.brief)")
        }
    }

    private mutating func addText(_ bytes: [UInt8]) -> Range<Int> {
        text.append(contentsOf: bytes)
        return (text.count - bytes.count)..<text.count
    }

    private mutating func add(_ node: AvroNode, unionKey: String) -> Int {
        nodes.append(node)
        unionKeys.append(unionKey)
        return nodes.count - 1
    }

    private func reference(_ name: String, namespace: String) throws(AvroError) -> Int {
        let candidates = name.contains(".") || namespace.isEmpty ? [name] : [namespace + "." + name, name]
        guard let index = candidates.lazy.compactMap({ named[$0] }).first else {
            throw invalid("unknown type '\(name)' (a named type must be defined before it is used)")
        }
        return index
    }

    private mutating func union(_ schemas: [SchemaJSON], namespace: String) throws(AvroError) -> Int {
        var indices: [Int] = []
        for branch in schemas {
            if case .array = branch { throw invalid("a union may not immediately contain another union") }
            let index = try node(for: branch, namespace: namespace)
            guard !indices.contains(where: { unionKeys[$0] == unionKeys[index] }) else {
                throw invalid("union holds '\(unionKeys[index])' twice")
            }
            indices.append(index)
        }
        branches.append(contentsOf: indices)
        return add(.union(branches: (branches.count - indices.count)..<branches.count), unionKey: "union")
    }

    private mutating func complex(_ json: SchemaJSON, namespace: String) throws(AvroError) -> Int {
        let type: String
        switch json["type"] {
        case .string(let name)?: type = name
        case let nested? where nested.isContainer: return try node(for: nested, namespace: namespace)
        case let other?: throw invalid("\"type\" must be a type name or a schema, not \(other.brief)")
        case nil: throw invalid("schema object without \"type\"")
        }
        switch type {
        case "record", "error":
            return try record(json, namespace: namespace)
        case "enum":
            let (index, _) = try define(json, namespace: namespace)
            guard case .array(let values)? = json["symbols"] else { throw invalid("enum '\(unionKeys[index])' needs \"symbols\", an array") }
            var names: [String] = []
            for value in values {
                guard case .string(let symbol) = value, Self.isValidName(symbol) else {
                    throw invalid("enum '\(unionKeys[index])' has symbol \(value.brief), not a valid name")
                }
                guard !names.contains(symbol) else { throw invalid("enum '\(unionKeys[index])' has symbol '\(symbol)' twice") }
                names.append(symbol)
            }
            for name in names { symbols.append(addText(JSONWriter.quoted(name))) }
            nodes[index] = .enumeration(symbols: (symbols.count - names.count)..<symbols.count)
            return index
        case "fixed":
            let (index, _) = try define(json, namespace: namespace)
            guard case .number(let text)? = json["size"], let size = Int(text), size >= 0, size <= 1 << 40 else {
                throw invalid("fixed '\(unionKeys[index])' needs \"size\", a non-negative integer")
            }
            nodes[index] = LogicalType.resolve(json, on: .fixed(size: size)) ?? .fixed(size: size)
            return index
        case "array":
            guard let items = json["items"] else { throw invalid("array schema without \"items\"") }
            return add(.array(items: try node(for: items, namespace: namespace)), unionKey: "array")
        case "map":
            guard let values = json["values"] else { throw invalid("map schema without \"values\"") }
            return add(.map(values: try node(for: values, namespace: namespace)), unionKey: "map")
        default:
            if let primitive = Self.primitives[type] {
                return add(LogicalType.resolve(json, on: primitive) ?? primitive, unionKey: type)
            }
            return try reference(type, namespace: namespace)
        }
    }

    private mutating func record(_ json: SchemaJSON, namespace: String) throws(AvroError) -> Int {
        let (index, recordNamespace) = try define(json, namespace: namespace)
        let fullname = unionKeys[index]
        guard case .array(let values)? = json["fields"] else { throw invalid("record '\(fullname)' needs \"fields\", an array") }
        // The fields' types first (they may define types with fields of their own), then this
        // record's fields together.
        var ownFields: [(name: String, type: Int)] = []
        for value in values {
            guard case .string(let name)? = value["name"], Self.isValidName(name) else {
                throw invalid("record '\(fullname)' has a field without a valid \"name\": \(value.brief)")
            }
            guard !ownFields.contains(where: { $0.name == name }) else { throw invalid("record '\(fullname)' has field '\(name)' twice") }
            guard let type = value["type"] else { throw invalid("field '\(name)' of record '\(fullname)' has no \"type\"") }
            do {
                ownFields.append((name, try node(for: type, namespace: recordNamespace)))
            } catch {
                throw AvroError(.invalidSchema, "field '\(name)' of record '\(fullname)': \(error.reason)")
            }
        }
        for field in ownFields {
            fields.append(AvroField(key: addText(JSONWriter.quoted(field.name) + [UInt8(ascii: ":")]), type: field.type))
            fieldNames.append(field.name)
        }
        nodes[index] = .record(fields: (fields.count - ownFields.count)..<fields.count)
        return index
    }

    /// Registers a named type (record, enum, fixed) before its body is read, so the body may refer
    /// to it. Returns its node and the namespace its body's names are resolved in.
    private mutating func define(_ json: SchemaJSON, namespace: String) throws(AvroError) -> (index: Int, namespace: String) {
        guard case .string(let name)? = json["name"] else { throw invalid("named type without a \"name\": \(json.brief)") }
        var fullname = name
        if !name.contains(".") {
            let space: String
            switch json["namespace"] {
            case .string(let explicit)?: space = explicit
            case nil, .null?: space = namespace
            case let other?: throw invalid("\"namespace\" of '\(name)' must be a string, not \(other.brief)")
            }
            fullname = space.isEmpty ? name : space + "." + name
        }
        let parts = fullname.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.allSatisfy({ Self.isValidName($0) }) else { throw invalid("'\(fullname)' is not a valid name") }
        guard Self.primitives[String(parts.last!)] == nil else { throw invalid("'\(fullname)' redefines a primitive type") }
        guard named[fullname] == nil else { throw invalid("'\(fullname)' is defined twice") }
        let index = add(.placeholder, unionKey: fullname)
        named[fullname] = index
        return (index, parts.dropLast().joined(separator: "."))
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`
    static func isValidName(_ name: some StringProtocol) -> Bool {
        guard let first = name.utf8.first, first == UInt8(ascii: "_") || (first | 0x20) >= UInt8(ascii: "a") && (first | 0x20) <= UInt8(ascii: "z") else {
            return false
        }
        return name.utf8.allSatisfy { byte in
            byte == UInt8(ascii: "_") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
        }
    }

    private func invalid(_ reason: String) -> AvroError { AvroError(.invalidSchema, reason) }
}

extension SchemaJSON {
    var isContainer: Bool {
        switch self {
        case .object, .array: true
        default: false
        }
    }

    /// A short rendering for error messages.
    var brief: String {
        switch self {
        case .null: "null"
        case .bool(let value): String(value)
        case .number(let text): text
        case .string(let text): "'\(text.prefix(40))'"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
