import Delivery
import Foundation
import Logging
import OTel
import ServiceLifecycle
import WebhookDomain

/// The spans of `tracing.otlp_endpoint` (DESIGN.md §9): swift-otel's tracer, given to this
/// bridge's lanes only, and the service that batches its spans and exports them over OTLP/HTTP
/// (protobuf). Nothing is bootstrapped process-wide, so several bridges in one process (the
/// tests) each export their own. Without an endpoint there is neither tracer nor exporter.
///
/// swift-otel applies the standard `OTEL_*` environment variables over this configuration
/// (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_HEADERS`,
/// `OTEL_TRACES_SAMPLER`, `OTEL_BSP_SCHEDULE_DELAY`, ...; an `OTEL_EXPORTER_OTLP_*ENDPOINT` wins
/// over the file's endpoint).
struct TraceExport {
    let tracing: DeliveryTracing
    /// The tracer, the batch span processor and the exporter, as one service: on graceful
    /// shutdown it exports the spans still queued, then closes its HTTP client.
    let service: any Service

    /// Nil without an endpoint, or when swift-otel refuses its configuration (say
    /// `OTEL_SDK_DISABLED=true`, or an `OTEL_*` setting it lacks): that is logged, and the bridge
    /// delivers without spans, since deliveries matter more than their traces.
    static func start(
        _ settings: BridgeConfig.TracingSettings, environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger
    ) -> TraceExport? {
        guard let url = settings.tracesURL else { return nil }
        if let problem = unsupportedSetting(in: environment) {
            logger.error("tracing not started: deliveries go on without spans", metadata: ["error": "\(problem)"])
            return nil
        }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "webhook-bridge"
        configuration.resourceAttributes["service.version"] = WebhookBridgeVersion.current
        configuration.diagnosticLogger = .custom(logger)
        // At info swift-otel logs each OTEL_* variable it applies with its value, and
        // OTEL_EXPORTER_OTLP_HEADERS may hold a collector's token; its warnings (failed exports)
        // are what the operator needs. OTEL_LOG_LEVEL still overrides this.
        configuration.diagnosticLogLevel = .warning
        configuration.propagators = [.traceContext]
        configuration.traces.otlpExporter.endpoint = url
        configuration.metrics.enabled = false
        configuration.logs.enabled = false
        do {
            let backend = try OTel.makeTracingBackend(configuration: configuration)
            // Not the URL: it may hold credentials.
            logger.notice("tracing: one span per delivery attempt, exported over OTLP/HTTP")
            return TraceExport(tracing: DeliveryTracing(tracer: backend.factory), service: backend.service)
        } catch {
            logger.error("tracing not started: deliveries go on without spans", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// An `OTEL_*` setting that swift-otel 1.6 would stop the process for (`fatalError`) instead
    /// of reporting, read as it reads them: OTLP/gRPC, which this build leaves out, and samplers
    /// and propagators it does not have (`OTEL_PROPAGATORS=tracecontext,baggage` is a common
    /// setting). Nil when there is none.
    static func unsupportedSetting(in environment: [String: String]) -> String? {
        let protocolKey = environment["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] != nil ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL"
        if environment[protocolKey] == "grpc" { return "\(protocolKey)=grpc: only OTLP/HTTP is built in (http/protobuf or http/json)" }
        if let sampler = environment["OTEL_TRACES_SAMPLER"], ["jaeger_remote", "parentbased_jaeger_remote", "xray"].contains(sampler) {
            return "OTEL_TRACES_SAMPLER=\(sampler): not supported by swift-otel"
        }
        // A list with an unknown name is ignored as a whole; `none` ends it.
        let propagators = environment["OTEL_PROPAGATORS"]?.split(separator: ",").map(String.init) ?? []
        guard propagators.allSatisfy(["tracecontext", "baggage", "b3", "b3multi", "jaeger", "xray", "otTrace", "none"].contains) else { return nil }
        for propagator in propagators.prefix(while: { $0 != "none" }) where propagator != "tracecontext" {
            return "OTEL_PROPAGATORS: \(propagator) is not supported by swift-otel (tracecontext or none)"
        }
        return nil
    }
}
