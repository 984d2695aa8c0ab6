import Foundation

/// Durations as configuration and the API write them: a number of seconds (fractions allowed)
/// or a number with a unit: `500ms`, `15s`, `2m`, `1h`, `7d`.
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            let number = trimmed.dropLast(unit.suffix.count)
            // "ms" must win over "s": only accept a plain number before the suffix.
            guard let value = Double(number), value >= 0, value.isFinite else { continue }
            return value * unit.seconds <= maxSeconds ? seconds(value * unit.seconds) : nil
        }
        guard let value = Double(trimmed), value >= 0, value.isFinite, value <= maxSeconds else { return nil }
        return seconds(value)
    }

    /// The longest duration accepted anywhere (100 years): beyond it a value is refused, never
    /// converted (a larger one would overflow the nanosecond count).
    public static let maxSeconds: Double = 100 * 365 * 86_400

    public static let maxDuration = Duration.seconds(Int64(maxSeconds))

    /// Seconds as a duration, clamped to 0...`maxSeconds`.
    public static func seconds(_ value: Double) -> Duration {
        let clamped = value.isFinite ? min(max(value, 0), maxSeconds) : maxSeconds
        return .nanoseconds(Int64((clamped * 1e9).rounded()))
    }

    /// Seconds as a duration for a validator to judge: like `seconds(_:)`, but a value outside
    /// 0...`maxSeconds` stays outside (at -1 s or `maxSeconds` + 1 s), so that it is refused
    /// instead of silently taking the nearest limit. Used where the admin API and the control
    /// topic hand over seconds as numbers.
    public static func secondsKeepingRange(_ value: Double) -> Duration {
        if value.isNaN || value < 0 { return .seconds(-1) }
        if value > maxSeconds { return maxDuration + .seconds(1) }
        return seconds(value)
    }
}
