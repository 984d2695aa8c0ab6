import Dispatch

/// Runs blocking librdkafka calls (commit, committed, watermarks, flush, close) off Swift's
/// cooperative thread pool, on a concurrent dispatch queue, and resumes the caller when done.
enum BlockingCalls {
    private static let queue = DispatchQueue(label: "webhook-bridge.kafka.blocking", attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws(KafkaError) -> T) async throws(KafkaError) -> T {
        let result: Result<T, KafkaError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(KafkaError) { continuation.resume(returning: .success(try body())) } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }
}
