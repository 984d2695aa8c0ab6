import ControlPlane
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals
import WebhookDomain

/// One bridge instance as `webhook-bridge run` runs it. The HTTP listeners come up first:
/// `/health` answers at once, `/ready` (503) and the tenants' routes (503 `starting`) once the
/// bridge has started. The start-up I/O (an embedded broker, the bridge's topics, reading the
/// control topic, the config file's upsert) then runs inside the service lifecycle, so a SIGTERM
/// during a slow start ends it cleanly.
public struct BridgeService: Sendable {
    /// The configuration without its webhooks, for the listeners and the service group.
    let config: BridgeConfig
    /// The whole configuration, taken once by the start-up. Its webhooks go to the control topic
    /// and no copy is kept (about 7 MB with 10,000 webhooks; docs/benchmarks.md).
    private let wholeConfig: ConfigHandoff
    /// The file the configuration was read from, and its text: reloaded on SIGHUP.
    let file: (path: String, text: String)?
    let logger: Logger
    /// Called once the bridge has started, before it delivers.
    let onStarted: @Sendable (Bridge) -> Void

    public init(
        config: BridgeConfig, file: (path: String, text: String)? = nil, logger: Logger, onStarted: @escaping @Sendable (Bridge) -> Void = { _ in }
    ) {
        self.config = config.withoutWebhooks
        wholeConfig = ConfigHandoff(config)
        self.file = file
        self.logger = logger
        self.onStarted = onStarted
    }

    /// Runs until SIGTERM or SIGINT (or `signals`), then shuts down gracefully.
    public func run(signals: [UnixSignal] = [.sigterm, .sigint]) async throws {
        let metrics = BridgeMetrics()
        let backend = StartingAdminBackend(destinationPolicy: DestinationPolicy(allowPrivateDestinations: config.http.allowPrivateDestinations), quotas: config.quotas)
        let api = AdminAPI(backend: backend, logger: logger, authFailuresPerMinute: config.http.authFailuresPerMinute)
        let listeners = Bridge.listeners(config.http, api: api, metrics: metrics, logger: logger, onAdminRunning: { _ in }, onOpsRunning: { _ in })
        let startup = Startup(config: wholeConfig, file: file, logger: logger, metrics: metrics, backend: backend, onStarted: onStarted)
        try await Bridge.serviceGroup(listeners + [.init(service: startup)], signals: signals, config: config, logger: logger).run()
    }

    /// Starts the bridge, then runs its services; the listeners run beside it, and stop after it.
    /// Its description is its name: ServiceLifecycle logs services, and the configuration holds
    /// secrets.
    struct Startup: Service, CustomStringConvertible {
        let config: ConfigHandoff
        let file: (path: String, text: String)?
        let logger: Logger
        let metrics: BridgeMetrics
        let backend: StartingAdminBackend
        let onStarted: @Sendable (Bridge) -> Void

        var description: String { "Startup" }

        func run() async throws {
            let bridge: Bridge
            do {
                bridge = try await cancelWhenGracefulShutdown { try await Bridge(config: config.take(), logger: logger, metrics: metrics) }
            } catch where Task.isShuttingDownGracefully {
                logger.notice("stopped while starting")
                return
            }
            backend.started(bridge.adminBackend)
            onStarted(bridge)
            var services = bridge.coreServices()
            if let file {
                services.append(.init(service: ConfigReloader.Service(reloader: bridge.configReloader(path: file.path, appliedText: file.text))))
            }
            let group = ServiceGroup(configuration: .init(services: services, logger: logger))
            try await withGracefulShutdownHandler {
                try await group.run()
            } onGracefulShutdown: {
                Task { await group.triggerGracefulShutdown() }
            }
        }
    }
}

/// A configuration handed over once: whoever takes it holds the only copy.
final class ConfigHandoff: Sendable {
    private let config: Mutex<BridgeConfig?>

    init(_ config: BridgeConfig) { self.config = Mutex(config) }

    struct AlreadyTaken: Error, CustomStringConvertible {
        var description: String { "the bridge service was started twice" }
    }

    func take() throws -> BridgeConfig {
        guard let config = config.withLock({ $0.take() }) else { throw AlreadyTaken() }
        return config
    }
}
