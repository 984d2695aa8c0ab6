import ControlPlane
import Foundation
import Kafka
import WebhookDomain

/// The whole configuration file, validated (DESIGN.md §9). Key names are the contract; see
/// `config/example.yaml` for every key with its default.
public struct BridgeConfig: Sendable {
    public struct KafkaSettings: Sendable {
        /// `embedded` runs an in-process broker; otherwise `host:port,host:port`.
        public var bootstrapServers = "embedded"
        public var groupID = "webhook-bridge"
        public var startFrom: KafkaConsumer.StartPosition = .latest
        public var controlTopic = "webhook-bridge.control"
        public var attemptsTopic = "webhook-bridge.attempts"
        public var deadLetterTopic = "webhook-bridge.dead-letters"
        /// Any librdkafka property, passed through to every client (`properties`, and the secrets of
        /// `properties_env` and `properties_file`); never one `KafkaConfig.problem(withProperty:value:)`
        /// refuses.
        public var properties: [String: String] = [:]
        /// Embedded mode only: brokers to start and partitions of each topic it creates.
        public var embeddedBrokers = 1
        public var embeddedPartitions: Int32 = 4
        /// The wait before a failed dead-letter write is tried again, doubling up to `max`. Not a
        /// file key: the defaults suit production; tests shorten them.
        public var deadLetterRetry: (first: Duration, max: Duration) = (.seconds(1), .seconds(30))

        public var isEmbedded: Bool { bootstrapServers == "embedded" }
    }

    public struct ListenAddress: Sendable, Equatable {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// What each HTTP listener (admin and ops) takes from its clients (DESIGN.md §10), so that
    /// slow or many connections cannot exhaust the process (`http.listener_limits`).
    public struct ListenerLimits: Sendable, Equatable {
        /// A connection with no request in progress is closed after this long.
        public var idleTimeout: Duration = .seconds(60)
        /// A request must arrive whole (head and body) within this long of its first byte.
        public var readTimeout: Duration = .seconds(10)
        /// Open connections per listener; more wait in the kernel's accept queue.
        public var maxConnections = 256
        /// A request's headers, each one and all together, at most this many bytes (400 beyond).
        public var maxHeaderBytes = 16 * 1024

        public init() {}
    }

    public struct HTTPSettings: Sendable {
        public var adminHost = "127.0.0.1"
        public var adminPort = 8080
        /// `/health`, `/ready`, `/metrics` and `/status` on a listener of their own, apart from the
        /// tenants' API; nil: on the admin listener.
        public var opsListen: ListenAddress?
        public var listenerLimits = ListenerLimits()
        public var allowPrivateDestinations = false
        /// Requests in flight over all webhooks of this instance (each webhook also has its
        /// site's `max_in_flight`).
        public var maxConcurrentRequests = 256
        /// Tokens that match no site one client address may give within a minute; past that its
        /// requests that need a token answer 429 until the minute has passed.
        public var authFailuresPerMinute = 10
        /// The proxy of every site that names none (`http.proxy`); nil: deliveries go direct.
        public var proxy: HTTPProxy?
    }

    public enum SMTPTLS: String, Sendable, CaseIterable {
        case none, starttls, implicit
    }

    public struct SMTPSettings: Sendable {
        public var host = "127.0.0.1"
        public var port = 25
        public var tls: SMTPTLS = .none
        public var username: String?
        public var password: String?
        /// AUTH over a connection without TLS (`tls: none`); refused unless set (DESIGN.md §10).
        public var allowPlaintextAuth = false
        public var from = "webhook-bridge@localhost"
        public var caFile: String?
    }

    public enum LogFormat: String, Sendable, CaseIterable {
        case text, json
    }

    public var kafka = KafkaSettings()
    public var http = HTTPSettings()
    /// Nil when the file has no `smtp` section: alerts are then only logged.
    public var smtp: SMTPSettings?
    /// An HTTP SMS gateway for alerts to `contact_mobiles` (`sms.url`); without one they are
    /// logged as skipped.
    public var smsURL: String?
    /// Where `format: avro` routes' writer schemas come from (`schema_registry`).
    public var schemaRegistry: SchemaRegistrySettings?

    public struct SchemaRegistrySettings: Sendable, Equatable {
        public var url: String
        public var username: String?
        public var password: String?
    }

    /// One span per delivery attempt, exported over OTLP/HTTP (`tracing`).
    public var tracing = TracingSettings()

    public struct TracingSettings: Sendable, Equatable {
        /// The collector's OTLP/HTTP address (`http://otel-collector:4318`); nil: no tracing, and
        /// no exporter at all.
        public var otlpEndpoint: String?

        /// Where the spans are POSTed: the endpoint's `/v1/traces` (as for OpenTelemetry's
        /// `OTEL_EXPORTER_OTLP_ENDPOINT`), or the endpoint as given when it has a path of its own.
        public var tracesURL: String? {
            guard let otlpEndpoint else { return nil }
            let path = URLComponents(string: otlpEndpoint)?.path ?? ""
            guard path.isEmpty || path == "/" else { return otlpEndpoint }
            return (otlpEndpoint.hasSuffix("/") ? String(otlpEndpoint.dropLast()) : otlpEndpoint) + "/v1/traces"
        }
    }

    /// Webhooks and custom topics per site (`quotas`).
    public var quotas = Quotas()
    public var sites: [Site] = []
    /// Sites whose entry sets their configuration (anything besides id, token and custom topics):
    /// the file manages it; the others' configuration is the API's (DESIGN.md §8).
    public var sitesWithConfiguration: Set<String> = []
    /// Topics added to the standard catalog for every site.
    public var topics: [WebhookTopic] = []
    public var routes: [Route] = []
    public var webhooks: [Webhook] = []
    public var logLevel = "info"
    /// How long a graceful shutdown (SIGTERM) may take before what is left is cancelled
    /// (`shutdown_timeout`). Requests in flight are cut short well before: after the smaller of
    /// their `ack_timeout` and 5 s.
    public var shutdownTimeout = Duration.seconds(25)
    public var logFormat: LogFormat = .text
    public var logPayloads = false
    /// Hash keys generated at load time for webhooks that had none, to tell the user once.
    public var generatedKeys: [(webhookID: String, key: HashKey)] = []

    public init() {}

    public var router: Router { Router(routes: routes, sites: sites, extraTopics: topics) }

    /// The configuration without its webhooks: what a running bridge keeps. They are in the
    /// control topic once started, and a reload reads the file again.
    public var withoutWebhooks: BridgeConfig {
        var settings = self
        settings.webhooks = []
        return settings
    }

    /// What the file defines for the control topic (`ControlCatalog.plan(_:)`).
    public var fileDefinitions: FileDefinitions {
        FileDefinitions(
            sites: sites, sitesWithConfiguration: sitesWithConfiguration, webhooks: webhooks, generatedKeys: Set(generatedKeys.map(\.webhookID)),
            routes: routes, extraTopics: topics)
    }
}
