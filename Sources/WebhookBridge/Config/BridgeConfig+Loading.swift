import Crypto
import Delivery
import Foundation
import Kafka
import WebhookDomain
import Yams

extension BridgeConfig {
    /// Reads and validates a config file. Secrets named by `*_env` keys come from `environment`,
    /// those named by `*_file` keys from the files (`ConfigNode.secret(_:environment:)`).
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) -> BridgeConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError(path: "", problem: "cannot read config file \(path): \(error.localizedDescription)")
        }
        return try parse(yaml: text, environment: environment)
    }

    public static func parse(yaml: String, environment: [String: String] = [:]) throws(ConfigError) -> BridgeConfig {
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch { throw ConfigError(path: "", problem: "not valid YAML: \(error)") }
        let top = ConfigNode(node: root, path: "")
        try top.requireMapping(allowedKeys: [
            "kafka", "http", "smtp", "sms", "schema_registry", "quotas", "sites", "topics", "routes", "webhooks", "logging", "shutdown_timeout",
            "tracing",
        ])
        var config = BridgeConfig()
        try config.readKafka(top["kafka"], environment: environment)
        try config.readHTTP(top["http"], environment: environment)
        if !top["smtp"].isMissing { config.smtp = try readSMTP(top["smtp"], environment: environment) }
        try top["sms"].requireMapping(allowedKeys: ["url"])
        config.smsURL = try top["sms"]["url"].optionalHTTPURL()
        config.schemaRegistry = try readSchemaRegistry(top["schema_registry"], environment: environment)
        try config.readLogging(top["logging"])
        try top["tracing"].requireMapping(allowedKeys: ["otlp_endpoint"])
        config.tracing.otlpEndpoint = try top["tracing"]["otlp_endpoint"].optionalHTTPURL()
        config.shutdownTimeout = try top["shutdown_timeout"].duration(default: config.shutdownTimeout)
        guard config.shutdownTimeout >= .seconds(1), config.shutdownTimeout <= .seconds(600) else {
            throw top["shutdown_timeout"].error("must be between 1 s and 600 s")
        }
        config.topics = try top["topics"].items().map { node throws(ConfigError) in try readTopic(node) }
        config.quotas = try readQuotas(top["quotas"])
        config.sites = try readSites(top["sites"], quotas: config.quotas, proxy: config.http.proxy, environment: environment)
        config.sitesWithConfiguration = try Set(top["sites"].items().filter { item in
            Set(item.node?.mapping?.keys.compactMap(\.string) ?? []).subtracting(Self.siteKeysBesidesConfiguration).isEmpty == false
        }.map { node throws(ConfigError) in try node["id"].string() })
        config.routes = try top["routes"].items().map { node throws(ConfigError) in try config.readRoute(node) }
        try config.readWebhooks(top["webhooks"], environment: environment)
        return config
    }

    private mutating func readKafka(_ node: ConfigNode, environment: [String: String]) throws(ConfigError) {
        try node.requireMapping(allowedKeys: [
            "bootstrap_servers", "group_id", "start_from", "control_topic", "attempts_topic", "dead_letter_topic", "properties",
            "properties_env", "properties_file", "embedded",
        ])
        kafka.bootstrapServers = try node["bootstrap_servers"].string(default: kafka.bootstrapServers)
        kafka.groupID = try node["group_id"].string(default: kafka.groupID)
        kafka.startFrom = try node["start_from"].oneOf(KafkaConsumer.StartPosition.self, default: .latest)
        kafka.controlTopic = try node["control_topic"].string(default: kafka.controlTopic)
        kafka.attemptsTopic = try node["attempts_topic"].string(default: kafka.attemptsTopic)
        kafka.deadLetterTopic = try node["dead_letter_topic"].string(default: kafka.deadLetterTopic)
        kafka.properties = try Self.readProperties(node, environment: environment)
        let embedded = node["embedded"]
        try embedded.requireMapping(allowedKeys: ["brokers", "partitions"])
        kafka.embeddedBrokers = try embedded["brokers"].int(default: 1, in: 1...5)
        kafka.embeddedPartitions = Int32(try embedded["partitions"].int(default: 4, in: 1...256))
    }

    /// librdkafka properties: inline (`properties`), from environment variables
    /// (`properties_env: {sasl.password: KAFKA_PASSWORD}`) or from files (`properties_file:
    /// {sasl.password: /run/secrets/kafka}`, trailing newlines trimmed). A property the bridge's
    /// guarantees depend on is refused, naming its key (`KafkaConfig.problem(withProperty:value:)`);
    /// so is one given twice, and one librdkafka itself refuses (an unknown name, a value out of
    /// its type: `KafkaConfig.librdkafkaRefusal(ofProperty:value:)`).
    private static func readProperties(_ node: ConfigNode, environment: [String: String]) throws(ConfigError) -> [String: String] {
        var properties: [String: String] = [:]
        var givenIn: [String: String] = [:]
        for form in ConfigNode.SecretForm.allCases {
            let section = form.key("properties")
            for (key, value) in try node[section].entries() {
                if let earlier = givenIn[key] { throw value.error("given in kafka.\(earlier) too") }
                givenIn[key] = section
                let text = try value.secretValue(form, environment: environment)
                if let problem = KafkaConfig.problem(withProperty: key, value: text) { throw value.error(problem) }
                if var refusal = KafkaConfig.librdkafkaRefusal(ofProperty: key, value: text) {
                    // librdkafka quotes a value it refuses; a secret's is never quoted.
                    if section != "properties" { refusal = refusal.replacingOccurrences(of: "\"\(text)\"", with: "(the value given)") }
                    throw value.error("refused by librdkafka: \(refusal)")
                }
                properties[key] = text
            }
        }
        return properties
    }

    private static func readQuotas(_ node: ConfigNode) throws(ConfigError) -> Quotas {
        try node.requireMapping(allowedKeys: ["webhooks_per_site", "custom_topics_per_site"])
        var quotas = Quotas()
        quotas.webhooksPerSite = try node["webhooks_per_site"].int(default: quotas.webhooksPerSite)
        quotas.customTopicsPerSite = try node["custom_topics_per_site"].int(default: quotas.customTopicsPerSite)
        do throws(SettingsError) { try quotas.validate() } catch { throw error.prefixed(by: node.path) }
        return quotas
    }

    private mutating func readHTTP(_ node: ConfigNode, environment: [String: String]) throws(ConfigError) {
        try node.requireMapping(allowedKeys: [
            "admin_listen", "ops_listen", "listener_limits", "allow_private_destinations", "max_concurrent_requests", "auth_failures_per_minute",
            "proxy", "proxy_env", "proxy_file",
        ])
        let admin = try Self.listenAddress(node["admin_listen"], default: "127.0.0.1:8080")
        http.adminHost = admin.host
        http.adminPort = admin.port
        if !node["ops_listen"].isMissing {
            let ops = try Self.listenAddress(node["ops_listen"], default: nil)
            // Port 0 picks a free port for each, so only fixed ports can clash.
            if ops.port != 0, ops.port == admin.port, ops.host == admin.host {
                throw node["ops_listen"].error("must differ from http.admin_listen")
            }
            http.opsListen = ops
        }
        http.listenerLimits = try Self.readListenerLimits(node["listener_limits"])
        http.allowPrivateDestinations = try node["allow_private_destinations"].bool(default: false)
        http.maxConcurrentRequests = try node["max_concurrent_requests"].int(default: 256, in: 1...100_000)
        http.authFailuresPerMinute = try node["auth_failures_per_minute"].int(default: http.authFailuresPerMinute, in: 1...1_000_000)
        http.proxy = try Self.readProxy(node, environment: environment)
    }

    /// `proxy: http://[user:password@]host:port` (or its `_env` or `_file` form, for a password).
    static func readProxy(_ node: ConfigNode, environment: [String: String]) throws(ConfigError) -> HTTPProxy? {
        guard let text = try node.secret("proxy", environment: environment) else { return nil }
        switch HTTPProxy.parse(text) {
        case .success(let proxy): return proxy
        case .failure(let error): throw node[node.secretKey("proxy")].error(error.problem)
        }
    }

    /// `host:port` (`[::1]:8080` for IPv6; port 0 for any free port).
    private static func listenAddress(_ node: ConfigNode, default value: String?) throws(ConfigError) -> ListenAddress {
        let listen = try node.string(default: value)
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port),
            colon > listen.startIndex
        else { throw node.error("expected host:port, got \"\(listen)\"") }
        return ListenAddress(host: String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: port)
    }

    private static func readListenerLimits(_ node: ConfigNode) throws(ConfigError) -> ListenerLimits {
        try node.requireMapping(allowedKeys: ["idle_timeout", "read_timeout", "max_connections", "max_header_bytes"])
        var limits = ListenerLimits()
        let timeouts = Duration.milliseconds(1)...Duration.seconds(86_400)
        limits.idleTimeout = try node["idle_timeout"].duration(default: limits.idleTimeout)
        if !timeouts.contains(limits.idleTimeout) { throw node["idle_timeout"].error("must be from 0.001 to 86400 seconds") }
        limits.readTimeout = try node["read_timeout"].duration(default: limits.readTimeout)
        if !timeouts.contains(limits.readTimeout) { throw node["read_timeout"].error("must be from 0.001 to 86400 seconds") }
        limits.maxConnections = try node["max_connections"].int(default: limits.maxConnections, in: 1...100_000)
        limits.maxHeaderBytes = try node["max_header_bytes"].int(default: limits.maxHeaderBytes, in: 1_024...1_048_576)
        return limits
    }

    private static func readSMTP(_ node: ConfigNode, environment: [String: String]) throws(ConfigError) -> SMTPSettings {
        try node.requireMapping(allowedKeys: [
            "host", "port", "tls", "username", "password", "password_env", "password_file", "allow_plaintext_auth", "from", "ca_file",
        ])
        var smtp = SMTPSettings()
        smtp.host = try node["host"].string(default: smtp.host)
        smtp.port = try node["port"].int(default: 25, in: 1...65535)
        smtp.tls = try node["tls"].oneOf(SMTPTLS.self, default: .none)
        smtp.username = try node["username"].optionalString()
        smtp.password = try node.secret("password", environment: environment)
        smtp.allowPlaintextAuth = try node["allow_plaintext_auth"].bool(default: false)
        smtp.from = try node["from"].string(default: smtp.from)
        smtp.caFile = try node["ca_file"].optionalString()
        if smtp.username != nil, smtp.password == nil { throw node["password_env"].error("required when username is set (password, password_env or password_file)") }
        return smtp
    }

    private mutating func readLogging(_ node: ConfigNode) throws(ConfigError) {
        try node.requireMapping(allowedKeys: ["level", "format", "log_payloads"])
        let level = try node["level"].string(default: "info")
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
            throw node["level"].error("expected trace, debug, info, notice, warning, error or critical, got \"\(level)\"")
        }
        logLevel = level
        logFormat = try node["format"].oneOf(LogFormat.self, default: .text)
        logPayloads = try node["log_payloads"].bool(default: false)
    }

    private static func readTopic(_ node: ConfigNode) throws(ConfigError) -> WebhookTopic {
        try node.requireMapping(allowedKeys: ["topic", "ordered"])
        return WebhookTopic(name: try node["topic"].string(), ordered: try node["ordered"].bool(default: true))
    }

    /// The Schema Registry that `format: avro` routes fetch writer schemas from.
    private static func readSchemaRegistry(_ node: ConfigNode, environment: [String: String]) throws(ConfigError) -> SchemaRegistrySettings? {
        try node.requireMapping(allowedKeys: ["url", "username", "password", "password_env", "password_file"])
        guard let url = try node["url"].optionalHTTPURL() else {
            if try node["username"].optionalString() != nil { throw node["url"].error("required with a username") }
            return nil
        }
        let username = try node["username"].optionalString()
        let password = try node.secret("password", environment: environment)
        if (username == nil) != (password == nil) { throw node["username"].error("give username and password together") }
        return SchemaRegistrySettings(url: url.hasSuffix("/") ? String(url.dropLast()) : url, username: username, password: password)
    }

    /// A site entry's keys that are not its configuration.
    static let siteKeysBesidesConfiguration: Set<String> = ["id", "token", "token_env", "token_file", "custom_topics", "proxy", "proxy_env", "proxy_file"]

    /// `proxy`: the proxy of the sites that do not name their own.
    private static func readSites(_ node: ConfigNode, quotas: Quotas, proxy: HTTPProxy?, environment: [String: String]) throws(ConfigError) -> [Site] {
        var sites: [Site] = []
        for item in try node.items() {
            try item.requireMapping(allowedKeys: [
                "id", "token", "token_env", "token_file", "ack_statuses", "ack_timeout", "retry_intervals", "retries_until_failure",
                "message_retention", "max_in_flight", "test_mode", "test_emails", "test_mobiles", "on_failure", "on_deactivation",
                "on_failure_recovered", "custom_topics", "notifications", "proxy", "proxy_env", "proxy_file",
            ])
            let id = try item["id"].string()
            if sites.contains(where: { $0.id == id }) { throw item["id"].error("duplicate site id \(id)") }
            guard let token = try item.secret("token", environment: environment) else {
                throw item["token"].error("required: give token, token_env or token_file")
            }
            // Read here, judged by `Site.validate()` below (the API and the control topic use it too).
            var site = Site(id: id, token: token)
            site.proxy = try readProxy(item, environment: environment) ?? proxy
            if !item["ack_statuses"].isMissing {
                site.ackStatuses = Set(try item["ack_statuses"].items().map { node throws(ConfigError) in try node.int(default: 0) })
            }
            site.ackTimeout = try item["ack_timeout"].duration(default: site.ackTimeout)
            if !item["retry_intervals"].isMissing {
                site.retryIntervals = try item["retry_intervals"].items().map { node throws(ConfigError) in try node.duration(default: .zero) }
            }
            // Not given: 3 (DESIGN.md §5), or every retry when the list is shorter. The file used to
            // take a shorter list with the default unchecked; the validator now refuses a count
            // past the list, so such a file keeps starting, its on_failure alert at the last retry.
            site.retriesUntilFailure = try item["retries_until_failure"].int(default: min(site.retriesUntilFailure, max(site.retryIntervals.count, 1)))
            site.messageRetention = try item["message_retention"].duration(default: site.messageRetention)
            site.maxInFlight = try item["max_in_flight"].int(default: site.maxInFlight)
            site.testMode = try item["test_mode"].bool(default: false)
            site.testEmails = try item["test_emails"].stringList()
            site.testMobiles = try item["test_mobiles"].stringList()
            site.onFailure = try readAlert(item["on_failure"], default: site.onFailure)
            site.onDeactivation = try readAlert(item["on_deactivation"], default: site.onDeactivation)
            site.onFailureRecovered = try readAlert(item["on_failure_recovered"], default: site.onFailureRecovered)
            for topic in try item["custom_topics"].items() {
                if let refusal = quotas.refusal(adding: .customTopics, to: site.customTopics.count, site: id) { throw topic.error(refusal) }
                site.customTopics.append(try readTopic(topic))
            }
            for (name, value) in try item["notifications"].entries() {
                site.notifications[name] = try readNotification(value)
            }
            do throws(SettingsError) { try site.validate() } catch {
                // The token may have come through `token_env` or `token_file`: the error names the key given.
                let path = error.path == "token" ? item.secretKey("token") : error.path
                throw SettingsError(path: path, problem: error.problem).prefixed(by: item.path)
            }
            // A token picks its site (DESIGN.md §10); the error never quotes it.
            if let other = sites.firstIndex(where: { $0.token == token }) {
                throw item[item.secretKey("token")].error("the same token as sites[\(other)] (\(sites[other].id)): tokens must be unique")
            }
            for (name, notification) in site.notifications {
                for topic in notification.webhookTopics where !site.customTopics.contains(where: { $0.name == topic }) && !WebhookTopic.standard.contains(where: { $0.name == topic }) {
                    throw item["notifications"][name]["media"]["webhook_topic"].error("unknown topic \(topic) (add it to custom_topics)")
                }
            }
            sites.append(site)
        }
        return sites
    }

    private static func readAlert(_ node: ConfigNode, default value: AlertContacts) throws(ConfigError) -> AlertContacts {
        try node.requireMapping(allowedKeys: ["contact_emails", "contact_mobiles", "email_notification_name", "sms_notification_name"])
        var contacts = value
        contacts.contactEmails = try node["contact_emails"].stringList()
        contacts.contactMobiles = try node["contact_mobiles"].stringList()
        contacts.emailNotificationName = try node["email_notification_name"].string(default: value.emailNotificationName)
        contacts.smsNotificationName = try node["sms_notification_name"].optionalString() ?? ""
        return contacts
    }

    /// The reference guide's format: `{media: {webhook_topic: [...]}, time_type: duration, time_value: 0s}`.
    private static func readNotification(_ node: ConfigNode) throws(ConfigError) -> WorkflowNotification {
        try node.requireMapping(allowedKeys: ["media", "time_type", "time_value"])
        try node["media"].requireMapping(allowedKeys: ["webhook_topic"])
        let topics = try node["media"]["webhook_topic"].stringList()
        let timeType = try node["time_type"].string(default: "duration")
        guard timeType == "duration" else { throw node["time_type"].error("only duration is supported, got \"\(timeType)\"") }
        return WorkflowNotification(webhookTopics: topics, delay: try node["time_value"].duration(default: .zero))
    }

    private func readRoute(_ node: ConfigNode) throws(ConfigError) -> Route {
        try node.requireMapping(allowedKeys: [
            "source", "source_pattern", "site", "site_field", "site_header", "topic", "topic_field", "notification_field", "topic_header",
            "payload_field", "format", "envelope", "deletes",
        ])
        let (sourceKey, source) = try Self.exactlyOne(of: ["source", "source_pattern"], in: node)
        if sourceKey == "source_pattern" { try checkPattern(source, at: node["source_pattern"]) }
        let site: Route.SiteSelector
        switch try Self.exactlyOne(of: ["site", "site_field", "site_header"], in: node) {
        case ("site", let id):
            guard sites.contains(where: { $0.id == id }) else { throw node["site"].error("unknown site \(id)") }
            site = .fixed(id)
        case ("site_field", let field): site = .field(field)
        case (_, let header): site = .header(header)
        }
        let topic: Route.TopicSelector
        switch try Self.exactlyOne(of: ["topic", "topic_field", "notification_field", "topic_header"], in: node) {
        case ("topic", let value):
            if case .fixed(let siteID) = site, router.topic(named: value, site: siteID) == nil {
                throw node["topic"].error("unknown webhook topic \(value) for site \(siteID)")
            }
            topic = .fixed(value)
        case ("topic_field", let value): topic = .field(value)
        case ("notification_field", let value): topic = .notification(value)
        case (_, let value): topic = .header(value)
        }
        let format = try node["format"].oneOf(Route.Format.self, default: .json)
        if format == .avro, schemaRegistry == nil { throw node["format"].error("avro needs schema_registry.url") }
        let envelope: Route.Envelope
        switch try node["envelope"].string(default: "none") {
        case "none":
            if !node["deletes"].isMissing { throw node["deletes"].error("only with envelope: debezium") }
            envelope = .none
        case "debezium":
            let deletes = try node["deletes"].string(default: "skip")
            guard deletes == "skip" || deletes == "include" else { throw node["deletes"].error("expected one of skip, include") }
            envelope = .debezium(includeDeletes: deletes == "include")
        case let other: throw node["envelope"].error("expected one of none, debezium, got \(other)")
        }
        return Route(source: source, site: site, topic: topic, payloadField: try node["payload_field"].optionalString(), format: format, envelope: envelope)
    }

    /// The one key of `keys` that `node` gives, and its text; an error naming them otherwise.
    private static func exactlyOne(of keys: [String], in node: ConfigNode) throws(ConfigError) -> (key: String, value: String) {
        var given: [(String, String)] = []
        for key in keys { if let value = try node[key].optionalString() { given.append((key, value)) } }
        let names = keys.dropLast().joined(separator: ", ") + " or " + keys.last!
        guard given.count == 1 else { throw node[keys[0]].error(given.isEmpty ? "required: give \(names)" : "give only one of \(names)") }
        return given[0]
    }

    /// A source pattern is librdkafka's: it starts with `^`, it compiles, and it must not take
    /// in the bridge's own topics.
    private func checkPattern(_ pattern: String, at node: ConfigNode) throws(ConfigError) {
        guard pattern.hasPrefix("^") else { throw node.error("a pattern starts with ^ (librdkafka's regex subscription)") }
        guard let regex = try? NSRegularExpression(pattern: pattern) else { throw node.error("not a valid regular expression") }
        for own in [kafka.controlTopic, kafka.attemptsTopic, kafka.deadLetterTopic] where regex.firstMatch(in: own, range: NSRange(own.startIndex..., in: own)) != nil {
            throw node.error("matches the bridge's own topic \(own)")
        }
    }

    private mutating func readWebhooks(_ node: ConfigNode, environment: [String: String]) throws(ConfigError) {
        let policy = DestinationPolicy(allowPrivateDestinations: http.allowPrivateDestinations)
        let router = self.router
        var perSite: [String: Int] = [:]
        for item in try node.items() {
            try item.requireMapping(allowedKeys: [
                "id", "site", "url", "http_method", "topics", "hash_key", "hash_key_env", "hash_key_file", "hash_keys", "status", "options", "headers",
                "auth", "tls", "filter",
            ])
            let siteID = try item["site"].string()
            guard sites.contains(where: { $0.id == siteID }) else { throw item["site"].error("unknown site \(siteID)") }
            let url = try item["url"].string()
            if let problem = policy.problem(with: url) { throw item["url"].error(problem) }
            let method = try item["http_method"].oneOf(HTTPMethod.self, default: .post)
            let topics = try item["topics"].stringList()
            if topics.isEmpty { throw item["topics"].error("required: at least one topic") }
            for (index, topic) in topics.enumerated() where router.topic(named: topic, site: siteID) == nil {
                throw item["topics"].error("unknown webhook topic \(topic) for site \(siteID)").at(index: index)
            }
            // Required: an id derived from the definition would change with it, and make a second webhook.
            guard let id = try item["id"].optionalString() else {
                throw item["id"].error("required: the id that names this webhook in the control topic and the API (e.g. erp-orders)")
            }
            if webhooks.contains(where: { $0.id == id }) { throw item["id"].error("duplicate webhook id \(id)") }
            if let refusal = quotas.refusal(adding: .webhooks, to: perSite[siteID, default: 0], site: siteID) { throw item.error(refusal) }
            perSite[siteID, default: 0] += 1
            var keys = try Self.readHashKeys(item, environment: environment)
            if keys.isEmpty {
                keys = [HashKey.generate()]
                generatedKeys.append((id, keys[0]))
            }
            let status = try item["status"].oneOf(WebhookStatus.self, default: .enabled)
            if status == .dead { throw item["status"].error("a webhook cannot start dead") }
            let options = try Self.readOptions(item["options"])
            do throws(SettingsError) { try options.validate() } catch { throw error.prefixed(by: item.path) }
            webhooks.append(
                Webhook(
                    id: id, siteID: siteID, url: url, method: method, topics: topics, hashKeys: keys, status: status, options: options,
                    headers: try Self.readHeaders(item["headers"]), auth: try Self.readAuth(item["auth"], environment: environment),
                    tls: try Self.readTLS(item["tls"], environment: environment), filter: try Self.readFilter(item["filter"])))
        }
    }

    /// A webhook's keys, newest first (h0, h1, h2): `hash_key` (or its `_env` or `_file` form) for
    /// one, or `hash_keys` for a rotation done in the file, each item a key or a mapping with
    /// `hash_key`, `hash_key_env` or `hash_key_file`. Empty when neither is given (a key is generated).
    static func readHashKeys(_ item: ConfigNode, environment: [String: String]) throws(ConfigError) -> [HashKey] {
        let single = try item.secret("hash_key", environment: environment)
        let list = try item["hash_keys"].items()
        if single != nil, !list.isEmpty { throw item["hash_keys"].error("give hash_key or hash_keys, not both") }
        if let single { return [try validKey(single, at: item[item.secretKey("hash_key")])] }
        guard list.count <= 3 else { throw item["hash_keys"].error("at most 3 keys (h0, h1, h2), newest first") }
        var keys: [HashKey] = []
        for node in list {
            if node.node?.scalar != nil {
                keys.append(try validKey(try node.string(), at: node))
                continue
            }
            try node.requireMapping(allowedKeys: ["hash_key", "hash_key_env", "hash_key_file"])
            guard let text = try node.secret("hash_key", environment: environment) else {
                throw node.error("give hash_key, hash_key_env or hash_key_file")
            }
            keys.append(try validKey(text, at: node[node.secretKey("hash_key")]))
        }
        if keys.indices.contains(where: { keys[..<$0].contains(keys[$0]) }) { throw item["hash_keys"].error("the same key twice") }
        return keys
    }

    private static func validKey(_ text: String, at node: ConfigNode) throws(ConfigError) -> HashKey {
        let key = HashKey(text)
        do throws(SettingsError) { try key.validate() } catch { throw node.error(error.problem) }
        return key
    }

    /// Read here, judged by `WebhookOptions.validate()` (the API and the control topic use it too).
    /// `headers: {X-Env: prod}`: static extra headers, judged by `WebhookHeader.problem`.
    static func readHeaders(_ node: ConfigNode) throws(ConfigError) -> [WebhookHeader] {
        let entries = try node.entries()
        guard entries.count <= WebhookHeader.maxCount else { throw node.error("at most \(WebhookHeader.maxCount) headers") }
        return try entries.map { entry throws(ConfigError) in
            let header = WebhookHeader(name: entry.key, value: try entry.value.string())
            if let problem = header.problem { throw entry.value.error(problem) }
            return header
        }
    }

    /// `auth: {type: bearer, token…}`, `{type: basic, username, password…}` or `{type: oauth2,
    /// token_url, client_id, client_secret…, scope}`, secrets inline or from `_env`/`_file`.
    static func readAuth(_ node: ConfigNode, environment: [String: String]) throws(ConfigError) -> WebhookAuth? {
        guard let yaml = node.node, yaml.null == nil else { return nil }
        func secret(_ name: String) throws(ConfigError) -> String {
            guard let value = try node.secret(name, environment: environment) else { throw node[name].error("required (or \(name)_env, \(name)_file)") }
            return value
        }
        let auth: WebhookAuth
        switch try node["type"].string() {
        case "bearer":
            try node.requireMapping(allowedKeys: ["type", "token", "token_env", "token_file"])
            auth = .bearer(token: try secret("token"))
        case "basic":
            try node.requireMapping(allowedKeys: ["type", "username", "password", "password_env", "password_file"])
            auth = .basic(username: try node["username"].string(), password: try secret("password"))
        case "oauth2":
            try node.requireMapping(allowedKeys: ["type", "token_url", "client_id", "client_secret", "client_secret_env", "client_secret_file", "scope"])
            auth = .oauth2(
                OAuth2Client(
                    tokenURL: try node["token_url"].string(), clientID: try node["client_id"].string(), clientSecret: try secret("client_secret"),
                    scope: try node["scope"].optionalString()))
        case let other:
            throw node["type"].error("expected one of bearer, basic, oauth2, got \(other)")
        }
        if let problem = auth.problem { throw node.error(problem) }
        return auth
    }

    /// `tls: {ca_file, client_certificate_file, client_key_file}`: PEM files (or the PEMs inline,
    /// or from `_env`), read at load and on reload.
    static func readTLS(_ node: ConfigNode, environment: [String: String]) throws(ConfigError) -> WebhookTLS? {
        guard let yaml = node.node, yaml.null == nil else { return nil }
        let parts = ["ca", "client_certificate", "client_key"]
        try node.requireMapping(allowedKeys: Set(parts.flatMap { [$0, "\($0)_env", "\($0)_file"] }))
        let tls = WebhookTLS(
            certificateAuthority: try node.secret("ca", environment: environment), clientCertificate: try node.secret("client_certificate", environment: environment),
            clientKey: try node.secret("client_key", environment: environment))
        if let problem = tls.problem { throw node.error(problem) }
        if let problem = tls.configurationProblem { throw node[node.secretKey(problem.path)].error(problem.problem) }
        return tls
    }

    /// `filter: {field: new_state, in: [shipped]}` (see `WebhookFilter`), read as the API reads it.
    static func readFilter(_ node: ConfigNode) throws(ConfigError) -> WebhookFilter? {
        guard let yaml = node.node, yaml.null == nil else { return nil }
        do { return try YAMLDecoder().decode(WebhookFilter.self, from: yaml) } catch let error as DecodingError {
            let (path, problem) = DecodingErrorText.describe(error)
            throw ConfigError(path: path.isEmpty ? node.path : "\(node.path).\(path)", problem: problem)
        } catch {
            throw node.error("\(error)")
        }
    }

    static func readOptions(_ node: ConfigNode) throws(ConfigError) -> WebhookOptions {
        try node.requireMapping(allowedKeys: ["batching", "signature", "max_batch_size", "batch_linger", "max_pending", "format", "rate_limit", "adaptive"])
        var options = WebhookOptions()
        options.batching = try node["batching"].bool(default: false)
        options.format = try node["format"].oneOf(BodyFormat.self, default: .json)
        options.signature = try node["signature"].oneOf(SignatureScheme.self, default: .hmac)
        options.maxBatchSize = try node["max_batch_size"].int(default: options.maxBatchSize)
        options.batchLinger = try node["batch_linger"].duration(default: options.batchLinger)
        options.maxPending = try node["max_pending"].int(default: options.maxPending)
        options.rateLimit = try node["rate_limit"].number()
        options.adaptive = try node["adaptive"].bool(default: false)
        return options
    }
}

extension ConfigError {
    func at(index: Int) -> ConfigError { ConfigError(path: "\(path)[\(index)]", problem: problem) }
}
