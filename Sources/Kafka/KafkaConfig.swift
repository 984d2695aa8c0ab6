/// Connection settings shared by every Kafka client of the process: where the brokers are and any
/// librdkafka property to pass through (security, timeouts, tuning). Role-specific defaults are
/// added by each client type and may be overridden by `properties`.
public struct KafkaConfig: Sendable {
    public var bootstrapServers: String
    /// Any librdkafka property, passed through as it is (`security.protocol`, `sasl.*`, ...).
    public var properties: [String: String]

    public init(bootstrapServers: String, properties: [String: String] = [:]) {
        self.bootstrapServers = bootstrapServers
        self.properties = properties
    }

    /// The flattened librdkafka properties: role defaults, then the bootstrap address, then the
    /// user's properties, which win.
    func flattened(defaults: [String: String]) -> [String: String] {
        var all = defaults
        all["bootstrap.servers"] = bootstrapServers
        all.merge(properties) { _, user in user }
        return all
    }
}
