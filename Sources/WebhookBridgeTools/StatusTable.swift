import Foundation

/// Renders the admin API's `/status` answer as aligned text tables: one row per webhook, then
/// the consumer lag of each partition the instance holds.
public enum StatusTable {
    public static func render(_ status: [String: Any]) -> String {
        let webhooks = status["webhooks"] as? [[String: Any]] ?? []
        let partitions = status["partitions"] as? [[String: Any]] ?? []
        var text = "ready: \((status["ready"] as? Bool) == true ? "yes" : "no")\n\n"
        text += table(
            ["WEBHOOK", "SITE", "STATUS", "ACKED", "IN FLIGHT", "QUEUED", "PARKED", "LAG", "RETRIES", "LAST ERROR"],
            webhooks.map { webhook in
                let status = (webhook["status"] as? String ?? "-") + ((webhook["pause"] as? String).map { " (\($0))" } ?? "")
                return [
                    cell(webhook["id"]), cell(webhook["site_id"]), status, cell(webhook["acknowledged"]), cell(webhook["in_flight"]), cell(webhook["queued"]),
                    cell(webhook["parked_partitions"]), cell(webhook["cursor_lag"]), cell(webhook["retries"]), cell(webhook["last_error"]),
                ]
            })
        text += "\n"
        text += table(["TOPIC", "PARTITION", "CONSUMER LAG"], partitions.map { [cell($0["topic"]), cell($0["partition"]), cell($0["lag"])] })
        return text
    }

    static func cell(_ value: Any?) -> String { value.map { "\($0)" } ?? "-" }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, value in
                column == row.count - 1 ? value : value.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
