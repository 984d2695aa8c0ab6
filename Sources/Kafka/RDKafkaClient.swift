import CLibrdkafka
import Logging

/// Owns one `rd_kafka_t` handle and destroys it in `deinit`.
///
/// librdkafka handles are thread-safe; this class only guards their lifetime. The handle's
/// opaque pointer is an unretained `RDKafkaClient.Context`, which this class keeps alive for as long
/// as the handle exists, so C callbacks can always reach it.
final class RDKafkaClient: @unchecked Sendable {
    /// What C callbacks need: they get it back through `rd_kafka_opaque`.
    final class Context: @unchecked Sendable {
        let logger: Logger
        /// Set by the consumer before the handle is created; called on the polling thread.
        var rebalance: ((rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> Void)?
        /// Set by the producer; called on the polling thread with the message's opaque box.
        var deliveryReport: ((UnsafePointer<rd_kafka_message_t>) -> Void)?

        init(logger: Logger) { self.logger = logger }
    }

    enum Role { case consumer, producer }

    let handle: OpaquePointer
    let context: Context
    private let contextPointer: UnsafeMutableRawPointer

    /// Creates a handle from flattened properties. `configure` may install callbacks on the
    /// `rd_kafka_conf_t` before librdkafka takes ownership of it.
    init(role: Role, properties: [String: String], context: Context) throws(KafkaError) {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(code: .configuration, message: "rd_kafka_conf_new failed")
        }
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            if rd_kafka_conf_set(conf, key, value, &errorText, errorText.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaError(code: .configuration, message: "kafka property \(key): \(String(cChars: errorText))")
            }
        }
        let pointer = Unmanaged.passRetained(context).toOpaque()
        rd_kafka_conf_set_opaque(conf, pointer)
        rd_kafka_conf_set_log_cb(conf) { rk, level, facility, message in
            guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
            let context = Unmanaged<Context>.fromOpaque(opaque).takeUnretainedValue()
            let text = "\(facility.map { String(cString: $0) } ?? ""): \(message.map { String(cString: $0) } ?? "")"
            // syslog levels: 0-3 error, 4 warning, 5-6 notice/info, 7 debug
            switch level {
            case ...3: context.logger.error("\(text)")
            case 4: context.logger.warning("\(text)")
            case 5...6: context.logger.info("\(text)")
            default: context.logger.debug("\(text)")
            }
        }
        if context.rebalance != nil {
            rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
                guard let opaque, let partitions else { return }
                Unmanaged<Context>.fromOpaque(opaque).takeUnretainedValue().rebalance?(err, partitions)
            }
        }
        if context.deliveryReport != nil {
            rd_kafka_conf_set_dr_msg_cb(conf) { rk, message, opaque in
                guard let opaque, let message else { return }
                Unmanaged<Context>.fromOpaque(opaque).takeUnretainedValue().deliveryReport?(message)
            }
        }
        let type = role == .consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER
        // On success librdkafka owns `conf`; on failure it is still ours.
        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            Unmanaged<Context>.fromOpaque(pointer).release()
            throw KafkaError(code: .configuration, message: "kafka client: \(String(cChars: errorText))")
        }
        self.handle = handle
        self.context = context
        self.contextPointer = pointer
    }

    deinit {
        rd_kafka_destroy(handle)
        Unmanaged<Context>.fromOpaque(contextPointer).release()
    }
}

/// Conversions between Swift partitions and `rd_kafka_topic_partition_list_t`.
enum PartitionList {
    /// Makes a list the caller must free with `rd_kafka_topic_partition_list_destroy`.
    static func make(_ partitions: [TopicPartitionOffset]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
        for p in partitions {
            rd_kafka_topic_partition_list_add(list, p.topicPartition.topic, p.topicPartition.partition).pointee.offset =
                p.offset
        }
        return list
    }

    static func make(_ partitions: [TopicPartition]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        make(partitions.map { TopicPartitionOffset($0, offset: Int64(RD_KAFKA_OFFSET_INVALID)) })
    }

    /// Reads a list that stays owned by the caller.
    static func read(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartitionOffset] {
        (0..<Int(list.pointee.cnt)).map { i in
            let element = list.pointee.elems[i]
            return TopicPartitionOffset(TopicPartition(String(cString: element.topic), element.partition), offset: element.offset)
        }
    }

    /// The first per-partition error in a list, if any.
    static func firstError(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>, context: String) -> KafkaError? {
        for i in 0..<Int(list.pointee.cnt) where list.pointee.elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let element = list.pointee.elems[i]
            return KafkaError(element.err, context: "\(context) \(String(cString: element.topic))/\(element.partition)")
        }
        return nil
    }
}

extension String {
    /// Decodes a NUL-terminated C buffer that librdkafka wrote an error text into.
    init(cChars buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
