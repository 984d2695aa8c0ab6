import ControlPlane
import Logging
import ServiceLifecycle

/// Follows the control topic until graceful shutdown and hands every record to the delivery
/// engine through `ControlDispatcher`.
struct ControlTopicService: Service {
    let view: ControlTopicView
    let dispatcher: ControlDispatcher

    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await cancelWhenGracefulShutdown { try await view.follow() } }
            group.addTask { await cancelWhenGracefulShutdown { await dispatcher.run(view.changes) } }
        }
        await view.close()
    }
}
