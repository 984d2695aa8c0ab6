import Foundation
import Testing

@testable import WebhookDomain

/// `JSONObject` validates and reads events itself; Foundation's JSONSerialization is the oracle,
/// with two differences on purpose: a trailing comma (`{"a":1,}`), which Foundation accepts, is
/// refused as RFC 8259 says; a number too large for a Double (`1e999`), which Foundation refuses,
/// is accepted (RFC 8259 grammar; the event is delivered as written).
@Suite("JSON objects of source events")
struct JSONObjectTests {
    static func foundationAccepts(_ bytes: [UInt8]) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]) != nil
    }

    /// Whether a disagreement is one of the two on purpose.
    static func intendedDifference(_ bytes: [UInt8], weAccept: Bool) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        if weAccept { return text.range(of: #"[eE][+-]?[0-9]{3,}"#, options: .regularExpression) != nil }
        let withoutTrailingCommas = text.replacingOccurrences(of: #",\s*([}\]])"#, with: "$1", options: .regularExpression)
        return withoutTrailingCommas != text && JSONObject(bytes: Array(withoutTrailingCommas.utf8)) != nil
    }

    static let documents: [String] = [
        #"{}"#, #" { } "#, "\t{\n\"a\"\r:1}\n", #"{"a":1}"#, #"{"a":-0.5e+10,"b":[1,2,{"c":null}],"d":true,"e":false}"#,
        #"{"a":"\u00e9\ud83d\ude00\n\t\"\\\/"}"#, #"{"ü":"日本"}"#, #"{"a":{"b":{"c":{}}}}"#, #"{"a":[[],[[]],{}]}"#, #"{"a":0}"#, #"{"a":1E5}"#,
        // Refused by both:
        "", " ", "{", "}", "[]", "[1]", "1", "\"s\"", "null", "true", #"{"a"}"#, #"{"a":}"#, #"{,"a":1}"#, #"{"a":1 "b":2}"#,
        #"{a:1}"#, #"{'a':1}"#, #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":-}"#, #"{"a":1e}"#, #"{"a":+1}"#, #"{"a":tru}"#,
        #"{"a":nul}"#, #"{"a":"\x"}"#, #"{"a":"\u12"}"#, #"{"a":"\ud800"}"#, #"{"a":"\udc00"}"#, #"{"a":"\ud800\u0041"}"#,
        "{\"a\":\"\u{01}\"}", #"{"a":[1,2}"#, #"{"a":{"b":1]}"#, #"{"a":1}}"#, #"{"a":1} x"#, #"{"a":1}{}"#, #"{"a":"b}"#, #"{"a":NaN}"#,
    ]

    @Test("accepts exactly what JSONSerialization accepts as an object")
    func agreesWithFoundation() {
        for document in Self.documents {
            let bytes = Array(document.utf8)
            #expect((JSONObject(bytes: bytes) != nil) == Self.foundationAccepts(bytes), "\(document)")
        }
        // Bytes that are not UTF-8, inside and outside strings.
        for bytes: [UInt8] in [[0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D], [0x7B, 0xC3, 0x7D], [0x7B, 0x22, 0xC0, 0xAF, 0x22, 0x3A, 0x31, 0x7D],
            [0x7B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x3A, 0x31, 0x7D], [0x7B, 0x22, 0xF4, 0x90, 0x80, 0x80, 0x22, 0x3A, 0x31, 0x7D]]
        {
            #expect(JSONObject(bytes: bytes) == nil && !Self.foundationAccepts(bytes), "\(bytes)")
        }
    }

    @Test("seeded mutations of valid events: accepted exactly when JSONSerialization accepts them")
    func mutationsAgreeWithFoundation() {
        var generator = SplitMix(seed: 7)
        let seeds = Self.documents.prefix(11).map { Array($0.utf8) }
        let alphabet = Array(#"{}[]":,.-+eE0123456789 \tnulltruefalse\u"#.utf8) + [0x80, 0xC3, 0xA9, 0xFF, 0x00]
        var disagreements: [String] = []
        for round in 0..<20_000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<(1 + Int(generator.next() % 3)) {
                let position = bytes.isEmpty ? 0 : Int(generator.next() % UInt64(bytes.count))
                let byte = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                switch generator.next() % 3 {
                case 0 where !bytes.isEmpty: bytes[position] = byte
                case 1 where !bytes.isEmpty: bytes.remove(at: position)
                default: bytes.insert(byte, at: position)
                }
            }
            let weAccept = JSONObject(bytes: bytes) != nil
            if weAccept != Self.foundationAccepts(bytes), !Self.intendedDifference(bytes, weAccept: weAccept) {
                disagreements.append(String(decoding: bytes, as: UTF8.self))
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(10))")
    }

    @Test("the two differences from Foundation: trailing commas refused, huge numbers accepted")
    func intendedDifferences() {
        for document in [#"{"a":1,}"#, #"{"a":[1,]}"#] {
            #expect(JSONObject(bytes: Array(document.utf8)) == nil && Self.foundationAccepts(Array(document.utf8)), "\(document)")
        }
        #expect(JSONObject(bytes: Array(#"{"a":1e999}"#.utf8)) != nil && !Self.foundationAccepts(Array(#"{"a":1e999}"#.utf8)))
    }

    @Test("deep nesting is refused beyond 512 levels without exhausting the stack")
    func depth() {
        let deep = Array(("{\"a\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}").utf8)
        #expect(JSONObject(bytes: deep) == nil)
        let fine = Array(("{\"a\":" + String(repeating: "[", count: 500) + String(repeating: "]", count: 500) + "}").utf8)
        #expect(JSONObject(bytes: fine) != nil)
    }

    @Test("look-ups: dotted paths, escapes, numbers as ids, the last of repeated keys, sub-objects as written")
    func lookups() throws {
        let event = try #require(JSONObject(bytes: Array(#"""
            { "order" : { "site_id" : "c\u0034\u00304", "n": 12345, "f": 2.50, "big": 1e3, "neg": -7, "flag": true, "none": null,
              "data": {"z": 1, "a": [1, 2]} }, "k": "first", "k": "last", "a.b": "dotted", "ü": "x\ty" }
            """#.utf8)))
        #expect(event.string(at: "order.site_id") == "c404")
        #expect(event.string(at: "order.n") == "12345")
        #expect(event.string(at: "order.f") == "2.5")
        #expect(event.string(at: "order.big") == "1000")
        #expect(event.string(at: "order.neg") == "-7")
        #expect(event.string(at: "order.flag") == nil && event.string(at: "order.none") == nil && event.string(at: "order.data") == nil)
        #expect(event.string(at: "order.missing") == nil && event.string(at: "order.site_id.deeper") == nil && event.string(at: "") == nil)
        #expect(event.string(at: "k") == "last")
        #expect(event.string(at: "ü") == "x\ty")
        #expect(event.string(at: "a.b") == nil)  // a path component never contains a dot
        #expect(event.objectBytes(at: "order.data").map { String(decoding: $0, as: UTF8.self) } == #"{"z": 1, "a": [1, 2]}"#)
        #expect(event.objectBytes(at: "order.n") == nil)
    }
}

/// A small seeded generator, so a failure can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
