import Tracing
import WebhookDomain

/// One span per delivery attempt (`tracing.otlp_endpoint`, DESIGN.md §9), through
/// swift-distributed-tracing's `Tracer`: which backend exports the spans (swift-otel's OTLP/HTTP
/// exporter) is the application's choice, so this layer depends on the tracing API only.
///
/// A lane without it (`tracing.otlp_endpoint: null`) never comes here: no span, no context, no
/// allocation on the delivery path.
public struct DeliveryTracing: Sendable {
    let tracer: any Tracer

    public init(tracer: any Tracer) {
        self.tracer = tracer
    }

    /// Starts the span of one attempt: a child of the source record's trace when its first
    /// message carried a valid `traceparent` (`RoutedMessage.traceContext`; a batch follows its
    /// first message), else the root of a new trace.
    func start(_ messages: [RoutedMessage], webhook: Webhook, attempt: Int) -> AttemptSpan {
        let first = messages.first
        var parent = InstrumentationContext.topLevel
        if let record = first?.traceContext {
            var headers = ["traceparent": record.traceParent]
            headers["tracestate"] = record.traceState
            tracer.extract(headers, into: &parent, using: TraceHeaders())
        }
        let span = tracer.startSpan("webhook delivery", context: parent, ofKind: .client)
        span.updateAttributes { attributes in
            attributes["webhook.id"] = webhook.id
            attributes["webhook.topic"] = first?.topic.name ?? ""
            attributes["webhook.attempt"] = attempt
            attributes["http.request.method"] = webhook.method.wireMethod
            if webhook.options.batching { attributes["webhook.message_count"] = messages.count }
        }
        // What the request carries: the span's own context (the record's trace id, this attempt as
        // the parent), so the receiver's spans hang below it. A tracer that propagates nothing
        // (OTEL_PROPAGATORS=none) leaves the record's header to pass on as it came.
        var headers: [String: String] = [:]
        tracer.inject(span.context, into: &headers, using: TraceHeaders())
        let own = TraceContext(traceParent: headers["traceparent"], traceState: headers["tracestate"])
        return AttemptSpan(span: span, traceContext: own ?? first?.traceContext, batched: webhook.options.batching)
    }
}

/// The span of one attempt, and the trace context its request carries.
struct AttemptSpan {
    let span: any Span
    let traceContext: TraceContext?
    let batched: Bool

    /// Ends the span with the attempt's outcome (`acked`, `status_500`, `timeout`, …, or
    /// `cut_short`) and the request's message id (its batch id for a batch); `failure` is the
    /// label-safe description (never a host or an address).
    func end(_ request: WebhookRequest, status: Int?, outcome: String, failure: String?) {
        let idHeader = batched ? "batch_id" : "message_id"
        let id = request.headers.first { $0.name == idHeader }?.value ?? ""
        span.updateAttributes { attributes in
            attributes["webhook.\(idHeader)"] = id
            attributes["webhook.outcome"] = outcome
            if let status { attributes["http.response.status_code"] = status }
        }
        span.setStatus(failure.map { SpanStatus(code: .error, message: $0) } ?? SpanStatus(code: .ok))
        span.end()
    }
}

/// `traceparent` and `tracestate` as a plain dictionary, for the tracer's propagator.
private struct TraceHeaders: Extractor, Injector {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}
