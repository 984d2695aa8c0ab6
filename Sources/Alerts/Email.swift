import Foundation
import WebhookDomain

/// A plain-text email, rendered for the DATA phase.
public struct Email: Sendable, Equatable {
    public var from: String
    public var to: [String]
    public var subject: String
    public var body: String
    public var date: Date
    public var messageID: String

    /// Recipients that are not valid mailboxes (`Mailbox.isValid`) are left out, so none can
    /// reach the `To:` header or an SMTP command.
    public init(from: String, to: [String], subject: String, body: String, date: Date = Date(), messageID: String? = nil) {
        self.from = from
        self.to = to.filter(Mailbox.isValid)
        self.subject = subject
        self.body = body
        self.date = date
        let domain = from.split(separator: "@").last.map(String.init) ?? "localhost"
        self.messageID = messageID ?? "<\(UUID().uuidString.lowercased())@\(domain)>"
    }

    /// Headers and body with CRLF line endings, dot-stuffed, ending with the `CRLF.CRLF` that
    /// closes DATA.
    public var dataPhase: String {
        var lines = [
            "From: \(from)",
            "To: \(to.joined(separator: ", "))",
            "Subject: \(Self.encodedHeader(subject))",
            "Date: \(Self.rfc5322(date))",
            "Message-ID: \(messageID)",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "",
        ]
        let normalised = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        lines += normalised.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            // Dot-stuffing (RFC 5321 §4.5.2): a line starting with "." gets another one.
            line.hasPrefix(".") ? "." + line : String(line)
        }
        return lines.joined(separator: "\r\n") + "\r\n.\r\n"
    }

    /// RFC 2047 for a header that is not plain printable ASCII: a CR or LF a tenant put in a
    /// notification name is encoded, never a line break in the header.
    static func encodedHeader(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= 0x80 || $0 < 0x20 || $0 == 0x7F }) else { return text }
        return "=?utf-8?B?" + Data(text.utf8).base64EncodedString() + "?="
    }

    static func rfc5322(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
