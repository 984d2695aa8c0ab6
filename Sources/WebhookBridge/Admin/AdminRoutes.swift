import Delivery
import Hummingbird

/// The admin HTTP API. Today: liveness and readiness (DESIGN.md §3, §9); the webhook routes come
/// with the control plane.
enum AdminRoutes {
    static func build(readiness: Readiness) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("health") { _, _ in Response(status: .ok, body: .init(byteBuffer: .init(string: "{\"status\":\"ok\"}\n"))) }
        router.get("ready") { _, _ -> Response in
            readiness.isReady
                ? Response(status: .ok, body: .init(byteBuffer: .init(string: "{\"ready\":true}\n")))
                : Response(status: .serviceUnavailable, body: .init(byteBuffer: .init(string: "{\"ready\":false}\n")))
        }
        return router
    }
}
