import Foundation
import Testing
import WebhookDomain

@testable import Alerts

/// Nothing a tenant sets reaches an email header or an SMTP command unchecked (DESIGN.md §10):
/// addresses from `PUT /sites/{id}/configuration`, notification names in the subject.
@Suite("Alert mail with hostile input")
struct HostileInputTests {
    static let hostile = ["ops@example.com\r\nRCPT TO:<spy@evil.example>", "a@b>\r\nDATA", "spy@evil.example, other@evil.example", "<x@y>", "no-at-sign", "@example.com", "ops@"]

    @Test("mailboxes: local@domain, printable ASCII without spaces, <, > or commas, at most 254 bytes")
    func mailboxes() {
        #expect(Mailbox.isValid("ops@example.com"))
        #expect(Mailbox.isValid("first.last+alerts@sub.example.co"))
        for address in Self.hostile + ["", "a b@example.com", "ops@exämple.com", String(repeating: "a", count: 65) + "@example.com", "a@" + String(repeating: "b", count: 253)] {
            #expect(!Mailbox.isValid(address), "\(address.debugDescription)")
        }
    }

    /// The path of the site's first problem, nil when it is valid.
    static func problemPath(_ site: Site) -> String? {
        do {
            try site.validate()
            return nil
        } catch {
            return error.path
        }
    }

    @Test("the site's validator names the bad address and the list size; clamping drops them")
    func siteValidation() {
        var site = Site(id: "c404", token: "c404-token-0123456789")
        #expect(Self.problemPath(site) == nil)
        site.onFailure.contactEmails = ["ops@example.com", "ops@example.com\r\nRCPT TO:<spy@evil.example>"]
        #expect(Self.problemPath(site) == "on_failure.contact_emails[1]")
        #expect(Self.problemPath(site.clamped()) == nil)
        #expect(site.clamped().onFailure.contactEmails == ["ops@example.com"])
        site.onFailure.contactEmails = Array(repeating: "ops@example.com", count: 51)
        #expect(Self.problemPath(site) == "on_failure.contact_emails")
        site.onFailure.contactEmails = []
        site.testEmails = ["<x@y>"]
        #expect(Self.problemPath(site) == "test_emails[0]")
    }

    @Test("mobile numbers: digits, a leading +, spaces, -, ., ( and ); 3 to 32 characters; at most 50 per list, clamping drops the others")
    func mobiles() {
        for number in ["+33 6 12 34 56 78", "(555) 010-0199", "0612345678", "112"] { #expect(MobileNumber.isValid(number), "\(number)") }
        for number in ["", "12", "+", "++33612345678", "33+612", "+33 6\r\n12", "call me", "+33 6 12 34 56 78 90 12 34 56 78 90", "٠٦١٢٣٤٥٦٧٨"] {
            #expect(!MobileNumber.isValid(number), "\(number.debugDescription)")
        }
        var site = Site(id: "c404", token: "c404-test-token-0001")
        site.testMobiles = ["+33 6 12 34 56 78", "call me"]
        #expect(Self.problemPath(site) == "test_mobiles[1]")
        #expect(site.clamped().testMobiles == ["+33 6 12 34 56 78"])
        site.testMobiles = []
        site.onFailureRecovered.contactMobiles = Array(repeating: "0612345678", count: 51)
        #expect(Self.problemPath(site) == "on_failure_recovered.contact_mobiles")
        #expect(site.clamped().onFailureRecovered.contactMobiles.count == 50)
        #expect(Self.problemPath(site.clamped()) == nil)
    }

    @Test("test mode redirects SMS like email: to test_mobiles and to nobody else")
    func testModeRedirectsSMS() {
        let contacts = AlertContacts(contactEmails: ["ops@example.com"], contactMobiles: ["+33 6 00 00 00 00"], emailNotificationName: "n", smsNotificationName: "s")
        var alert = AlertEvent(
            kind: .onFailure, siteID: "c404", contacts: contacts, testMode: false, testEmails: ["qa@example.com"], testMobiles: ["+1 555 0100"],
            webhookID: "w", url: "https://a.example", status: .paused, topic: nil, probeMessageID: nil, attempts: 4, lastError: nil, at: Date())
        #expect(alert.recipients == ["ops@example.com"])
        #expect(alert.smsRecipients == ["+33 6 00 00 00 00"])
        alert.testMode = true
        #expect(alert.recipients == ["qa@example.com"])
        #expect(alert.smsRecipients == ["+1 555 0100"])
        alert.testMobiles = []
        #expect(alert.smsRecipients.isEmpty)
    }

    @Test("an email's headers: a CR LF in the subject is encoded, hostile recipients are left out")
    func emailHeaders() {
        let email = Email(
            from: "bridge@example.com", to: ["ops@example.com"] + Self.hostile, subject: "webhook_failure\r\nBcc: spy@evil.example", body: "text")
        #expect(email.to == ["ops@example.com"])
        let headers = email.dataPhase.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n")
        #expect(!headers.contains { $0.hasPrefix("Bcc") })
        #expect(headers.contains("To: ops@example.com"))
        #expect(headers.contains { $0.hasPrefix("Subject: =?utf-8?B?") })
    }

    @Test("the SMTP conversation never sends a command with CR or LF; with no valid recipient it gives up before RCPT")
    func conversation() {
        var machine = SMTPConversation(tls: .none, clientName: "bridge", username: nil, password: nil, from: "a@x", recipients: ["b@y"] + Self.hostile)
        var commands: [String] = []
        for reply in [SMTPReply(code: 220, lines: ["hi"]), SMTPReply(code: 250, lines: ["hello"]), SMTPReply(code: 250, lines: ["ok"]), SMTPReply(code: 250, lines: ["ok"])] {
            if case .send(let command) = machine.next(after: reply) { commands.append(command) }
        }
        #expect(commands == ["EHLO bridge", "MAIL FROM:<a@x>", "RCPT TO:<b@y>", "DATA"])
        #expect(commands.allSatisfy { !$0.contains("\r") && !$0.contains("\n") })

        var none = SMTPConversation(tls: .none, clientName: "bridge", username: nil, password: nil, from: "a@x", recipients: Self.hostile)
        _ = none.next(after: SMTPReply(code: 220, lines: ["hi"]))
        _ = none.next(after: SMTPReply(code: 250, lines: ["hello"]))
        guard case .fail(let error) = none.next(after: SMTPReply(code: 250, lines: ["ok"])) else { Issue.record("expected a failure"); return }
        #expect(error.kind == .permanent)
    }
}
