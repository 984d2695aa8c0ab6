/// Writes a JSON object straight to bytes, for the hot paths (batch bodies, attempt records)
/// where Foundation's JSONSerialization costs more than the request it describes.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = [UInt8(ascii: "{")]

    public init() {}

    /// A JSON string literal, escaped.
    public static func string(_ text: String) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        out.reserveCapacity(text.utf8.count + 2)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xf)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        return out
    }

    /// Adds a member whose value is already JSON.
    public mutating func add(_ key: String, json value: [UInt8]) {
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        bytes += Self.string(key)
        bytes.append(UInt8(ascii: ":"))
        bytes += value
    }

    public mutating func add(_ key: String, _ value: String) { add(key, json: Self.string(value)) }
    public mutating func add(_ key: String, _ value: Int64) { add(key, json: Array(String(value).utf8)) }
    public mutating func add(_ key: String, _ value: Double) { add(key, json: Array(String(value).utf8)) }

    /// A JSON array of already-JSON elements.
    public static func array(_ elements: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += element
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// The finished object.
    public var object: [UInt8] { bytes + [UInt8(ascii: "}")] }
}
