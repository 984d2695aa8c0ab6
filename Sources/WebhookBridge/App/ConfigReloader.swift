import ControlPlane
import Delivery
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals
import Yams

/// Reloads the config file on SIGHUP (DESIGN.md §8): sites (tokens and configuration), custom
/// topics, webhooks, routes and extra topics take effect through the control topic, as at
/// start-up (`ControlCatalog.plan(_:)`). An invalid file, or one the control topic conflicts
/// with, changes nothing: the error is logged with its key path and counted in
/// `webhook_bridge_config_reload_failures_total`. Settings read only at start-up (`kafka`,
/// `http`, `smtp`, `tracing`, ...) and a changed set of source topics are reported as needing a restart.
final class ConfigReloader: Sendable {
    let path: String
    let catalog: ControlCatalog
    let delivery: any DeliveryControl
    let metrics: BridgeMetrics
    let logger: Logger
    /// The file's text as last applied, and its routes' source topics (the consumer's
    /// subscription, fixed at start-up).
    private let applied: Mutex<(text: String, sources: Set<String>)>

    /// Top-level keys read only at start-up.
    static let restartKeys = ["kafka", "http", "smtp", "sms", "schema_registry", "quotas", "logging", "shutdown_timeout", "tracing"]

    init(
        path: String, appliedText: String, sources: Set<String>, catalog: ControlCatalog, delivery: any DeliveryControl, metrics: BridgeMetrics,
        logger: Logger
    ) {
        self.path = path
        applied = Mutex((appliedText, sources))
        self.catalog = catalog
        self.delivery = delivery
        self.metrics = metrics
        self.logger = logger
    }

    /// Re-reads the file and applies it; false when it was refused (and nothing changed).
    @discardableResult
    func reload(environment: [String: String] = ProcessInfo.processInfo.environment) async -> Bool {
        do {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ConfigError(path: "", problem: "cannot read config file \(path): \(error.localizedDescription)")
            }
            let config = try BridgeConfig.parse(yaml: text, environment: environment)
            let sources = Set(config.routes.map(\.source))
            let old = applied.withLock { $0 }
            var needsRestart = Self.changedKeys(from: old.text, to: text)
            if sources != old.sources { needsRestart.append("routes (the set of source topics)") }
            let file = config.fileDefinitions
            let plan = try catalog.plan(file)
            // The file's sites and routes first, so the records written next find them.
            catalog.adopt(file)
            delivery.update(sites: catalog.sites, router: catalog.router)
            try await Bridge.apply(plan, to: catalog, metrics: metrics, logger: logger)
            // The subscription stays the start-up's until a restart, whatever this file says.
            applied.withLock { $0.text = text }
            metrics.configReloads(failed: false).increment()
            logger.notice("config reloaded", metadata: ["changes": "\(plan.changes.count)"])
            if !needsRestart.isEmpty {
                logger.warning("config reload: these settings are read only at start-up and need a restart to change: \(needsRestart.joined(separator: ", "))")
            }
            return true
        } catch {
            metrics.configReloads(failed: true).increment()
            logger.error("config reload refused: the running configuration stays", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// The start-up-only top-level keys whose YAML differs between two texts.
    static func changedKeys(from old: String, to new: String) -> [String] {
        let (before, after) = ((try? Yams.compose(yaml: old)) ?? nil, (try? Yams.compose(yaml: new)) ?? nil)
        return restartKeys.filter { before?.mapping?[$0] != after?.mapping?[$0] }
    }

    /// Reloads on each SIGHUP until graceful shutdown.
    struct Service: ServiceLifecycle.Service, CustomStringConvertible {
        let reloader: ConfigReloader

        var description: String { "ConfigReloader" }

        func run() async throws {
            for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
                await reloader.reload()
            }
        }
    }
}
