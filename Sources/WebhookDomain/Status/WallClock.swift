import Foundation

/// The wall clock, in milliseconds since the epoch: statuses, retries and `message_retention`
/// are kept in it, so that every instance reading a state from the control topic reads the same
/// times.
public enum WallClock {
    public static func milliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
