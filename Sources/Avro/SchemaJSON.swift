/// A JSON value as written in a schema. Objects keep their members in order; numbers keep their
/// text. Parsing schemas is not on the hot path, but it is done here rather than with Foundation
/// so the target has no dependency and member order is never lost.
indirect enum SchemaJSON: Sendable, Equatable {
    struct Member: Sendable, Equatable {
        var key: String
        var value: SchemaJSON
    }

    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([SchemaJSON])
    case object([Member])

    /// The value of the first member named `key`, if this is an object.
    subscript(key: String) -> SchemaJSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// Parses one JSON document (RFC 8259), nested at most `maxDepth` levels.
    static func parse(_ text: String, maxDepth: Int = 256) throws(AvroError) -> SchemaJSON {
        var parser = Parser(bytes: Array(text.utf8), maxDepth: maxDepth)
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw parser.failure("unexpected text after the value") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        let maxDepth: Int
        var index = 0

        init(bytes: [UInt8], maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        func failure(_ what: String) -> AvroError {
            AvroError(.invalidSchema, "schema is not valid JSON: \(what) at byte \(index)")
        }

        mutating func skipWhitespace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        /// Consumes `byte` if it is next (after whitespace).
        mutating func consume(_ byte: UInt8) -> Bool {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func value(depth: Int) throws(AvroError) -> SchemaJSON {
            guard depth < maxDepth else { throw failure("nested deeper than \(maxDepth) levels") }
            skipWhitespace()
            guard index < bytes.count else { throw failure("unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var members: [Member] = []
                if consume(UInt8(ascii: "}")) { return .object(members) }
                repeat {
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a member name") }
                    let key = try string()
                    guard consume(UInt8(ascii: ":")) else { throw failure("expected ':'") }
                    members.append(Member(key: key, value: try value(depth: depth + 1)))
                } while consume(UInt8(ascii: ","))
                guard consume(UInt8(ascii: "}")) else { throw failure("expected ',' or '}'") }
                return .object(members)
            case UInt8(ascii: "["):
                index += 1
                var elements: [SchemaJSON] = []
                if consume(UInt8(ascii: "]")) { return .array(elements) }
                repeat { elements.append(try value(depth: depth + 1)) } while consume(UInt8(ascii: ","))
                guard consume(UInt8(ascii: "]")) else { throw failure("expected ',' or ']'") }
                return .array(elements)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default: return .number(try number())
            }
        }

        mutating func literal(_ word: String) throws(AvroError) {
            let expected = Array(word.utf8)
            guard bytes[index...].starts(with: expected) else { throw failure("unexpected character") }
            index += expected.count
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
        mutating func number() throws(AvroError) -> String {
            let start = index
            func digits(_ index: inout Int) -> Int {
                let first = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                return index - first
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            let integerStart = index
            let integerDigits = digits(&index)
            guard integerDigits > 0, integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { throw failure("unexpected character") }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits(&index) > 0 else { throw failure("expected a digit") }
            }
            if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits(&index) > 0 else { throw failure("expected a digit") }
            }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        /// A string starting at the opening quote. The text came from a Swift `String`, so it is
        /// valid UTF-8; escapes are resolved, lone surrogates refused.
        mutating func string() throws(AvroError) -> String {
            index += 1
            var text: [UInt8] = []
            while true {
                guard index < bytes.count else { throw failure("unterminated string") }
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: text, as: UTF8.self)
                case UInt8(ascii: "\\"): try escape(into: &text)
                case 0..<0x20: throw failure("control character in a string")
                default: text.append(byte)
                }
            }
        }

        mutating func escape(into text: inout [UInt8]) throws(AvroError) {
            guard index < bytes.count else { throw failure("unterminated string") }
            let letter = bytes[index]
            index += 1
            switch letter {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(letter)
            case UInt8(ascii: "b"): text.append(0x08)
            case UInt8(ascii: "f"): text.append(0x0C)
            case UInt8(ascii: "n"): text.append(0x0A)
            case UInt8(ascii: "r"): text.append(0x0D)
            case UInt8(ascii: "t"): text.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard bytes[index...].starts(with: [UInt8(ascii: "\\"), UInt8(ascii: "u")]) else { throw failure("lone surrogate") }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw failure("lone surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw failure("lone surrogate") }
                text.append(contentsOf: String(unicode).utf8)
            default: throw failure("unknown escape")
            }
        }

        mutating func hex4() throws(AvroError) -> UInt32 {
            guard index + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16),
                bytes[index..<index + 4].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
            else { throw failure("bad \\u escape") }
            index += 4
            return value
        }
    }
}
