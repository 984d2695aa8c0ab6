/// A source event: a JSON object, validated in one pass over its bytes (RFC 8259, UTF-8), with
/// dotted-path look-ups that scan those bytes again. Routing asks two or three fields of each
/// event, so building a tree of Foundation objects (as JSONSerialization does) was most of the
/// cost of routing (docs/benchmarks.md).
public struct JSONObject: Sendable {
    private let bytes: [UInt8]
    /// The top-level object's bytes, without surrounding whitespace.
    private let object: Range<Int>

    /// Nesting beyond this is refused, so a hostile event cannot make the scan costly.
    static let maxDepth = 512

    /// Nil for anything but one well-formed JSON object (garbage, arrays, scalars, bad UTF-8).
    public init?(bytes: [UInt8]) {
        let found: Range<Int>? = bytes.withUnsafeBufferPointer { buffer in
            let scanner = JSONScanner(buffer)
            let start = scanner.skipWhitespace(0)
            guard start < buffer.count, buffer[start] == UInt8(ascii: "{"), let end = scanner.value(at: start),
                scanner.skipWhitespace(end) == buffer.count
            else { return nil }
            return start..<end
        }
        guard let found else { return nil }
        self.bytes = bytes
        self.object = found
    }

    /// A string at a dotted path (`order.site_id`); numbers are accepted and written in decimal
    /// (integers as written; others as their shortest `Double` form, whole ones without `.0`).
    public func string(at path: String) -> String? {
        bytes.withUnsafeBufferPointer { buffer in
            let scanner = JSONScanner(buffer)
            guard let range = scanner.member(at: path, in: object) else { return nil }
            switch buffer[range.lowerBound] {
            case UInt8(ascii: "\""): return scanner.decodeString(range)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let text = String(decoding: UnsafeBufferPointer(rebasing: buffer[range]), as: UTF8.self)
                if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { return text }
                guard let number = Double(text) else { return nil }
                if number == number.rounded(), abs(number) < 9e15 { return String(Int64(number)) }
                return String(number)
            default: return nil  // objects, arrays, booleans, null: not ids
            }
        }
    }

    /// A string, number or boolean at a path as text (numbers as `string(at:)` writes them,
    /// booleans as `true`/`false`); nil for null, objects, arrays and absent members.
    public func scalar(at path: String) -> String? {
        if let text = string(at: path) { return text }
        return bytes.withUnsafeBufferPointer { buffer in
            guard let range = JSONScanner(buffer).member(at: path, in: object) else { return nil }
            switch buffer[range.lowerBound] {
            case UInt8(ascii: "t"): return "true"
            case UInt8(ascii: "f"): return "false"
            default: return nil
            }
        }
    }

    /// Whether the object has a member at a path (of any value, `null` included).
    public func contains(_ path: String) -> Bool {
        bytes.withUnsafeBufferPointer { JSONScanner($0).member(at: path, in: object) != nil }
    }

    /// The object at a path, as it was written.
    public func objectBytes(at path: String) -> [UInt8]? {
        bytes.withUnsafeBufferPointer { buffer in
            guard let range = JSONScanner(buffer).member(at: path, in: object), buffer[range.lowerBound] == UInt8(ascii: "{") else { return nil }
            return Array(buffer[range])
        }
    }
}

