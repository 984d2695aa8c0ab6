/// Writes a JSON object straight to bytes, for the hot paths (batch bodies, attempt records,
/// `/status`) where Foundation's JSONSerialization costs more than the request it describes.
/// Everything, nested objects included, is appended to one buffer: no intermediate arrays.
public struct JSONWriter {
    public private(set) var bytes: [UInt8]
    private var empty = true
    /// The open array (`openArray`) has no element yet.
    private var arrayEmpty = true

    public init() { bytes = [UInt8(ascii: "{")] }

    private init(continuing bytes: [UInt8]) { self.bytes = bytes }

    /// A JSON string literal, escaped.
    public static func string(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 2)
        appendString(text, to: &out)
        return out
    }

    /// Appends `text` as a JSON string literal, escaped.
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(byte)
            case 0..<0x20:
                let hex: StaticString = "0123456789abcdef"
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                hex.withUTF8Buffer { hex in
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0xf)])
                }
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Adds a member whose value is already JSON.
    public mutating func add(_ key: String, json value: [UInt8]) {
        member(key)
        bytes += value
    }

    public mutating func add(_ key: String, _ value: String) {
        member(key)
        Self.appendString(value, to: &bytes)
    }

    public mutating func add(_ key: String, _ value: Int64) {
        member(key)
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        let start = bytes.count
        var rest = value.magnitude
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        bytes[start...].reverse()
    }

    public mutating func add(_ key: String, _ value: Double) {
        member(key)
        bytes += value.description.utf8
    }

    public mutating func add(_ key: String, _ value: Bool) {
        member(key)
        bytes += (value ? "true" : "false").utf8
    }

    /// Adds an array member of objects, each written by `write` in place.
    public mutating func addObjects<Elements: Sequence>(_ key: String, _ elements: Elements, _ write: (inout JSONWriter, Elements.Element) -> Void) {
        openArray(key)
        for element in elements { addObject { write(&$0, element) } }
        closeArray()
    }

    /// Opens an array member; `addObject` appends its objects and `closeArray` ends it.
    public mutating func openArray(_ key: String) {
        member(key)
        bytes.append(UInt8(ascii: "["))
        arrayEmpty = true
    }

    /// Appends an object, written by `write` in place, to the open array.
    public mutating func addObject(_ write: (inout JSONWriter) -> Void) {
        if !arrayEmpty { bytes.append(UInt8(ascii: ",")) }
        arrayEmpty = false
        var item = JSONWriter(continuing: [])
        swap(&item.bytes, &bytes)
        item.bytes.append(UInt8(ascii: "{"))
        write(&item)
        item.bytes.append(UInt8(ascii: "}"))
        swap(&item.bytes, &bytes)
    }

    public mutating func closeArray() {
        bytes.append(UInt8(ascii: "]"))
    }

    /// What is written so far, handed over, for a writer that sends its text in pieces: it goes
    /// on writing from where it was.
    public mutating func drain() -> [UInt8] {
        defer { bytes = [] }
        return bytes
    }

    /// Adds an array member of strings.
    public mutating func add(_ key: String, strings: some Sequence<String>) {
        member(key)
        bytes.append(UInt8(ascii: "["))
        for (index, text) in strings.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.appendString(text, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// The finished object, handed over without a copy: the writer is spent.
    public mutating func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        defer { bytes = [] }
        return bytes
    }

    private mutating func member(_ key: String) {
        if !empty { bytes.append(UInt8(ascii: ",")) }
        empty = false
        Self.appendString(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }
}
