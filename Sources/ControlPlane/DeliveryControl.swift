import Delivery
import WebhookDomain

/// What the control topic changes in delivery: the calls `ControlDispatcher` makes as records
/// arrive. `DeliveryEngine` is the one in production; tests give a fake.
public protocol DeliveryControl: Sendable {
    /// A webhook was created or changed (`state`: its stored state, if any).
    func upsert(_ webhook: Webhook, state: WebhookState?)
    /// A webhook was deleted.
    func remove(webhookID: String)
    /// A webhook's state in effect changed (a lane's transition or an API status change).
    func adopt(_ state: WebhookState, webhookID: String)
    /// Sites or custom topics changed: new settings and new routing.
    func update(sites: [Site], router: Router)
    /// A replay request: the owner of `partition` replays the webhook from `offset`.
    func replay(webhookID: String, partition: SourcePartition, from offset: Int64)
}

extension DeliveryEngine: DeliveryControl {
    /// Handled by the webhook's lane, which does nothing for a partition this instance does not
    /// own (its next owner starts from the stored cursors).
    public func replay(webhookID: String, partition: SourcePartition, from offset: Int64) {
        lane(webhookID)?.replay(partition, from: offset)
    }
}

/// What `ControlDispatcher` reads: the control topic's latest values, as the catalog answers
/// them. Records are handled after the view applied them, so a record may already be
/// superseded: the dispatcher acts on the latest value of its key, not on the record's.
public protocol ControlReading: Sendable {
    /// A stored webhook, as delivery takes it.
    func webhook(_ id: String) -> Webhook?
    /// A webhook's stored state in effect (`WebhookState.effective` of its status records).
    func storedState(_ webhookID: String) -> WebhookState?
    /// Every site, stored configuration applied.
    var sites: [Site] { get }
    var router: Router { get }
}

extension ControlCatalog: ControlReading {
    public func storedState(_ webhookID: String) -> WebhookState? { store.state(webhookID) }
}
