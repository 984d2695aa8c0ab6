import Foundation
import Kafka
import WebhookDomain

extension WebhookLane {
    /// Retries the probe on the site's schedule while the webhook is paused by a failure and this
    /// instance owns the probe's partition. Nothing else is sent meanwhile.
    func retryProbe() async {
        defer {
            state.withLock { $0.retryScheduled = false }
            signal()
        }
        while let snapshot = state.withLock({ $0.probeRetry() }) {
            let wait = snapshot.due.clampedSubtracting(context.now())
            if wait > 0 {
                // Until it is due, or an API change or a shutdown changes what is due.
                let (probe, due) = (snapshot.probe, snapshot.due)
                await state.wait(
                    until: { state in state.probeRetry().map { $0.probe != probe || $0.due != due } ?? true },
                    timeout: .milliseconds(wait))
                continue
            }
            let messages: [RoutedMessage]
            switch await probeMessages(snapshot.probe, batch: snapshot.batch) {
            case .messages(let read):
                messages = read
            case .unavailable:
                try? await Task.sleep(for: .seconds(1))
                continue
            case .gone(let reason):
                if await !replaceProbe(snapshot.probe, reason: reason) { try? await Task.sleep(for: .seconds(1)) }
                continue
            }
            guard await context.slots.acquire() else { return }
            let sent = await send(
                messages, webhook: snapshot.webhook, site: snapshot.site, attempt: snapshot.attempt,
                partitions: [SourcePartition(snapshot.probe.sourceTopic, snapshot.probe.partition)])
            context.slots.release()
            // Cut short (revoked, or stopping): the retry is looked at again, by whoever owns it.
            guard let result = sent else { continue }
            let acked = result.status.map { snapshot.site.ackStatuses.contains($0) } ?? false
            let failure = acked ? nil : Self.failure(result)
            guard let effects = state.withLock({ $0.probeRetried(snapshot.probe, messages: messages, failure: failure, now: context.now()) }) else { return }
            await afterTransition(effects, probe: snapshot.probe, attempts: snapshot.attempt)
        }
    }

    /// What reading the probe again gave.
    enum ProbeRead {
        /// The messages to send (never empty).
        case messages([RoutedMessage])
        /// The probe cannot be sent again: `unroutable` (its record no longer routes to this
        /// webhook and topic, say after a configuration change) or `expired` (retention removed it).
        case gone(reason: String)
        /// Kafka did not answer: try again later.
        case unavailable
    }

    /// The probe's messages: the failed request as it was, or after a restart or a rebalance,
    /// the probe record read again from Kafka and routed.
    private func probeMessages(_ probe: Probe, batch: [QueuedMessage]?) async -> ProbeRead {
        if let batch, !batch.isEmpty { return .messages(batch.map(\.message)) }
        var read = ProbeRead.gone(reason: "expired")
        let scanned = await scan(TopicPartition(probe.sourceTopic, probe.partition), from: probe.offset) { record in
            // A first record past the probe's offset: retention removed it.
            if record.offset == probe.offset {
                let messages = await route(record).filter { $0.messageID == probe.messageID && $0.topic.name == probe.webhookTopic }
                read = messages.isEmpty ? .gone(reason: "unroutable") : .messages(Array(messages.prefix(1)))
            }
            return true
        }
        return scanned ? read : .unavailable
    }

    /// The probe cannot be sent again: counted and logged, and the webhook's next message in the
    /// probe's partition takes its place; without one, the episode ends (DESIGN.md §5). False
    /// when Kafka could not be read (try again later).
    private func replaceProbe(_ probe: Probe, reason: String) async -> Bool {
        let partition = TopicPartition(probe.sourceTopic, probe.partition)
        let (siteID, topics) = state.withLock { ($0.webhook.siteID, Set($0.webhook.topics)) }
        var next: Probe?
        let scanned = await scan(partition, from: probe.offset.clampedAdding(1)) { record in
            guard let message = await route(record).first(where: { $0.siteID == siteID && topics.contains($0.topic.name) }) else { return false }
            next = Probe(
                sourceTopic: probe.sourceTopic, partition: probe.partition, offset: record.offset, messageID: message.messageID, webhookTopic: message.topic.name)
            return true
        }
        guard scanned else { return false }
        series.probeUnavailable(reason: reason)
        logger.warning(
            "probe cannot be sent again: \(reason == "expired" ? "retention removed its record" : "its record no longer routes to this webhook")",
            metadata: [
                "webhook": "\(webhookID)", "partition": "\(partition)", "offset": "\(probe.offset)", "message_id": "\(probe.messageID)",
                "next_probe": "\(next.map { "\($0.offset)" } ?? "none: the episode ends")",
            ])
        if let effects = state.withLock({ $0.probeUnavailable(probe, next: next, now: context.now()) }) { await afterTransition(effects) }
        return true
    }

