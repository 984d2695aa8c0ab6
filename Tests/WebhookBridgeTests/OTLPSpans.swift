/// A span as an OTLP/HTTP export request carries it (`ExportTraceServiceRequest`, protobuf),
/// read with a minimal protobuf wire reader: only the fields the tracing tests look at
/// (opentelemetry/proto/trace/v1/trace.proto).
struct ExportedSpan: Sendable {
    var traceID = ""
    var spanID = ""
    /// Empty for the root of a trace.
    var parentSpanID = ""
    var name = ""
    /// Strings as they are, integers and booleans as their text.
    var attributes: [String: String] = [:]
    /// 0 unset, 1 ok, 2 error.
    var statusCode: UInt64 = 0

    /// The spans of one export request body: resource_spans (1) → scope_spans (2) → spans (2).
    static func decode(_ body: [UInt8]) -> [ExportedSpan] {
        ProtobufFields(body[...]).messages(1).flatMap { resource in
            ProtobufFields(resource).messages(2).flatMap { scope in ProtobufFields(scope).messages(2).map(ExportedSpan.init) }
        }
    }

    private init(_ bytes: ArraySlice<UInt8>) {
        for (field, value) in ProtobufFields(bytes).all {
            switch (field, value) {
            case (1, .bytes(let id)): traceID = Self.hex(id)
            case (2, .bytes(let id)): spanID = Self.hex(id)
            case (4, .bytes(let id)): parentSpanID = Self.hex(id)
            case (5, .bytes(let text)): name = String(decoding: text, as: UTF8.self)
            case (9, .bytes(let keyValue)):
                let pair = ProtobufFields(keyValue)
                guard let key = pair.messages(1).first, let value = pair.messages(2).first else { continue }
                attributes[String(decoding: key, as: UTF8.self)] = Self.text(of: value)
            case (15, .bytes(let status)):
                for case (3, .varint(let code)) in ProtobufFields(status).all { statusCode = code }
            default: continue
            }
        }
    }

    /// An `AnyValue`: string_value (1), bool_value (2), int_value (3).
    private static func text(of value: ArraySlice<UInt8>) -> String {
        switch ProtobufFields(value).all.first {
        case (1, .bytes(let text))?: String(decoding: text, as: UTF8.self)
        case (2, .varint(let flag))?: flag == 0 ? "false" : "true"
        case (3, .varint(let number))?: String(Int64(bitPattern: number))
        default: "?"
        }
    }

    private static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

/// The fields of one protobuf message, in order (https://protobuf.dev/programming-guides/encoding/).
/// Stops at the first malformed field: a test then finds fewer spans than it expects.
private struct ProtobufFields {
    enum Value {
        case varint(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed
    }

    let all: [(field: Int, value: Value)]

    init(_ bytes: ArraySlice<UInt8>) {
        var fields: [(Int, Value)] = []
        var index = bytes.startIndex
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while index < bytes.endIndex, shift < 64 {
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            return nil
        }
        reading: while index < bytes.endIndex, let key = varint() {
            let field = Int(key >> 3)
            switch key & 7 {
            case 0:
                guard let value = varint() else { break reading }
                fields.append((field, .varint(value)))
            case 1, 5:
                let size = key & 7 == 1 ? 8 : 4
                guard bytes.endIndex - index >= size else { break reading }
                index += size
                fields.append((field, .fixed))
            case 2:
                guard let length = varint(), length <= UInt64(bytes.endIndex - index) else { break reading }
                fields.append((field, .bytes(bytes[index..<index + Int(length)])))
                index += Int(length)
            default: break reading
            }
        }
        all = fields
    }

    /// The length-delimited values of `field` (nested messages, strings, bytes).
    func messages(_ field: Int) -> [ArraySlice<UInt8>] {
        all.compactMap { entry in
            guard entry.field == field, case .bytes(let bytes) = entry.value else { return nil }
            return bytes
        }
    }
}
