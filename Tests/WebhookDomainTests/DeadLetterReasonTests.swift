import Testing

@testable import WebhookDomain

@Suite("Dead-letter reasons")
struct DeadLetterReasonTests {
    @Test("a reason of at most 1 KB is kept as it is")
    func shortKept() {
        #expect(DeadLetterReason.headerValue("not a JSON object") == Array("not a JSON object".utf8))
        let exact = String(repeating: "a", count: 1024)
        #expect(DeadLetterReason.headerValue(exact) == Array(exact.utf8))
    }

    /// Each case puts a character of 1 to 4 bytes across the 1,024-byte mark: it is left out whole.
    @Test("a longer reason is cut to at most 1 KB between two characters", arguments: [
        (1023, "é", 1023), (1022, "€", 1022), (1023, "€", 1023), (1021, "😀", 1021), (1023, "😀", 1023), (1024, "é", 1024), (1023, "ab", 1024),
    ])
    func cutAtCharacter(prefix: Int, straddling: String, expected: Int) throws {
        let reason = String(repeating: "a", count: prefix) + straddling + String(repeating: "z", count: 50)
        let header = DeadLetterReason.headerValue(reason)
        #expect(header.count == expected)
        let text = try #require(String(validating: header, as: UTF8.self), "valid UTF-8")
        #expect(reason.hasPrefix(text))
    }

    @Test("a router reason quoting a long field is cut, and every cut is a valid UTF-8 prefix of at most 1 KB, as long as can be")
    func routerReasonAndEveryLength() throws {
        let site = String(repeating: "日本é😀x", count: 200)
        let router = Router(routes: [Route(source: "oms.orders", site: .field("site_id"), topic: .fixed("order_state_changed"))], sites: [Site(id: "c404", token: "t")])
        let record = SourceRecord(
            topic: "oms.orders", partition: 0, offset: 1, key: nil, value: Array(#"{"site_id":"\#(site)"}"#.utf8), messageIDHeader: nil, timestampMilliseconds: 0)
        guard case .deadLetter(let reason) = router.route(record) else {
            Issue.record("an unknown site is dead-lettered")
            return
        }
        #expect(reason.utf8.count > 1024)
        let header = DeadLetterReason.headerValue(reason)
        #expect(header.count <= 1024 && header.count > 1020)
        #expect(reason.hasPrefix(try #require(String(validating: header, as: UTF8.self))))
        // Every length around the mark: the longest whole-character prefix within 1 KB.
        for extra in 0..<12 {
            let text = String(repeating: "a", count: 1015 + extra) + "日本é😀x" + "tail"
            let cut = DeadLetterReason.headerValue(text)
            let kept = try #require(String(validating: cut, as: UTF8.self))
            #expect(text.hasPrefix(kept) && cut.count <= 1024)
            let nextCharacter = text.unicodeScalars.dropFirst(kept.unicodeScalars.count).first.map { String($0).utf8.count } ?? 0
            #expect(cut.count + nextCharacter > 1024, "\(extra): \(cut.count) bytes kept, the next character would fit")
        }
    }
}
