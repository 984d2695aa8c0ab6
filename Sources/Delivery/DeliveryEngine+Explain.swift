import Kafka
import WebhookDomain

extension DeliveryEngine {
    /// Where the record at `offset` of `topic`/`partition` went (DESIGN.md §9): read from Kafka
    /// and routed exactly as delivery routes it, with a verdict for every webhook of the sites it
    /// concerns (`WebhookVerdict`), from this instance's lanes, the webhooks' durable cursors, the
    /// group's committed offset and the attempts topic, searched within `attemptWindow` around
    /// the record's timestamp.
    public func explain(topic: String, partition: Int32, offset: Int64, attemptWindow: AttemptSearch.Window = .init()) async throws(ExplainError) -> RecordExplanation {
        let current = context.routing.router
        guard !current.routes(for: topic).isEmpty else {
            throw .invalid("topic", "\(topic) is the source of no route (the routes read \(current.sourceTopics.joined(separator: ", ")))")
        }
        let source = SourcePartition(topic, partition)
        let (record, low, high) = try await read(source, at: offset)
        let committed = try await kafka("the group's committed offset") { () throws(KafkaError) in
            try await consumer.committed([source.kafka]).first.map(\.offset).flatMap { $0 >= 0 ? $0 : nil }
        }
        let (router, sourceRecord) = try await decoded(record)
        let outcome = router.route(sourceRecord)
        let routes = router.routeResults(sourceRecord)
        var messages: [RoutedMessage] = []
        var unrouted: WebhookVerdict.Unrouted?
        switch outcome {
        case .routed(let routed): messages = routed
        case .deadLetter(let reason): unrouted = .deadLettered(reason)
        case .skipped(let reason): unrouted = .skipped(reason)
        }
        // A record that gives no message concerns the sites its routes could name.
        let sites = unrouted == nil ? Set(messages.map(\.siteID)) : Set(routes.compactMap(\.siteID).filter(router.knowsSite))
        var evidence: [WebhookVerdict.Evidence] = []
        for lane in lanesByID.values.sorted(by: { $0.webhookID < $1.webhookID }) {
            let (webhook, status, view) = lane.snapshot(of: source, offset: offset)
            guard sites.contains(webhook.siteID) else { continue }
            let forSite = messages.filter { $0.siteID == webhook.siteID }
            let cursors: [SourcePartition: Int64]
            do { cursors = try await context.store.cursors(webhookID: webhook.id) } catch { throw .unavailable("the webhooks' cursors could not be read; try again") }
            let subscribed = forSite.filter { webhook.topics.contains($0.topic.name) }
            let passing = subscribed.filter { webhook.filter?.matches($0.payload) ?? true }
            var found = WebhookVerdict.Evidence(
                webhook: webhook, state: status, partition: source, offset: offset, routedTopics: forSite.map(\.topic.name),
                unrouted: unrouted, cursor: cursors[source], committed: committed, lane: view,
                messages: passing.map { .init(messageID: $0.messageID, webhookTopic: $0.topic.name) })
            found.filtered = passing.isEmpty && !subscribed.isEmpty
            evidence.append(found)
        }
        let receiving = evidence.filter { !$0.messages.isEmpty }
        var search: AttemptSearch.Result?
        if let log = context.attempts, !receiving.isEmpty {
            let searcher = AttemptSearch(kafka: context.kafka, topic: log.topic, logger: context.logger)
            let result = try await kafka("the attempts topic") { () throws(KafkaError) in
                try await searcher.attempts(
                    around: record.timestampMilliseconds ?? 0, webhookIDs: Set(receiving.map(\.webhook.id)), messageIDs: Set(messages.map(\.messageID)),
                    window: attemptWindow)
            }
            for index in evidence.indices where !evidence[index].messages.isEmpty {
                let ids = Set(evidence[index].messages.map(\.messageID))
                evidence[index].attempts = result.attempts.filter { $0.webhookID == evidence[index].webhook.id && $0.messages.contains { ids.contains($0.messageID) } }
            }
            search = result
        }
        return RecordExplanation(
            record: sourceRecord, lowWatermark: low, highWatermark: high, committedOffset: committed, heldHere: positions[source] != nil, routes: routes,
            outcome: outcome, webhooks: evidence.map(WebhookVerdict.init), attemptSearch: search)
    }

    /// The record as delivery routes it, with the router it routes it with: an Avro value is
    /// decoded first, which waits while the schema registry cannot be reached (for 10 s here).
    private func decoded(_ record: KafkaRecord) async throws(ExplainError) -> (Router, SourceRecord) {
        let routing = context.routing
        let decoded = await withTaskGroup(of: (router: Router, record: SourceRecord)?.self) { group in
            group.addTask { await routing.decoded(record) }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let decoded else { throw .unavailable("the schema registry did not answer within 10 s; try again") }
        return decoded
    }

    /// The record at `offset`, with the partition's watermarks: not found below the log start,
    /// at or past the end, or where the offset holds no record.
    private func read(_ source: SourcePartition, at offset: Int64) async throws(ExplainError) -> (KafkaRecord, low: Int64, high: Int64) {
        let admin = try await kafka("connecting") { () throws(KafkaError) in try KafkaAdmin(kafka: context.kafka, logger: context.logger) }
        let count = try await kafka("the partition count") { () throws(KafkaError) in try await admin.partitionCount(of: source.topic) }
        guard source.partition >= 0, source.partition < count else {
            throw .notFound("partition \(source.partition) of \(source.topic) does not exist (it has \(count))")
        }
        let (low, high) = try await kafka("the partition's watermarks") { () throws(KafkaError) in try await admin.watermarks(source.kafka) }
        guard offset >= low, offset < high else {
            let holds = low < high ? "holds offsets \(low) to \(high - 1)" : "is empty (next offset \(high))"
            throw .notFound("no offset \(offset) in \(source): the partition \(holds)")
        }
        let read = try await kafka("reading the record") { () throws(KafkaError) in try await admin.record(at: offset, of: source.kafka) }
        guard let record = read else { throw .unavailable("the record at \(offset) of \(source) did not come within 5 s; try again") }
        guard record.offset == offset else {
            throw .notFound("no record at offset \(offset) of \(source) (a transaction marker, or removed by compaction); the next is \(record.offset)")
        }
        return (record, low, high)
    }

    /// A Kafka call whose failure becomes `unavailable`; the error itself goes to the log only.
    private func kafka<T>(_ what: String, _ call: () async throws(KafkaError) -> T) async throws(ExplainError) -> T {
        do {
            return try await call()
        } catch {
            context.logger.warning("explain: Kafka did not answer", metadata: ["call": "\(what)", "error": "\(error)"])
            throw .unavailable("Kafka did not answer (\(what)); try again")
        }
    }
}
