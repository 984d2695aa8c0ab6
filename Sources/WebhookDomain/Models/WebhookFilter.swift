/// A webhook's subscription filter (DESIGN.md §4): a small predicate on the event a message
/// carries (its payload, as the receiver would get it), applied after routing. Messages it
/// refuses are not sent, are counted, and settle at once.
///
/// Fields are dotted paths. Values compare as text: strings as they are, numbers as written
/// (integers) or in their shortest form, `true`/`false`; `null` and absent fields equal nothing.
public indirect enum WebhookFilter: Sendable, Equatable {
    case equals(field: String, value: String)
    case oneOf(field: String, values: [String])
    case prefix(field: String, prefix: String)
    /// The field is present (any value, `null` included) — or absent, with `false`.
    case exists(field: String, Bool)
    case all([WebhookFilter])
    case any([WebhookFilter])
    case not(WebhookFilter)

    /// Nesting beyond this is refused where filters are read, so evaluating one stays cheap.
    public static let maxDepth = 8

    public func matches(_ payload: [UInt8]) -> Bool {
        guard let event = JSONObject(bytes: payload) else { return false }
        return matches(event)
    }

    public func matches(_ event: JSONObject) -> Bool {
        switch self {
        case .equals(let field, let value): event.scalar(at: field) == value
        case .oneOf(let field, let values): event.scalar(at: field).map(values.contains) ?? false
        case .prefix(let field, let prefix): event.scalar(at: field)?.hasPrefix(prefix) ?? false
        case .exists(let field, let wanted): event.contains(field) == wanted
        case .all(let filters): filters.allSatisfy { $0.matches(event) }
        case .any(let filters): filters.contains { $0.matches(event) }
        case .not(let filter): !filter.matches(event)
        }
    }

    public var depth: Int {
        switch self {
        case .equals, .oneOf, .prefix, .exists: 1
        case .all(let filters), .any(let filters): 1 + (filters.map(\.depth).max() ?? 0)
        case .not(let filter): 1 + filter.depth
        }
    }
}

/// The filter's JSON form, the same in the config file, the API and the control topic:
/// `{"field": "new_state", "in": ["shipped"]}`, `{"all": [...]}`, `{"any": [...]}`, `{"not": {...}}`.
/// Values compared may be written as strings, numbers or booleans.
extension WebhookFilter: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case field, eq, `in`, prefix, exists, all, any, not
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let given = CodingKeys.allCases.filter { container.contains($0) && $0 != .field }
        guard given.count == 1, let key = given.first else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "give exactly one of eq, in, prefix, exists (with field), all, any, not"))
        }
        func field() throws -> String {
            let path = try container.decode(String.self, forKey: .field)
            guard !path.isEmpty, !path.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
                throw DecodingError.dataCorruptedError(forKey: .field, in: container, debugDescription: "a dotted path such as order.state")
            }
            return path
        }
        switch key {
        case .eq: self = .equals(field: try field(), value: try Self.text(container, .eq))
        case .in:
            var values: [String] = []
            var list = try container.nestedUnkeyedContainer(forKey: .in)
            while !list.isAtEnd { values.append(try Self.text(&list)) }
            guard !values.isEmpty else { throw DecodingError.dataCorruptedError(forKey: .in, in: container, debugDescription: "at least one value") }
            self = .oneOf(field: try field(), values: values)
        case .prefix: self = .prefix(field: try field(), prefix: try container.decode(String.self, forKey: .prefix))
        case .exists: self = .exists(field: try field(), try container.decode(Bool.self, forKey: .exists))
        case .all, .any:
            let filters = try container.decode([WebhookFilter].self, forKey: key)
            guard !filters.isEmpty else { throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "at least one filter") }
            self = key == .all ? .all(filters) : .any(filters)
        case .not: self = .not(try container.decode(WebhookFilter.self, forKey: .not))
        case .field: fatalError("excluded above")
        }
        if container.contains(.field), [.all, .any, .not].contains(key) {
            throw DecodingError.dataCorruptedError(forKey: .field, in: container, debugDescription: "field goes with eq, in, prefix or exists")
        }
        guard depth <= Self.maxDepth else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "nested more than \(Self.maxDepth) deep"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .equals(let field, let value): try container.encode(field, forKey: .field); try container.encode(value, forKey: .eq)
        case .oneOf(let field, let values): try container.encode(field, forKey: .field); try container.encode(values, forKey: .in)
        case .prefix(let field, let prefix): try container.encode(field, forKey: .field); try container.encode(prefix, forKey: .prefix)
        case .exists(let field, let wanted): try container.encode(field, forKey: .field); try container.encode(wanted, forKey: .exists)
        case .all(let filters): try container.encode(filters, forKey: .all)
        case .any(let filters): try container.encode(filters, forKey: .any)
        case .not(let filter): try container.encode(filter, forKey: .not)
        }
    }

    /// A compared value as text: a string, an integer, another number (shortest form) or a boolean.
    private static func text(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> String {
        if let text = try? container.decode(String.self, forKey: key) { return text }
        if let integer = try? container.decode(Int64.self, forKey: key) { return String(integer) }
        if let number = try? container.decode(Double.self, forKey: key) { return String(number) }
        if let flag = try? container.decode(Bool.self, forKey: key) { return String(flag) }
        throw DecodingError.dataCorrupted(.init(codingPath: container.codingPath + [key], debugDescription: "expected a string, number or boolean"))
    }

    private static func text(_ list: inout any UnkeyedDecodingContainer) throws -> String {
        if let text = try? list.decode(String.self) { return text }
        if let integer = try? list.decode(Int64.self) { return String(integer) }
        if let number = try? list.decode(Double.self) { return String(number) }
        if let flag = try? list.decode(Bool.self) { return String(flag) }
        throw DecodingError.dataCorrupted(.init(codingPath: list.codingPath, debugDescription: "expected a string, number or boolean"))
    }
}
