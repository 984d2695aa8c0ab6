import Testing
import WebhookDomain

@testable import Delivery

/// `/explain` as values: how a lane stands towards a record, and the verdict rules of
/// `WebhookVerdict`, one test per rule.
@Suite("Explain: lane standings and verdict rules")
struct ExplainVerdictTests {
    static let partition = LaneStateMachineTests.partition

    @Test("a lane's standing towards a record: in flight, queued, not read, settled once acknowledged, held when failed, at or after the cursor once parked")
    func laneStandings() throws {
        var machine = LaneStateMachineTests.machine()
        _ = machine.assigned(Self.partition, start: 0, epoch: 1, cursor: nil)
        for offset in Int64(0)..<2 { _ = machine.offer(LaneStateMachineTests.message(offset), partition: Self.partition) }
        let first = try #require(LaneStateMachineTests.sends(&machine).first)
        #expect(machine.view(of: Self.partition, offset: 0) == LaneView(mode: .live, standing: .inFlight, position: 0))
        #expect(machine.view(of: Self.partition, offset: 1)?.standing == .queued)
        #expect(machine.view(of: Self.partition, offset: 2)?.standing == .notRead)
        #expect(machine.view(of: SourcePartition("oms.orders", 1), offset: 0) == nil, "a partition this instance does not hold")

        _ = machine.requestFinished(first, failure: nil, now: 0)
        #expect(machine.view(of: Self.partition, offset: 0) == LaneView(mode: .live, standing: .settled, position: 1))
        let second = try #require(LaneStateMachineTests.sends(&machine).first)
        _ = machine.requestFinished(second, failure: LaneStateMachineTests.failure, now: 0)
        #expect(machine.view(of: Self.partition, offset: 1)?.standing == .held)

        let (cursors, dropped) = machine.beginParking()
        #expect(cursors == [Self.partition: 1])
        _ = machine.cursorsDurable(cursors, dropped: dropped)
        #expect(machine.view(of: Self.partition, offset: 1) == LaneView(mode: .parked, standing: .atOrAfterCursor, position: 1))
        #expect(machine.view(of: Self.partition, offset: 0)?.standing == .settled)
    }

    static func evidence(
        status: WebhookState = WebhookState(), topics: [String] = ["order_state_changed"], unrouted: WebhookVerdict.Unrouted? = nil, cursor: Int64? = nil, committed: Int64? = nil,
        lane: LaneView? = nil, attempts: [RecordedAttempt]? = []
    ) -> WebhookVerdict.Evidence {
        let webhook = Webhook(id: "erp", siteID: "c404", url: "https://erp.example.com", topics: topics, hashKeys: [HashKey("k")])
        let messages = topics.contains("order_state_changed") ? [WebhookVerdict.Message(messageID: "m1", webhookTopic: "order_state_changed")] : []
        return .init(
            webhook: webhook, state: status, partition: Self.partition, offset: 10, routedTopics: ["order_state_changed"], unrouted: unrouted,
            cursor: cursor, committed: committed, lane: lane, attempts: attempts, messages: unrouted == nil ? messages : [])
    }

    static func status(_ status: WebhookStatus, pause: WebhookState.PauseKind? = nil) -> WebhookState {
        var state = WebhookState(status: status)
        state.pause = pause
        return state
    }

    static let acked = RecordedAttempt(
        webhookID: "erp", attempt: 1, outcome: "acked", status: 202, error: nil, latencyMilliseconds: 3, at: 1, batchID: nil,
        messages: [.init(messageID: "m1", topic: "order_state_changed", sequence: "0-10")])