    /// Reads `partition` from `offset` (or its log start, if later) up to its high watermark as it
    /// is now, handing each record to `visit` until it returns true. False when Kafka could not be
    /// read, or gave no record for 5 s before the end (after some records, 5 s of nothing is taken
    /// as the end: offsets of transaction markers never come as records).
    private func scan(_ partition: TopicPartition, from offset: Int64, _ visit: (KafkaRecord) async -> Bool) async -> Bool {
        let reader: KafkaPartitionReader
        do { reader = try KafkaPartitionReader(kafka: context.kafka, logger: logger) } catch {
            logger.error("probe read failed", metadata: ["webhook": "\(webhookID)", "error": "\(error)"])
            return false
        }
        var complete = false
        do {
            let marks = try await reader.watermarks(partition)
            var position = max(offset, marks.low)
            complete = position >= marks.high
            if !complete { try reader.assign([TopicPartitionOffset(partition, offset: position)]) }
            var lastRecord = ContinuousClock.now
            var sawRecords = false
            reading: while !complete {
                if ContinuousClock.now - lastRecord > .seconds(5) {
                    complete = sawRecords
                    break
                }
                for record in await reader.read(maxRecords: 100) where record.offset >= position {
                    (lastRecord, sawRecords) = (.now, true)
                    position = record.offset.clampedAdding(1)
                    if await visit(record) || position >= marks.high {
                        complete = true
                        break reading
                    }
                }
            }
        } catch {
            logger.error("probe read failed", metadata: ["webhook": "\(webhookID)", "error": "\(error)"])
        }
        await reader.close()
        return complete
    }

    /// After a status transition: persist the state, send its alerts, park or resume.
    /// `attempts` is the episode's attempt count when the caller knows it: the transitions that
    /// end an episode (disabled, recovered) clear the retry counter the count is otherwise read from.
    func afterTransition(_ effects: [WebhookState.Effect], probe: Probe? = nil, attempts: Int? = nil) async {
        let (status, webhook, site, needsPark) = state.withLock { state in (state.status, state.webhook, state.site, state.parkIfNotDelivering()) }
        do { try await context.store.save(state: status, webhookID: webhookID) } catch {
            logger.error("status write failed", metadata: ["webhook": "\(webhookID)", "error": "\(error)"])
        }
        logger.info(
            "webhook status", metadata: ["webhook": "\(webhookID)", "status": "\(status.status.rawValue)", "retries": "\(status.retries)", "last_error": "\(status.lastError ?? "")"])
        for effect in effects {
            switch effect {
            case .alert(let kind):
                context.metrics.alertRaised(kind)
                context.alerts.send(alertEvent(kind, status: status, webhook: webhook, site: site, probe: probe ?? status.probe, attempts: attempts))
            case .died:
                // Dead: its messages are no longer kept for it.
                let partitions = (try? await context.store.cursors(webhookID: webhookID).keys).map(Array.init) ?? []
                _ = await saveDurably(cursors: Dictionary(uniqueKeysWithValues: partitions.map { ($0, nil) }))
            }
        }
        if status.isDelivering, !needsPark { scheduleCatchUps() }
        signal()
    }

    private func alertEvent(_ kind: AlertKind, status: WebhookState, webhook: Webhook, site: Site, probe: Probe?, attempts: Int?) -> AlertEvent {
        let contacts: AlertContacts =
            switch kind {
            case .onFailure: site.onFailure
            case .onDeactivation: site.onDeactivation
            case .onFailureRecovered: site.onFailureRecovered
            }
        return AlertEvent(
            kind: kind, siteID: site.id, contacts: contacts, testMode: site.testMode, testEmails: site.testEmails,
            testMobiles: site.testMobiles, webhookID: webhook.id,
            url: webhook.url, status: status.status, topic: probe?.webhookTopic, probeMessageID: probe?.messageID,
            attempts: attempts ?? (kind == .onFailureRecovered ? status.retries : status.retries.clampedAdding(1)), lastError: status.lastError, at: Date())
    }

    /// An API request (pause, disable, enable). Returns false for a dead webhook.
    public func apply(_ event: WebhookState.Event) async -> Bool {
        let effects: [WebhookState.Effect]? = state.withLock { state in
            guard state.status.status != .dead else { return nil }
            return state.transition(event, now: context.now())
        }
        guard let effects else { return false }
        await afterTransition(effects)
        return true
    }

    /// A state another instance (or this one) wrote to the control topic. A newer one replaces
    /// the lane's own; the lane then parks or resumes to match. Alerts are not sent again: the
    /// instance that made the transition sent them.
    public func adopt(_ incoming: WebhookState) {
        if state.withLock({ $0.adopt(incoming) }) { signal() }
    }

    /// Time passes: `message_retention` may make a paused or disabled webhook dead.
    public func tick() async {
        let effects = state.withLock { $0.transition(.tick, now: context.now()) }
        if !effects.isEmpty { await afterTransition(effects) }
        // A due probe retry whose partition just came to this instance.
        signal()
    }
}
