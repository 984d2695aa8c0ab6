import Avro
import WebhookDomain

/// The values the micro-benchmarks work on: one OMS order event (about 600 bytes of JSON, and the
/// same order as an Avro record), a site with one route, and a webhook with one HMAC key.
enum Fixtures {
    static let timestamp: Int64 = 1_764_670_000

    static let event = Array(
        #"""
        {"order_id":"ORD-2026-000184467","site_id":"acme","date":1764670000123,"old_state":"packed","new_state":"shipped",\#
        "customer":{"id":"C-88412","email":"jane.doe@example.com","locale":"de-DE"},"currency":"EUR","total":"184.70",\#
        "lines":[{"sku":"SKU-100231","quantity":2,"price":"49.90"},{"sku":"SKU-100877","quantity":1,"price":"59.90"},\#
        {"sku":"SKU-204410","quantity":1,"price":"25.00"}],"carrier":"DHL","tracking_number":"00340434161094042557",\#
        "warehouse":"FRA-2","shipping_address":{"street":"Hauptstrasse 12","city":"Frankfurt am Main","postal_code":"60311",\#
        "country":"DE"},"sequence":184467}
        """#.utf8)

    static let router = Router(
        routes: [Route(source: "oms.orders", site: .fixed("acme"), topic: .fixed("order_state_changed"))],
        sites: [Site(id: "acme", token: "acme-site-token-0123")])

    static let record = SourceRecord(
        topic: "oms.orders", partition: 3, offset: 184_467, key: Array("ORD-2026-000184467".utf8), value: event,
        timestampMilliseconds: 1_764_670_000_123)

    static let message: RoutedMessage = {
        guard case .routed(let messages) = router.route(record), let message = messages.first else {
            fatalError("the fixture event does not route")  // a mistake in this file, not data
        }
        return message
    }()

    static let webhook = Webhook(
        id: "acme-orders", siteID: "acme", url: "https://hooks.example.com/oms/orders", topics: ["order_state_changed"],
        hashKeys: [HashKey("acme-hash-key-0123456789")])

    static let cloudEventsWebhook: Webhook = {
        var cloudEvents = webhook
        cloudEvents.options.format = .cloudevents
        return cloudEvents
    }()

    static let batch: [RoutedMessage] = (0..<30).map { index in
        var message = message
        message.messageID += "-\(index)"
        message.sequence = "3-\(184_467 + index)"
        return message
    }

    /// A typical OMS order record: nested records, an enum, a union, decimals, an array, a timestamp.
    static let avroSchema = #"""
        {"type":"record","name":"OrderStateChanged","namespace":"oms","fields":[
          {"name":"order_id","type":"string"},
          {"name":"site_id","type":"string"},
          {"name":"date","type":{"type":"long","logicalType":"timestamp-millis"}},
          {"name":"old_state","type":{"type":"enum","name":"OrderState","symbols":["created","paid","packed","shipped","delivered","cancelled"]}},
          {"name":"new_state","type":"OrderState"},
          {"name":"customer","type":{"type":"record","name":"Customer","fields":[
            {"name":"id","type":"string"},{"name":"email","type":["null","string"],"default":null},{"name":"locale","type":"string"}]}},
          {"name":"currency","type":"string"},
          {"name":"total","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},
          {"name":"lines","type":{"type":"array","items":{"type":"record","name":"Line","fields":[
            {"name":"sku","type":"string"},{"name":"quantity","type":"int"},
            {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}}]}}},
          {"name":"carrier","type":["null","string"],"default":null},
          {"name":"tracking_number","type":["null","string"],"default":null},
          {"name":"sequence","type":"long"}]}
        """#

    static let avroDecoder: AvroDecoder = {
        do { return AvroDecoder(schema: try AvroSchema(parsing: avroSchema)) } catch { fatalError("the fixture schema does not parse: \(error)") }
    }()

    /// The order above in Avro's binary encoding (no Schema Registry framing).
    static let avroOrder: [UInt8] = {
        var avro = AvroBytes()
        avro.string("ORD-2026-000184467")
        avro.string("acme")
        avro.long(1_764_670_000_123)
        avro.long(2)  // packed
        avro.long(3)  // shipped
        avro.string("C-88412")
        avro.long(1)  // union branch 1: string
        avro.string("jane.doe@example.com")
        avro.string("de-DE")
        avro.string("EUR")
        avro.decimal(18_470)
        avro.long(3)  // one block of three lines
        for (sku, quantity, price) in [("SKU-100231", 2, 4_990), ("SKU-100877", 1, 5_990), ("SKU-204410", 1, 2_500)] {
            avro.string(sku)
            avro.long(Int64(quantity))
            avro.decimal(Int64(price))
        }
        avro.long(0)  // end of the array
        avro.long(1)
        avro.string("DHL")
        avro.long(1)
        avro.string("00340434161094042557")
        avro.long(184_467)
        do { _ = try avroDecoder.json(from: avro.bytes) } catch { fatalError("the fixture record does not decode: \(error)") }
        return avro.bytes
    }()
}

/// Avro's binary encoding, as much of it as the fixture needs.
struct AvroBytes {
    var bytes: [UInt8] = []

    /// `long` and `int`: zig-zag, then a base-128 varint.
    mutating func long(_ value: Int64) {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        repeat {
            bytes.append(UInt8(zigzag & 0x7F) | (zigzag > 0x7F ? 0x80 : 0))
            zigzag >>= 7
        } while zigzag > 0
    }

    mutating func string(_ text: String) {
        long(Int64(text.utf8.count))
        bytes += text.utf8
    }

    /// A `bytes` decimal: the unscaled value, two's complement, big-endian, fewest bytes.
    mutating func decimal(_ unscaled: Int64) {
        var big = withUnsafeBytes(of: unscaled.bigEndian) { Array($0) }
        while big.count > 1, (big[0] == 0 && big[1] < 0x80) || (big[0] == 0xFF && big[1] >= 0x80) { big.removeFirst() }
        long(Int64(big.count))
        bytes += big
    }
}
