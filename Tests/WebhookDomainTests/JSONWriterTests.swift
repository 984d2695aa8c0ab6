import Foundation
import Testing

@testable import WebhookDomain

@Suite("JSONWriter")
struct JSONWriterTests {
    @Test("members, nested objects and arrays read back as the values written, escapes included")
    func readsBack() throws {
        var json = JSONWriter()
        json.add("text", "quote \" backslash \\ newline \n tab \t bell \u{7} é")
        json.add("zero", Int64(0))
        json.add("negative", Int64.min)
        json.add("positive", Int64(1_234_567_890))
        json.add("fraction", 0.25)
        json.add("ready", false)
        json.add("raw", json: Array("[1,2]".utf8))
        json.addObjects("items", [("a", 1), ("b", -2)]) { item, element in
            item.add("name", element.0)
            item.add("count", Int64(element.1))
        }
        json.addObjects("none", [Int]()) { _, _ in }
        json.add("strings", strings: ["x", "\"y\""])
        let bytes = json.finish()

        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["text"] as? String == "quote \" backslash \\ newline \n tab \t bell \u{7} é")
        #expect((object["zero"] as? NSNumber)?.int64Value == 0)
        #expect((object["negative"] as? NSNumber)?.int64Value == Int64.min)
        #expect((object["positive"] as? NSNumber)?.int64Value == 1_234_567_890)
        #expect(object["fraction"] as? Double == 0.25)
        #expect(object["ready"] as? Bool == false)
        #expect(object["raw"] as? [Int] == [1, 2])
        let items = try #require(object["items"] as? [[String: Any]])
        #expect(items.map { $0["name"] as? String } == ["a", "b"])
        #expect(items.map { ($0["count"] as? NSNumber)?.int64Value } == [1, -2])
        #expect((object["none"] as? [Any])?.isEmpty == true)
        #expect(object["strings"] as? [String] == ["x", "\"y\""])
        // Members in the order written, with nothing between them.
        #expect(String(decoding: bytes.prefix(9), as: UTF8.self) == #"{"text":""#)
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""items":[{"name":"a","count":1},{"name":"b","count":-2}],"none":[]"#))
    }

    @Test("written in pieces (drained as it goes), the text is the same as written at once")
    func drainedInPieces() {
        func write(_ json: inout JSONWriter, drainEvery: Int?) -> [UInt8] {
            var pieces: [UInt8] = []
            json.add("ready", true)
            json.openArray("items")
            for index in 0..<7 {
                json.addObject { item in
                    item.add("index", Int64(index))
                    item.add("name", "item \(index)")
                }
                if let drainEvery, index % drainEvery == drainEvery - 1 { pieces += json.drain() }
            }
            json.closeArray()
            json.add("after", "end")
            return pieces + json.finish()
        }
        var whole = JSONWriter()
        let once = write(&whole, drainEvery: nil)
        for every in [1, 2, 3] {
            var pieces = JSONWriter()
            #expect(write(&pieces, drainEvery: every) == once)
        }
        #expect(String(decoding: once, as: UTF8.self).hasPrefix(#"{"ready":true,"items":[{"index":0,"name":"item 0"},{"index":1"#))
        #expect(String(decoding: once, as: UTF8.self).hasSuffix(#""name":"item 6"}],"after":"end"}"#))
    }

    @Test("an empty writer finishes as an empty object")
    func empty() {
        var json = JSONWriter()
        #expect(json.finish() == Array("{}".utf8))
    }
}
