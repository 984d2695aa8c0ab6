import Logging
import WebhookDomain

/// Hands each control-topic record to delivery: webhooks created, changed or deleted on any
/// instance, status changes, site and custom-topic changes, replay requests. Every instance runs
/// one over its view's `changes`, which is how instances converge (DESIGN.md §8).
public struct ControlDispatcher: Sendable {
    let reader: any ControlReading
    let delivery: any DeliveryControl
    let logger: Logger

    public init(reader: any ControlReading, delivery: any DeliveryControl, logger: Logger) {
        self.reader = reader
        self.delivery = delivery
        self.logger = logger
    }

    /// Applies every batch of records until the stream ends.
    public func run(_ changes: AsyncStream<[ControlRecord]>) async {
        for await records in changes { apply(records) }
    }

    /// One batch of records, in topic order. A webhook or a status is taken at its latest value
    /// (idempotent, and never an older state than the view holds); a replay request is decided
    /// on the record as written, since the partition's owner may already have overwritten the
    /// key with its own cursor. Routing is rebuilt once per batch.
    public func apply(_ records: [ControlRecord]) {
        var routingChanged = false
        for record in records {
            switch record {
            case .webhook(let id, let stored):
                if let stored {
                    warnIfOutOfRange(record) { () throws(SettingsError) in try stored.webhook.options.validate() }
                    warnIfShortKeys(record, stored.webhook)
                }
                if let webhook = reader.webhook(id) {
                    delivery.upsert(webhook, state: reader.storedState(id))
                } else {
                    delivery.remove(webhookID: id)
                }
            case .status(let id, _), .requestedStatus(let id, _):
                if let state = reader.storedState(id) { delivery.adopt(state, webhookID: id) }
            case .site(let id, let stored):
                // Judged on the config file's site, whose token (never in a record) passed there.
                if let stored, let site = reader.sites.first(where: { $0.id == id }) {
                    warnIfOutOfRange(record) { () throws(SettingsError) in try stored.configuration.applied(to: site).validate() }
                }
                routingChanged = true
            case .topic:
                routingChanged = true
            case .cursor(let id, let partition, let cursor?) where cursor.replay:
                delivery.replay(webhookID: id, partition: partition, from: cursor.offset)
            case .cursor:
                break
            }
        }
        if routingChanged { delivery.update(sites: reader.sites, router: reader.router) }
    }

    /// A hash key stored before keys had a minimum length (`HashKey.validate()`) keeps signing:
    /// the receiver knows it, and refusing the record would stop the webhook. It is said once,
    /// here, as the record arrives (never the key itself).
    private func warnIfShortKeys(_ record: ControlRecord, _ webhook: Webhook) {
        for (index, key) in webhook.hashKeys.enumerated() {
            do throws(SettingsError) { try key.validate() } catch {
                logger.warning(
                    "control record holds a hash key below the minimum: kept; rotate it",
                    metadata: ["key": "\(record.key)", "hash_key": "h\(index)", "problem": "\(error.problem)"])
            }
        }
    }

    /// The control topic's reader clamps settings out of range (`Site.clamped()`,
    /// `WebhookOptions.clamped()`) rather than skipping the record: a webhook or a site written
    /// under older, looser limits keeps working. It is said once, here, as the record arrives.
    private func warnIfOutOfRange(_ record: ControlRecord, _ validate: () throws(SettingsError) -> Void) {
        do throws(SettingsError) { try validate() } catch {
            logger.warning("control record out of range: clamped", metadata: ["key": "\(record.key)", "problem": "\(error)"])
        }
    }
}
