import Testing

@testable import Avro

@Suite("Avro schemas")
struct SchemaTests {
    /// Schemas the specification refuses, and a part of the message that names the problem.
    static let invalid: [(schema: String, problem: String)] = [
        ("", "schema is not valid JSON: unexpected end at byte 0"),
        (#"{"type": "record""#, "expected ',' or '}'"),
        (#""string" x"#, "unexpected text after the value"),
        (#"{"type": "string", "doc": "\ud800"}"#, "lone surrogate"),
        ("42", "a schema must be a type name, an object or a union array, not 42"),
        (#"{"doc": "no type"}"#, #"schema object without "type""#),
        (#"{"type": 7}"#, #""type" must be a type name or a schema, not 7"#),
        (#""Nowhere""#, "unknown type 'Nowhere'"),
        (#"{"type": "record", "fields": []}"#, #"named type without a "name""#),
        (#"{"type": "record", "name": "R"}"#, #"record 'R' needs "fields", an array"#),
        (#"{"type": "record", "name": "R", "fields": [{"name": "1a", "type": "int"}]}"#, #"has a field without a valid "name""#),
        (#"{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}, {"name": "a", "type": "long"}]}"#, "record 'R' has field 'a' twice"),
        (#"{"type": "record", "name": "R", "fields": [{"name": "a"}]}"#, #"field 'a' of record 'R' has no "type""#),
        (#"{"type": "record", "name": "R", "fields": [{"name": "a", "type": "Later"}, {"name": "b", "type": {"type": "fixed", "name": "Later", "size": 1}}]}"#,
         "field 'a' of record 'R': unknown type 'Later'"),
        (#"{"type": "record", "name": "R", "fields": [{"name": "a", "type": {"type": "record", "name": "S", "fields": [{"name": "b", "type": "Nope"}]}}]}"#,
         "field 'a' of record 'R': field 'b' of record 'S': unknown type 'Nope'"),
        (#"{"type": "record", "name": "R", "fields": [{"name": "a", "type": {"type": "enum", "name": "R", "symbols": ["X"]}}]}"#, "'R' is defined twice"),
        (#"{"type": "record", "name": "a..b", "fields": []}"#, "'a..b' is not a valid name"),
        (#"{"type": "record", "name": "R-1", "fields": []}"#, "'R-1' is not a valid name"),
        (#"{"type": "fixed", "name": "int", "size": 1}"#, "'int' redefines a primitive type"),
        (#"{"type": "fixed", "name": "F", "namespace": 3, "size": 1}"#, #""namespace" of 'F' must be a string"#),
        (#"{"type": "enum", "name": "E"}"#, #"enum 'E' needs "symbols", an array"#),
        (#"{"type": "enum", "name": "E", "symbols": ["A", "A"]}"#, "enum 'E' has symbol 'A' twice"),
        (#"{"type": "enum", "name": "E", "symbols": ["A B"]}"#, "enum 'E' has symbol 'A B', not a valid name"),
        (#"{"type": "fixed", "name": "F"}"#, #"fixed 'F' needs "size", a non-negative integer"#),
        (#"{"type": "fixed", "name": "F", "size": -1}"#, "a non-negative integer"),
        (#"{"type": "fixed", "name": "F", "size": 1.5}"#, "a non-negative integer"),
        (#"{"type": "array"}"#, #"array schema without "items""#),
        (#"{"type": "map"}"#, #"map schema without "values""#),
        (#"["null", ["int", "string"]]"#, "a union may not immediately contain another union"),
        (#"["string", "null", "string"]"#, "union holds 'string' twice"),
        (#"["null", {"type": "long", "logicalType": "timestamp-millis"}, "long"]"#, "union holds 'long' twice"),
        (#"[{"type": "array", "items": "int"}, {"type": "array", "items": "long"}]"#, "union holds 'array' twice"),
        (#"[{"type": "fixed", "name": "F", "size": 1}, "F"]"#, "union holds 'F' twice"),
        (String(repeating: "[", count: 300) + String(repeating: "]", count: 300), "nested deeper than 256 levels"),
    ]

    @Test("invalid schemas are refused with a message naming the problem")
    func invalidSchemas() {
        for (schema, problem) in Self.invalid {
            do {
                _ = try AvroSchema(parsing: schema)
                Issue.record("accepted: \(schema)")
            } catch {
                #expect(error.code == .invalidSchema && error.description.contains(problem), "\(schema): \(error)")
            }
        }
    }

    @Test("names: a dotted name is a fullname; otherwise the enclosing namespace, then the null namespace")
    func names() throws {
        let schema = #"""
            {"type": "record", "name": "Outer", "namespace": "a.b", "fields": [
              {"name": "f1", "type": {"type": "fixed", "name": "F", "size": 1}},
              {"name": "f2", "type": "F"},
              {"name": "f3", "type": "a.b.F"},
              {"name": "inner", "type": {"type": "record", "name": "x.Inner", "fields": [
                {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["S"]}},
                {"name": "e2", "type": "x.E"},
                {"name": "f", "type": "a.b.F"}]}},
              {"name": "global", "type": {"type": "enum", "name": "G", "namespace": "", "symbols": ["T"]}},
              {"name": "g2", "type": "G"},
              {"name": "again", "type": "Outer"}]}
            """#
        #expect(throws: Never.self) { try AvroSchema(parsing: schema) }
        // The inner record's namespace is x: F is not found there, nor in the null namespace.
        #expect(throws: AvroError.self) {
            try AvroSchema(parsing: #"{"type": "record", "name": "a.R", "fields": [{"name": "i", "type": {"type": "record", "name": "x.I", "fields": [{"name": "r", "type": "R"}]}}]}"#)
        }
    }

    @Test("lenient forms: a schema nested in \"type\", \"error\" records, unknown attributes")
    func lenientForms() throws {
        #expect(try decode(#"{"type": {"type": "string"}, "doc": "nested"}"#, Encode.string("x")) == #""x""#)
        #expect(try decode(#"{"type": ["null", "int"]}"#, [2, 4]) == "2")
        #expect(try decode(#"{"type": "error", "name": "Oops", "fields": [{"name": "m", "type": "string", "order": "ignore", "x-custom": [1]}]}"#, Encode.string("m")) == #"{"m":"m"}"#)
        #expect(try decode(#"{"type": "record", "name": "R", "fields": [{"name": "r", "type": ["null", "R"]}], "aliases": ["Q"], "props": {"a": null}}"#, [0]) == #"{"r":null}"#)
        #expect(try decode(#" [ "null" , "string" ] "#, [0]) == "null")
        #expect(try decode(#"{"type": "string", "doc": "\u00e9\ud83d\ude00\n\/"}"#, Encode.string("é")) == #""é""#)
    }
}
