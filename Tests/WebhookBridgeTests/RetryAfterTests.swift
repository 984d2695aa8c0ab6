import Foundation
import Testing

@testable import Delivery

@Suite("Retry-After parsing")
struct RetryAfterTests {
    @Test("seconds and HTTP dates; garbage is ignored")
    func parse() {
        #expect(WebhookHTTPClient.retryAfter("120") == .seconds(120))
        #expect(WebhookHTTPClient.retryAfter(" 1.5 ") == .milliseconds(1500))
        #expect(WebhookHTTPClient.retryAfter("soon") == nil)
        #expect(WebhookHTTPClient.retryAfter(nil) == nil)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let inAMinute = formatter.string(from: Date().addingTimeInterval(60))
        let parsed = WebhookHTTPClient.retryAfter(inAMinute)?.seconds ?? 0
        #expect(parsed > 55 && parsed <= 60, "\(inAMinute) → \(parsed)")
        #expect(WebhookHTTPClient.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == .zero)
    }
}
