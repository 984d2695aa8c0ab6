import Kafka
import Synchronization
import WebhookDomain

/// The current routing, replaced when sites or custom topics change in the control topic.
public final class SharedRouter: Sendable {
    private let current: Mutex<Router>
    /// Avro values become JSON before routing.
    let decoding: SourceDecoding?

    public init(_ router: Router, decoding: SourceDecoding? = nil) {
        current = Mutex(router)
        self.decoding = decoding
    }

    /// Routes a record, its value decoded first where its routes say `format: avro` (which may
    /// wait while the schema registry cannot be reached).
    func route(_ record: KafkaRecord) async -> Router.Outcome {
        let (router, source) = await decoded(record)
        return router.route(source)
    }

    /// The current router and the record as it routes it: decoded first where its routes say
    /// `format: avro` (for `route(_:)` and `/explain`).
    func decoded(_ record: KafkaRecord) async -> (router: Router, record: SourceRecord) {
        let router = router
        var source = SourceRecord(record)
        if let decoding, router.decodesAvro { source = await decoding.decoded(source, routes: router.routes(for: record.topic)) }
        return (router, source)
    }

    public var router: Router {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }
}
