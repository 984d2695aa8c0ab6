import Foundation

/// Renders the admin API's `/explain` answer as text for `webhook-bridge explain`: the record,
/// its routes and messages, then one row per webhook with its verdict.
public enum ExplanationText {
    public static func render(_ answer: [String: Any]) -> String {
        let record = answer["record"] as? [String: Any] ?? [:]
        let partition = answer["partition"] as? [String: Any] ?? [:]
        let routing = answer["routing"] as? [String: Any] ?? [:]
        var text = "record: \(cell(record["topic"]))/\(cell(record["partition"])) offset \(cell(record["offset"]))"
        if let key = record["key"] as? String { text += ", key \(key)" }
        if let timestamp = record["timestamp"] as? Double { text += ", at \(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: timestamp)))" }
        text += "\npartition: offsets \(cell(partition["low_watermark"])) to \(cell(partition["high_watermark"])) (exclusive), committed \(cell(partition["committed_offset"]))"
        text += (partition["held_here"] as? Bool) == true ? ", held by this instance\n" : ", held by another instance\n"
        text += "routing: \(cell(routing["outcome"]))"
        if let reason = routing["dead_letter_reason"] as? String ?? routing["skip_reason"] as? String { text += ": \(reason)" }
        text += "\n"
        for (index, route) in (routing["routes"] as? [[String: Any]] ?? []).enumerated() {
            let result = (route["matched"] as? Bool) == true ? "→ " + ((route["webhook_topics"] as? [String]) ?? []).joined(separator: ", ") : "no match: \(cell(route["reason"]))"
            text += "  route \(index + 1): site \(selector(route["site"])), topic \(selector(route["topic"])) \(result)\n"
        }
        for message in routing["messages"] as? [[String: Any]] ?? [] {
            text += "  message \(cell(message["message_id"])) on \(cell(message["webhook_topic"])) for \(cell(message["site_id"]))\n"
        }
        let webhooks = answer["webhooks"] as? [[String: Any]] ?? []
        text += "\n"
        text += StatusTable.table(
            ["WEBHOOK", "STATUS", "VERDICT", "CURSOR", "ATTEMPTS", "DETAIL"],
            webhooks.map { webhook in
                let status = (webhook["status"] as? String ?? "-") + ((webhook["pause"] as? String).map { " (\($0))" } ?? "")
                return [cell(webhook["id"]), status, cell(webhook["verdict"]), cell(webhook["cursor"]), attempts(webhook["attempts"]), cell(webhook["detail"])]
            })
        if let search = answer["attempts_search"] as? [String: Any] {
            let window = [search["from"], search["until"]].map { ($0 as? Double).map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: $0)) } ?? "-" }
            let read = search["records_read"] as? Int ?? 0
            text += "\nattempts: \(cell(search["topic"])) from \(window[0]) to \(window[1]), \(read) record\(read == 1 ? "" : "s") read"
            text += (search["complete"] as? Bool) == true ? "\n" : " (stopped early: not every attempt in that window was read)\n"
        }
        return text
    }

    /// `fixed c404`, `field meta.site`, …
    static func selector(_ value: Any?) -> String {
        guard let selector = value as? [String: Any], let (kind, name) = selector.first else { return "-" }
        return kind == "fixed" ? "\(name)" : "\(kind.replacingOccurrences(of: "_", with: " ")) \(name)"
    }

    /// `2 (last status_500)`, `1 (last acked)`, `0`, or `-` when none were searched.
    static func attempts(_ value: Any?) -> String {
        guard let attempts = value as? [[String: Any]] else { return "-" }
        guard let last = attempts.last else { return "0" }
        return "\(attempts.count) (last \(cell(last["outcome"])))"
    }

    static func cell(_ value: Any?) -> String { value.map { $0 is NSNull ? "-" : "\($0)" } ?? "-" }
}
