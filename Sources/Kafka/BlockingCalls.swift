import Dispatch
import Synchronization

/// Runs blocking librdkafka calls (commit, committed, watermarks, flush, close, admin requests)
/// off Swift's cooperative thread pool, on a concurrent dispatch queue, and resumes the caller
/// when done.
enum BlockingCalls {
    private static let queue = DispatchQueue(label: "webhook-bridge.kafka.blocking", attributes: .concurrent)

    /// `cancellable`: a cancelled caller stops waiting at once (KafkaError `.cancelled`); the call
    /// finishes on its thread, keeping what it captured alive until then. For calls whose result
    /// nobody needs once the task is cancelled (start-up's admin requests and look-ups).
    static func run<T: Sendable>(cancellable: Bool = false, _ body: @escaping @Sendable () throws(KafkaError) -> T) async throws(KafkaError) -> T {
        let waiting = Mutex<CheckedContinuation<Result<T, KafkaError>, Never>?>(nil)
        let result: Result<T, KafkaError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let cancelledAlready = waiting.withLock { waiting in
                    if cancellable, Task.isCancelled { return true }
                    waiting = continuation
                    return false
                }
                if cancelledAlready { return continuation.resume(returning: .failure(KafkaError(code: .cancelled, message: "cancelled"))) }
                queue.async {
                    let result: Result<T, KafkaError>
                    do throws(KafkaError) { result = .success(try body()) } catch { result = .failure(error) }
                    waiting.withLock { $0.take() }?.resume(returning: result)
                }
            }
        } onCancel: {
            guard cancellable else { return }
            waiting.withLock { $0.take() }?.resume(returning: .failure(KafkaError(code: .cancelled, message: "cancelled")))
        }
        return try result.get()
    }
}
