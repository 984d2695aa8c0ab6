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

    /// Why librdkafka refuses a property, in its words, or nil when it takes it. Checked one
    /// property at a time, before any client exists, so that the config file's error can name
    /// the key (and `config check` finds it offline); what depends on several properties
    /// together (a missing certificate file, a mechanism without its library) is found when a
    /// client is made.
    public static func librdkafkaRefusal(ofProperty key: String, value: String) -> String? {
        RDKafkaClient.refusal(ofProperty: key, value: value)
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
