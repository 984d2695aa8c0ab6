import Foundation

/// The one validator of a hash key (DESIGN.md §10), called wherever a key enters: the config
/// file (`hash_key`, `hash_key_env`) and the admin API (`webhook.hash_key` at creation, `hash_key`
/// for a rotation). Keys read back from the control topic are not refused: a key stored before
/// the rule keeps signing (`ControlDispatcher` logs it once).
extension HashKey {
    public enum Limits {
        /// A key given as text: its UTF-8 bytes are the key, at least this many characters.
        public static let minimumCharacters = 16
        /// A `whsec_` key: the bytes its base64 decodes to, at least this many (the Standard
        /// Webhooks libraries take secrets of 24 to 64 bytes).
        public static let minimumWhsecBytes = 24
    }

    /// Throws when the key is too short to sign with, naming the field `hash_key` (the problem
    /// never quotes the key).
    public func validate() throws(SettingsError) {
        if text.hasPrefix("whsec_") {
            guard let decoded = Data(base64Encoded: String(text.dropFirst(6))) else {
                throw SettingsError(path: "hash_key", problem: "a whsec_ key must be whsec_ followed by base64")
            }
            if decoded.count < Limits.minimumWhsecBytes {
                throw SettingsError(path: "hash_key", problem: "a whsec_ key must decode to at least \(Limits.minimumWhsecBytes) bytes")
            }
        } else if text.count < Limits.minimumCharacters {
            throw SettingsError(
                path: "hash_key",
                problem: "must be at least \(Limits.minimumCharacters) characters (or whsec_ and the base64 of at least \(Limits.minimumWhsecBytes) bytes)")
        }
    }
}
