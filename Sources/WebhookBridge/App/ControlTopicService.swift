import ControlPlane
import ServiceLifecycle

/// Follows the control topic until graceful shutdown, then closes its producer.
struct ControlTopicService: Service {
    let view: ControlTopicView

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await view.follow()
        }
        await view.close()
    }
}
