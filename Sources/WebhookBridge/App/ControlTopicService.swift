import ControlPlane
import Delivery
import ServiceLifecycle

/// Follows the control topic until graceful shutdown and hands every change to the delivery
/// engine: webhooks created, changed or deleted on any instance, status changes, site and
/// custom-topic changes. This is how instances converge.
struct ControlTopicService: Service {
    let view: ControlTopicView
    let catalog: ControlCatalog
    let engine: DeliveryEngine

    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await cancelWhenGracefulShutdown { try await view.follow() } }
            group.addTask { await cancelWhenGracefulShutdown { await applyChanges() } }
        }
        await view.close()
    }

    private func applyChanges() async {
        for await changes in view.changes {
            var routingChanged = false
            for change in changes {
                let key = change.key
                let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                switch parts[0] {
                case "webhook":
                    if let webhook = catalog.webhook(parts[1]) {
                        engine.upsert(webhook, state: catalog.store.state(webhook.id))
                    } else {
                        engine.remove(webhookID: parts[1])
                    }
                case "status", "api-status":
                    if let state = catalog.store.state(parts[1]) { engine.adopt(state, webhookID: parts[1]) }
                case "site", "topic":
                    routingChanged = true
                case "cursor":
                    if let replay = catalog.store.replayRequest(key: key, value: change.value) {
                        engine.lane(replay.webhookID)?.replay(replay.partition, from: replay.offset)
                    }
                default:
                    break
                }
            }
            if routingChanged { engine.update(sites: catalog.sites, router: catalog.router) }
        }
    }
}
