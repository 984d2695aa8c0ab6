import CLibrdkafka

/// An error of the Kafka layer: a librdkafka error code with its message, or a configuration
/// mistake. `isRetriable` tells the caller whether trying again can help.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// A librdkafka error code (`rd_kafka_resp_err_t`).
        case rdkafka(Int32)
        /// A property librdkafka refused.
        case configuration
        /// The client was closed before the operation completed.
        case closed
        /// A blocking call ran past its timeout.
        case timedOut
        /// The waiting task was cancelled (the call itself may still finish on its thread).
        case cancelled
    }

    public let code: Code
    public let message: String
    public let isRetriable: Bool

    public init(code: Code, message: String, isRetriable: Bool = false) {
        self.code = code
        self.message = message
        self.isRetriable = isRetriable
    }

    init(_ err: rd_kafka_resp_err_t, context: String) {
        let text = String(cString: rd_kafka_err2str(err))
        let retriable =
            err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT
            || err == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT || err == RD_KAFKA_RESP_ERR__QUEUE_FULL
            || err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR || err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE
            || err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE || err == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION
        self.init(code: .rdkafka(err.rawValue), message: "\(context): \(text)", isRetriable: retriable)
    }

    /// Takes ownership of an `rd_kafka_error_t` and frees it.
    init(consuming error: OpaquePointer, context: String) {
        let text = String(cString: rd_kafka_error_string(error))
        let code = rd_kafka_error_code(error)
        let retriable = rd_kafka_error_is_retriable(error) != 0
        rd_kafka_error_destroy(error)
        self.init(code: .rdkafka(code.rawValue), message: "\(context): \(text)", isRetriable: retriable)
    }

    /// A short, label-safe name for metrics.
    public var label: String {
        switch code {
        case .rdkafka(let raw): String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(raw)))
        case .configuration: "configuration"
        case .closed: "closed"
        case .timedOut: "timed_out"
        case .cancelled: "cancelled"
        }
    }

    public var description: String { message }

    /// The record is larger than the producer (`message.max.bytes`) or the broker accepts.
    public var isRecordTooLarge: Bool {
        code == .rdkafka(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE.rawValue)
    }

    static func check(_ err: rd_kafka_resp_err_t, _ context: @autoclosure () -> String) throws(KafkaError) {
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: context()) }
    }
}
