import CLibrdkafka

/// A topic and partition.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)/\(partition)" }
}

/// A partition with an offset (a position, a committed offset, a watermark).
public struct TopicPartitionOffset: Hashable, Sendable {
    public var topicPartition: TopicPartition
    public var offset: Int64

    public init(_ topicPartition: TopicPartition, offset: Int64) {
        self.topicPartition = topicPartition
        self.offset = offset
    }
}

/// A record header. Kafka allows a header without a value.
public struct KafkaHeader: Hashable, Sendable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    public init(key: String, string: String) {
        self.init(key: key, value: Array(string.utf8))
    }
}

/// A record read from Kafka. Key and value are raw bytes and may be missing: a tombstone has no
/// value, and nothing here assumes the bytes are UTF-8 or JSON.
public struct KafkaRecord: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    /// Milliseconds since the epoch, as the record carries it (create or log-append time).
    public var timestampMilliseconds: Int64?

    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?,
        headers: [KafkaHeader] = [], timestampMilliseconds: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = timestampMilliseconds
    }

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }

    /// The first header with this key, decoded as UTF-8 if it is valid UTF-8.
    public func header(_ key: String) -> String? {
        guard let bytes = headers.first(where: { $0.key == key })?.value else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Copies a message out of librdkafka. The message stays owned by the caller.
    /// `topics` names the message's topic: records of a batch share one string per topic.
    init(copying message: UnsafePointer<rd_kafka_message_t>, topics: inout TopicNames) {
        let m = message.pointee
        topic = topics.name(of: m.rkt)
        partition = m.partition
        offset = m.offset
        key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) }
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(message, &type)
        timestampMilliseconds = type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : ts
        headers = []
        var hdrs: OpaquePointer?
        // The headers stay owned by the message; we copy each one out.
        if rd_kafka_message_headers(message, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs {
            var index = 0
            var name: UnsafePointer<CChar>?
            var valuePointer: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(hdrs, index, &name, &valuePointer, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let headerValue = valuePointer.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                headers.append(KafkaHeader(key: name.map { String(cString: $0) } ?? "", value: headerValue))
                index += 1
            }
        }
    }
}

/// The topic names of a batch of messages, each made once: a name longer than 15 bytes is a
/// string on the heap, and each record held one of its own (docs/benchmarks.md, memory).
struct TopicNames {
    private var last: (topic: OpaquePointer, name: String)?

    mutating func name(of topic: OpaquePointer?) -> String {
        guard let topic else { return "" }
        if let last, last.topic == topic { return last.name }
        let name = String(cString: rd_kafka_topic_name(topic))
        last = (topic, name)
        return name
    }
}

/// A record to produce.
public struct KafkaOutgoingRecord: Sendable {
    public var topic: String
    /// `nil` lets the partitioner choose from the key.
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    public var timestampMilliseconds: Int64?

    public init(
        topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader] = [],
        timestampMilliseconds: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = timestampMilliseconds
    }

    public init(topic: String, key: String?, value: String?, headers: [KafkaHeader] = []) {
        self.init(topic: topic, key: key.map { Array($0.utf8) }, value: value.map { Array($0.utf8) }, headers: headers)
    }
}
