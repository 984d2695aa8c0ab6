/// A mobile number as alert contacts must write it: what an SMS gateway takes as a phone number
/// (`+33 6 12 34 56 78`, `(555) 010-0199`): digits with an optional leading `+`, spaces, `-`,
/// `.`, `(` and `)`, 3 to 32 characters with at least 3 digits. Nothing else a tenant sets
/// reaches the gateway's `to`, and a list is bounded, so a site cannot turn its alerts into an
/// SMS flood.
public enum MobileNumber {
    public static let maxLength = 32
    /// At most this many numbers per list (`contact_mobiles`, `test_mobiles`), as for emails.
    public static let maxPerList = Mailbox.maxPerList

    public static func isValid(_ number: String) -> Bool {
        let bytes = Array(number.utf8)
        guard (3...maxLength).contains(bytes.count) else { return false }
        let separators = Set(" -.()".utf8)
        for (index, byte) in bytes.enumerated() {
            let digit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            guard digit || separators.contains(byte) || (byte == UInt8(ascii: "+") && index == 0) else { return false }
        }
        return bytes.filter { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }.count >= 3
    }

    /// The problem with a list of numbers, if any, as a settings error under `path`.
    public static func validate(_ numbers: [String], path: String) throws(SettingsError) {
        if numbers.count > maxPerList { throw SettingsError(path: path, problem: "at most \(maxPerList) numbers, not \(numbers.count)") }
        if let index = numbers.firstIndex(where: { !isValid($0) }) {
            throw SettingsError(path: "\(path)[\(index)]", problem: "not a mobile number (digits, an optional leading +, spaces, -, ., ( and ); 3 to 32 characters)")
        }
    }

    /// The valid numbers of a list, at most `maxPerList` (for records no door checked).
    public static func clamped(_ numbers: [String]) -> [String] { Array(numbers.filter(isValid).prefix(maxPerList)) }
}
