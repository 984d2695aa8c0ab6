import Delivery
import Foundation
import WebhookDomain

/// `webhook-bridge check`: what a receiver team runs before going live. Sends signed test
/// messages, many at once (the OMS guide asks receivers to take at least 20 concurrent
/// requests), and judges the answers against the guide's marks: acknowledged with 202 (or the
/// given statuses) within 15 s, ideally under 300 ms, and under 50 ms for the hall of fame.
public struct ReceiverCheck: Sendable {
    public var url: String
    public var secret: HashKey
    public var scheme: SignatureScheme
    public var concurrency: Int
    public var count: Int
    public var ackStatuses: Set<Int>
    public var timeout: Duration

    public init(url: String, secret: HashKey, scheme: SignatureScheme = .hmac, concurrency: Int = 20, count: Int = 100, ackStatuses: Set<Int> = [202], timeout: Duration = .seconds(15)) {
        self.url = url
        self.secret = secret
        self.scheme = scheme
        self.concurrency = concurrency
        self.count = count
        self.ackStatuses = ackStatuses
        self.timeout = timeout
    }

    public struct Report: Sendable, CustomStringConvertible {
        /// Answers by status code (or failure label: timeout, connection_error, …).
        public var outcomes: [String: Int]
        /// Latency of each acknowledged request.
        public var ackTimes: [Duration]
        public var sent: Int
        public var timeout: Duration

        public var acknowledged: Int { ackTimes.count }
        public var allAcknowledged: Bool { acknowledged == sent }

        public func percentile(_ p: Double) -> Duration? {
            guard !ackTimes.isEmpty else { return nil }
            let sorted = ackTimes.sorted()
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
        }

        public var description: String {
            func ms(_ duration: Duration?) -> String { duration.map { String(format: "%.1f ms", $0.seconds * 1000) } ?? "-" }
            let p95 = percentile(0.95)
            let mark = { (ok: Bool) in ok ? "PASS" : "FAIL" }
            var lines = ["sent \(sent) signed messages"]
            lines.append("answers: " + outcomes.sorted { $0.key < $1.key }.map { "\($0.key) × \($0.value)" }.joined(separator: ", "))
            lines.append("ack time: p50 \(ms(percentile(0.5)))  p95 \(ms(p95))  max \(ms(ackTimes.max()))")
            lines.append("\(mark(allAcknowledged))  every message acknowledged (status and time)")
            lines.append("\(mark(allAcknowledged && (ackTimes.max() ?? .zero) <= timeout))  every acknowledgement within \(Int(timeout.seconds)) s")
            lines.append("\(mark(p95.map { $0 < .milliseconds(300) } ?? false))  p95 under 300 ms (recommended)")
            lines.append("\(mark(p95.map { $0 < .milliseconds(50) } ?? false))  p95 under 50 ms (hall of fame)")
            return lines.joined(separator: "\n")
        }
    }

    public func run() async -> Report {
        let client = WebhookHTTPClient(maxConnectionsPerHost: concurrency)
        var options = WebhookOptions()
        options.signature = scheme
        let webhook = Webhook(id: "check", siteID: "check", url: url, method: .post, topics: ["order_state_changed"], hashKeys: [secret], options: options)
        var outcomes: [String: Int] = [:]
        var ackTimes: [Duration] = []
        await withTaskGroup(of: HTTPAttemptResult.self) { group in
            var next = 0
            func add() {
                let index = next
                next += 1
                group.addTask {
                    let message = RoutedMessage(
                        siteID: "check", topic: WebhookTopic(name: "order_state_changed", ordered: true), messageID: "check-\(UUID().uuidString.lowercased())",
                        sequence: "0-\(index)", entity: Array("CHECK-\(index)".utf8),
                        payload: Array(#"{"order_id":"CHECK-\#(index)","old_state":"new","new_state":"validated","check":true}"#.utf8),
                        sourcePartition: 0, sourceOffset: Int64(index))
                    return await client.send(WebhookRequest.single(message, to: webhook, timestamp: Int64(Date().timeIntervalSince1970)), timeout: timeout)
                }
            }
            for _ in 0..<min(concurrency, count) { add() }
            for await result in group {
                outcomes[result.outcomeLabel, default: 0] += 1
                if let status = result.status, ackStatuses.contains(status) { ackTimes.append(result.latency) }
                if next < count { add() }
            }
        }
        await client.shutdown()
        return Report(outcomes: outcomes, ackTimes: ackTimes, sent: count, timeout: timeout)
    }
}