/// The scanning of `JSONObject`, over bytes that stay put for its length.
private struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    func skipWhitespace(_ index: Int) -> Int {
        var index = index
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return index
            }
        }
        return index
    }

    /// Validates the value starting at `start`; returns the index just after it. Iterative: the
    /// depth is bounded by `JSONObject.maxDepth`, not by the stack.
    func value(at start: Int) -> Int? {
        var open: [UInt8] = []  // "{" or "[" per enclosing container
        var index = start
        while true {
            // A value starts here.
            index = skipWhitespace(index)
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let bracket = bytes[index]
                let close = bracket == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                index = skipWhitespace(index + 1)
                guard index < bytes.count else { return nil }
                if bytes[index] == close {
                    index += 1
                } else {
                    guard open.count < JSONObject.maxDepth else { return nil }
                    open.append(bracket)
                    if bracket == UInt8(ascii: "{") {
                        guard let afterKey = key(at: index) else { return nil }
                        index = afterKey
                    }
                    continue
                }
            case UInt8(ascii: "\""):
                guard let end = string(at: index) else { return nil }
                index = end
            case UInt8(ascii: "t"): guard let end = literal("true", at: index) else { return nil }; index = end
            case UInt8(ascii: "f"): guard let end = literal("false", at: index) else { return nil }; index = end
            case UInt8(ascii: "n"): guard let end = literal("null", at: index) else { return nil }; index = end
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard let end = number(at: index) else { return nil }
                index = end
            default:
                return nil
            }
            // A value ended: close what it ends, or go on to the next member or element.
            closing: while true {
                guard let container = open.last else { return index }
                index = skipWhitespace(index)
                guard index < bytes.count else { return nil }
                switch bytes[index] {
                case UInt8(ascii: ","):
                    index += 1
                    if container == UInt8(ascii: "{") {
                        guard let afterKey = key(at: skipWhitespace(index)) else { return nil }
                        index = afterKey
                    }
                    break closing
                case UInt8(ascii: "}") where container == UInt8(ascii: "{"), UInt8(ascii: "]") where container == UInt8(ascii: "["):
                    open.removeLast()
                    index += 1
                default:
                    return nil
                }
            }
        }
    }

    /// A member's key and its colon; returns the index after the colon.
    private func key(at index: Int) -> Int? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let end = string(at: index) else { return nil }
        let colon = skipWhitespace(end)
        guard colon < bytes.count, bytes[colon] == UInt8(ascii: ":") else { return nil }
        return colon + 1
    }

    private func literal(_ word: StaticString, at index: Int) -> Int? {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return nil }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return nil }
        return index + count
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private func number(at start: Int) -> Int? {
        var index = start
        func digits() -> Bool {
            let first = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index > first
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "0") { index += 1 } else if !digits() { return nil }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() else { return nil }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() else { return nil }
        }
        return index
    }

    /// Validates a string (escapes, no raw control characters, well-formed UTF-8 and surrogate
    /// pairs); returns the index after its closing quote.
    func string(at start: Int) -> Int? {
        var index = start + 1
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                return index + 1
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else { return nil }
                switch bytes[index + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                    UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 2
                case UInt8(ascii: "u"):
                    guard let unit = hex4(at: index + 2) else { return nil }
                    index += 6
                    if (0xDC00...0xDFFF).contains(unit) { return nil }
                    if (0xD800...0xDBFF).contains(unit) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                            let low = hex4(at: index + 2), (0xDC00...0xDFFF).contains(low)
                        else { return nil }
                        index += 6
                    }
                default:
                    return nil
                }
            case 0x00..<0x20:
                return nil
            case 0x20..<0x80:
                index += 1
            default:
                guard let end = utf8Sequence(at: index) else { return nil }
                index = end
            }
        }
        return nil
    }

    private func hex4(at index: Int) -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[index..<index + 4] {
            guard let digit = Self.hexDigit(byte) else { return nil }
            value = value << 4 | digit
        }
        return value
    }

    private static func hexDigit(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// One well-formed multi-byte UTF-8 sequence (no overlong forms, surrogates or values past
    /// U+10FFFF); returns the index after it.
    private func utf8Sequence(at index: Int) -> Int? {
        let lead = bytes[index]
        let (length, lowest): (Int, UInt32) =
            switch lead {
            case 0xC2...0xDF: (2, 0x80)
            case 0xE0...0xEF: (3, 0x800)
            case 0xF0...0xF4: (4, 0x10000)
            default: (0, 0)
            }
        guard length > 0, index + length <= bytes.count else { return nil }
        var scalar = UInt32(lead) & (0xFF >> (length + 1))
        for offset in 1..<length {
            let byte = bytes[index + offset]
            guard byte & 0xC0 == 0x80 else { return nil }
            scalar = scalar << 6 | UInt32(byte & 0x3F)
        }
        guard scalar >= lowest, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return nil }
        return index + length
    }

    /// The value at a dotted path below `object` (validated bytes); for repeated keys the last
    /// one counts, as in a parsed dictionary.
    func member(at path: String, in object: Range<Int>) -> Range<Int>? {
        var current = object
        for component in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard bytes[current.lowerBound] == UInt8(ascii: "{") else { return nil }
            var found: Range<Int>?
            var index = skipWhitespace(current.lowerBound + 1)
            while bytes[index] == UInt8(ascii: "\"") {
                guard let keyEnd = string(at: index) else { return nil }
                let valueStart = skipWhitespace(skipWhitespace(keyEnd) + 1)
                guard let valueEnd = value(at: valueStart) else { return nil }
                if decodeString(index..<keyEnd) == component { found = valueStart..<valueEnd }
                index = skipWhitespace(valueEnd)
                guard bytes[index] == UInt8(ascii: ",") else { break }
                index = skipWhitespace(index + 1)
            }
            guard let found else { return nil }
            current = found
        }
        return current
    }

    /// The text of a validated string (quotes included in `range`), escapes resolved.
    func decodeString(_ range: Range<Int>) -> String {
        let inner = UnsafeBufferPointer(rebasing: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)])
        guard inner.contains(UInt8(ascii: "\\")) else { return String(decoding: inner, as: UTF8.self) }
        var text = String.UnicodeScalarView()
        var utf8: [UInt8] = []
        var index = 0
        func flush() {
            text.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
            utf8.removeAll(keepingCapacity: true)
        }
        while index < inner.count {
            guard inner[index] == UInt8(ascii: "\\") else {
                utf8.append(inner[index])
                index += 1
                continue
            }
            flush()
            let escape = inner[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "b"): text.append("\u{08}")
            case UInt8(ascii: "f"): text.append("\u{0C}")
            case UInt8(ascii: "n"): text.append("\n")
            case UInt8(ascii: "r"): text.append("\r")
            case UInt8(ascii: "t"): text.append("\t")
            case UInt8(ascii: "u"):
                var unit = (0..<4).reduce(UInt32(0)) { $0 << 4 | (Self.hexDigit(inner[index + $1]) ?? 0) }
                index += 4
                if (0xD800...0xDBFF).contains(unit) {
                    let low = (0..<4).reduce(UInt32(0)) { $0 << 4 | (Self.hexDigit(inner[index + 2 + $1]) ?? 0) }
                    unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                text.append(Unicode.Scalar(unit) ?? "\u{FFFD}")
            default: text.append(Unicode.Scalar(escape))  // \" \\ \/
            }
        }
        flush()
        return String(text)
    }
}
