extension KafkaConfig {
    /// Why a librdkafka property may not be passed through, or nil when it may: the properties the
    /// bridge sets itself because the commit invariant (DESIGN.md §7) and the control topic's
    /// durability rest on them. The config file refuses them, naming the key.
    ///
    /// Aliases count too: `request.required.acks` is `acks`, `auto.commit.enable` is
    /// `enable.auto.commit` (librdkafka's topic-level names).
    public static func problem(withProperty key: String, value: String) -> String? {
        switch key {
        case "enable.auto.offset.store":
            "set by the bridge (false): it stores an offset only once every delivery before it is settled, so a commit never passes an undelivered message"
        case "enable.auto.commit", "auto.commit.enable":
            "set by the bridge: it commits only the offsets it stored itself, and before giving a partition up"
        case "acks", "request.required.acks":
            "set by the bridge's producer (acks=all): a cursor must be durable before the committed offset passes it"
        case "enable.idempotence" where value.lowercased() != "true":
            "the bridge's producer must be idempotent (a retried write of the control topic must not be duplicated or reordered)"
        case "isolation.level":
            "the bridge reads committed records only (read_committed, librdkafka's default): records of aborted transactions must never be delivered"
        default:
            nil
        }
    }
}
