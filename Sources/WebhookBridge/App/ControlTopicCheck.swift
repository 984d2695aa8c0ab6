/// The control topic must be compacted (DESIGN.md §8): with `cleanup.policy=delete` the broker
/// drops its records after the retention time, and with them webhooks, statuses and cursors.
/// Start-up refuses such a topic where the broker reports topic configs (DescribeConfigs) and
/// goes on where it does not (the embedded mock broker keeps none).
enum ControlTopicCheck {
    enum Verdict: Equatable {
        case compacted
        /// The broker reported no `cleanup.policy`: nothing to check.
        case unknown
        /// The reason, with the command that fixes it.
        case refused(String)
    }

    /// The decision, given the topic's configs as the broker reports them (nil: it reports none).
    /// `compact` alone passes; `delete` or `compact,delete` would still delete records.
    static func verdict(topic: String, configs: [String: String]?, bootstrapServers: String) -> Verdict {
        guard let policy = configs?["cleanup.policy"] else { return .unknown }
        let policies = policy.split(separator: ",").map { $0.filter { !$0.isWhitespace } }
        if policies == ["compact"] { return .compacted }
        return .refused(
            "control topic \(topic) has cleanup.policy=\(policy): it must be compact, or the broker deletes webhooks, statuses and "
                + "cursors with old segments. Fix it with: kafka-configs --bootstrap-server \(bootstrapServers) --alter --entity-type topics "
                + "--entity-name \(topic) --add-config cleanup.policy=compact")
    }
}

/// Start-up refused: the control topic is not compacted (see `ControlTopicCheck`).
public struct ControlTopicNotCompacted: Error, Sendable, CustomStringConvertible {
    public let description: String
}
