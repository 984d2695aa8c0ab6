import Delivery
import Kafka
import ServiceLifecycle

/// Runs the delivery engine as a service: on graceful shutdown it stops intake, lets in-flight
/// requests end, commits what was acknowledged, leaves the group, then closes the producer and
/// the HTTP client.
struct DeliveryService: Service {
    let engine: DeliveryEngine
    let producer: KafkaProducer
    let client: WebhookHTTPClient

    func run() async throws {
        do {
            try await withGracefulShutdownHandler {
                try await engine.run()
            } onGracefulShutdown: {
                engine.stop()
            }
        } catch {
            await producer.close()
            await client.shutdown()
            throw error
        }
        await producer.close()
        await client.shutdown()
    }
}
