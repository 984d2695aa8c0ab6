import Testing

@testable import WebhookBridge

/// The start-up decision on the control topic's `cleanup.policy`, from stub configs
/// (`KafkaAdmin.topicConfigs` is what gives the real ones).
@Suite("Control topic cleanup.policy check")
struct ControlTopicCheckTests {
    static func verdict(_ configs: [String: String]?) -> ControlTopicCheck.Verdict {
        ControlTopicCheck.verdict(topic: "webhook-bridge.control", configs: configs, bootstrapServers: "kafka-1:9092")
    }

    @Test("compact passes")
    func compacted() {
        #expect(Self.verdict(["cleanup.policy": "compact", "retention.ms": "604800000"]) == .compacted)
    }

    @Test("delete, or compact with delete, is refused with the command that fixes it", arguments: ["delete", "compact,delete", "delete, compact"])
    func refused(policy: String) throws {
        guard case .refused(let reason) = Self.verdict(["cleanup.policy": policy]) else {
            Issue.record("not refused: \(policy)"); return
        }
        #expect(reason.contains("cleanup.policy=\(policy)"))
        #expect(
            reason.contains(
                "kafka-configs --bootstrap-server kafka-1:9092 --alter --entity-type topics --entity-name webhook-bridge.control --add-config cleanup.policy=compact"
            ))
    }

    @Test("no configs reported (the embedded broker), or none for cleanup.policy: not checked, start-up goes on")
    func unknown() {
        #expect(Self.verdict(nil) == .unknown)
        #expect(Self.verdict([:]) == .unknown)
    }
}
