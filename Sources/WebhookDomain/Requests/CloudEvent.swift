import Foundation

/// A message as a structured-mode CloudEvents 1.0 event (DESIGN.md §4, `options.format:
/// cloudevents`): `id` the message id, `type` the webhook topic, `source` `webhook-bridge/<site>`,
/// `subject` the entity id, `time` the record's time, the `sequence` extension, and the event
/// as `data`.
enum CloudEvent {
    static func body(of message: RoutedMessage) -> [UInt8] {
        var body = Array(#"{"specversion":"1.0","id":"#.utf8) + JSONWriter.string(message.messageID)
        body += Array(#","type":"#.utf8) + JSONWriter.string(message.topic.name)
        body += Array(#","source":"#.utf8) + JSONWriter.string("webhook-bridge/\(message.siteID)")
        if !message.entity.isEmpty { body += Array(#","subject":"#.utf8) + JSONWriter.string(String(decoding: message.entity, as: UTF8.self)) }
        if let milliseconds = message.timestampMilliseconds, milliseconds >= 0 {
            body += Array(#","time":"#.utf8) + JSONWriter.string(time(milliseconds))
        }
        body += Array(#","sequence":"#.utf8) + JSONWriter.string(message.sequence)
        body += Array(#","datacontenttype":"application/json","data":"#.utf8) + message.payload + [UInt8(ascii: "}")]
        return body
    }

    /// RFC 3339 UTC with milliseconds: `2026-12-01T10:00:00.250Z`.
    static func time(_ milliseconds: Int64) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!).format(Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
