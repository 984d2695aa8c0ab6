import CLibrdkafka

extension RDKafkaClient {
    /// What librdkafka holds for `key` on this handle (`rd_kafka_conf_get` on the handle's own
    /// configuration): the property as librdkafka took it, an enum under its canonical name
    /// (`SASL_SSL` reads `sasl_ssl`). Nil for a key librdkafka does not know. Secrets read back
    /// in clear: for tests and checks, never for a log.
    func configuredValue(_ key: String) -> String? {
        // Borrowed: the handle owns its configuration, which lives as long as the handle.
        let conf = rd_kafka_conf(handle)
        var size = 0
        guard rd_kafka_conf_get(conf, key, nil, &size) == RD_KAFKA_CONF_OK else { return nil }
        var buffer = [CChar](repeating: 0, count: size)
        guard rd_kafka_conf_get(conf, key, &buffer, &size) == RD_KAFKA_CONF_OK else { return nil }
        return String(cChars: buffer)
    }

    /// librdkafka's refusal of one property, in its words (`No such configuration property:
    /// "sasl.pasword"`, `Invalid value "SASL_TLS" for configuration property
    /// "security.protocol"`), or nil when it takes it.
    static func refusal(ofProperty key: String, value: String) -> String? {
        // Ours: a scratch configuration, destroyed here; no handle is made from it.
        guard let conf = rd_kafka_conf_new() else { return "rd_kafka_conf_new failed" }
        defer { rd_kafka_conf_destroy(conf) }
        var errorText = [CChar](repeating: 0, count: 512)
        guard rd_kafka_conf_set(conf, key, value, &errorText, errorText.count) != RD_KAFKA_CONF_OK else { return nil }
        return String(cChars: errorText)
    }
}
