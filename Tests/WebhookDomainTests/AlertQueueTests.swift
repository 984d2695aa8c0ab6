import Foundation
import Testing

@testable import WebhookDomain

/// The alert queue as a value (DESIGN.md §5): bounded, one alert per webhook and kind per window.
@Suite("Alert queue: bound and per-kind rate")
struct AlertQueueTests {
    static func alert(_ webhook: String, _ kind: AlertKind = .onFailure) -> AlertEvent {
        AlertEvent(
            kind: kind, siteID: "c404", contacts: AlertContacts(emailNotificationName: "n"), testMode: false, testEmails: [], webhookID: webhook,
            url: "https://a.example", status: .paused, topic: nil, probeMessageID: nil, attempts: 4, lastError: nil, at: Date())
    }

    static let start = ContinuousClock.now

    @Test("one alert per webhook and kind per window: the others are suppressed until the window of the first one ends")
    func perKindRate() {
        var queue = AlertQueue(capacity: 10, window: .seconds(300))
        #expect(queue.offer(Self.alert("w1"), now: Self.start) == .queued)
        #expect(queue.offer(Self.alert("w1"), now: Self.start + .seconds(10)) == .suppressed(until: Self.start + .seconds(300)))
        // Another kind, another webhook: their own windows.
        #expect(queue.offer(Self.alert("w1", .onFailureRecovered), now: Self.start + .seconds(20)) == .queued)
        #expect(queue.offer(Self.alert("w2"), now: Self.start + .seconds(20)) == .queued)
        // A suppressed alert does not extend the window.
        #expect(queue.offer(Self.alert("w1"), now: Self.start + .seconds(299)) == .suppressed(until: Self.start + .seconds(300)))
        #expect(queue.offer(Self.alert("w1"), now: Self.start + .seconds(300)) == .queued)
        #expect(queue.offer(Self.alert("w1"), now: Self.start + .seconds(301)) == .suppressed(until: Self.start + .seconds(600)))
        #expect(queue.count == 4)
    }

    @Test("the bound drops the newest: the waiting ones stay in order, and a dropped alert opens no window")
    func boundDropsNewest() {
        var queue = AlertQueue(capacity: 2, window: .seconds(300))
        #expect(queue.offer(Self.alert("w1"), now: Self.start) == .queued)
        #expect(queue.offer(Self.alert("w2"), now: Self.start) == .queued)
        #expect(queue.offer(Self.alert("w3"), now: Self.start) == .dropped)
        #expect(queue.count == 2)
        #expect(queue.next()?.webhookID == "w1")
        // Room again: w3 was dropped, not suppressed, so it may come in now.
        #expect(queue.offer(Self.alert("w3"), now: Self.start + .seconds(1)) == .queued)
        #expect(queue.removeAll().map(\.webhookID) == ["w2", "w3"])
        #expect(queue.next() == nil)
    }

    @Test("windows that ended are forgotten as keys pile up, so the map stays about one window's worth")
    func pruning() {
        var queue = AlertQueue(capacity: 100_000, window: .seconds(1))
        for index in 0..<5_000 {
            _ = queue.offer(Self.alert("w\(index)"), now: Self.start + .milliseconds(index * 10))
            _ = queue.next()
        }
        // 100 keys per second are let through; those older than a second go at each pruning.
        #expect(queue.trackedKeys <= 1_024 + 100, "\(queue.trackedKeys)")
        #expect(queue.offer(Self.alert("w4999"), now: Self.start + .milliseconds(49_995)) == .suppressed(until: Self.start + .milliseconds(50_990)))
    }
}