    @Test("the rules in order", arguments: [
        // Routing first, then subscription, then a dead webhook, whatever else holds.
        (evidence(unrouted: .deadLettered("not a JSON object"), committed: 11), WebhookVerdict.Verdict.deadLettered),
        (evidence(unrouted: .skipped("debezium delete"), committed: 11), .skipped),
        (evidence(topics: ["parcel_state_changed"], committed: 11), .notSubscribed),
        (evidence(status: status(.dead), committed: 11), .dead),
        // Without a lane here: the cursor, then the committed offset.
        (evidence(committed: 11, attempts: [acked]), .delivered),
        (evidence(cursor: 12, committed: 11), .delivered),
        (evidence(cursor: 10, committed: 11), .parked),
        (evidence(committed: 10), .pending),
        (evidence(), .pending),
        // The lane here is fresher than the stored cursor.
        (evidence(cursor: 5, committed: 3, lane: .init(mode: .catchingUp, standing: .settled, position: 11)), .delivered),
        (evidence(committed: 3, lane: .init(mode: .live, standing: .inFlight, position: 10)), .pending),
        (evidence(committed: 3, lane: .init(mode: .live, standing: .notRead, position: 4)), .pending),
        (evidence(cursor: 10, lane: .init(mode: .parked, standing: .atOrAfterCursor, position: 10)), .parked),
        // Not delivered to a webhook that sends nothing: its status says why.
        (evidence(status: status(.paused, pause: .manual), cursor: 10, lane: .init(mode: .parked, standing: .atOrAfterCursor, position: 10)), .paused),
        (evidence(status: status(.disabled), committed: 3, lane: .init(mode: .parking, standing: .held, position: 10)), .disabled),
        (evidence(status: status(.paused, pause: .auto), cursor: 10), .parked),
        // Delivered before the pause: delivered.
        (evidence(status: status(.paused, pause: .manual), cursor: 12, committed: 11), .delivered),
    ])
    func rules(evidence: WebhookVerdict.Evidence, expected: WebhookVerdict.Verdict) {
        let verdict = WebhookVerdict(evidence)
        #expect(verdict.verdict == expected, "\(verdict.detail)")
    }

    @Test("delivered says how, and whether attempts were found in the searched window")
    func deliveredDetail() {
        let found = WebhookVerdict(Self.evidence(committed: 11, attempts: [Self.acked]))
        #expect(found.detail == "the group's committed offset (11) is past the record and it has no cursor for the partition; 1 attempt found, the last acknowledged")
        let none = WebhookVerdict(Self.evidence(cursor: 12, committed: 11))
        #expect(none.detail.hasSuffix("its cursor (12) is past the record; no attempt for its message ids found in the attempts topic in the searched window"))
        let acknowledgedHere = WebhookVerdict(Self.evidence(committed: 3, lane: .init(mode: .live, standing: .settled, position: 11), attempts: nil))
        #expect(acknowledgedHere.detail == "acknowledged: behind its lane here (position 11); the group's committed offset (3) is not past it yet (other webhooks' deliveries, or the next commit)")
    }

    @Test("a paused (auto) webhook's probe is named as such, with its last error")
    func probe() {
        var state = Self.status(.paused, pause: .auto)
        state.lastError = "HTTP 500"
        state.nextRetryAtMilliseconds = 61_000
        state.probe = Probe(sourceTopic: Self.partition.topic, partition: Self.partition.partition, offset: 10, messageID: "m1", webhookTopic: "order_state_changed")
        let verdict = WebhookVerdict(Self.evidence(status: state, cursor: 10))
        #expect(verdict.verdict == .parked)
        #expect(verdict.detail.hasPrefix("paused after a failed delivery (HTTP 500), 0 retries so far, next at 1970-01-01T00:01:01Z; this record is the probe; at or after its cursor (10)"), "\(verdict.detail)")
    }

    @Test("an attempt record of the attempts topic reads back; anything else is nil")
    func recordedAttempt() {
        let json = #"{"version":1,"webhook_id":"erp","attempt":2,"outcome":"status_500","latency_ms":12,"at":1.5,"messages":[{"message_id":"m1","topic":"t","sequence":"0-1"}],"status":500,"error":"HTTP 500"}"#
        let attempt = RecordedAttempt(json: Array(json.utf8))
        #expect(attempt?.attempt == 2 && attempt?.status == 500 && attempt?.error == "HTTP 500" && attempt?.messages.map(\.messageID) == ["m1"])
        #expect(attempt?.acknowledged == false)
        #expect(RecordedAttempt(json: Array("not json".utf8)) == nil)
    }
}

extension WebhookVerdict.Evidence: CustomTestStringConvertible {
    public var testDescription: String {
        let lane = self.lane.map { "lane \($0.mode.rawValue)/\($0.standing.rawValue)" } ?? "no lane"
        let pause = state.pause.map { " (\($0.rawValue))" } ?? ""
        return "\(state.status.rawValue)\(pause), topics \(webhook.topics), unrouted \(unrouted.map { "\($0)" } ?? "-"), cursor \(cursor.map(String.init) ?? "-"), committed \(committed.map(String.init) ?? "-"), \(lane)"
    }
}
