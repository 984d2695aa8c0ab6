/// An email address as alert recipients must write it (DESIGN.md §10): an RFC 5321 mailbox
/// `local@domain`, at most 254 bytes, printable ASCII without spaces, `<`, `>` or commas, so that
/// nothing a tenant sets can reach an email header or an SMTP command as anything but one address.
public enum Mailbox {
    public static let maxLength = 254
    /// At most this many addresses per list (`contact_emails`, `test_emails`).
    public static let maxPerList = 50

    public static func isValid(_ address: String) -> Bool {
        let bytes = Array(address.utf8)
        guard !bytes.isEmpty, bytes.count <= maxLength,
            bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") && $0 != UInt8(ascii: ",") }),
            let at = bytes.lastIndex(of: UInt8(ascii: "@")), at > 0, at < bytes.count - 1
        else { return false }
        return bytes[..<at].count <= 64
    }

    /// The problem with a list of addresses, if any, as a settings error under `path`.
    public static func validate(_ addresses: [String], path: String) throws(SettingsError) {
        if addresses.count > maxPerList { throw SettingsError(path: path, problem: "at most \(maxPerList) addresses, not \(addresses.count)") }
        if let index = addresses.firstIndex(where: { !isValid($0) }) {
            throw SettingsError(path: "\(path)[\(index)]", problem: "not an email address (local@domain, printable ASCII, at most 254 bytes)")
        }
    }
}
