/// Dates and times as text (DESIGN.md §3). A value whose text would fall outside years 0001–9999
/// (RFC 3339's four-digit years, less year 0, which common date types such as Python's cannot
/// hold), or a time of day outside 00:00–24:00, is written as its plain number instead: such
/// values are sentinels ("infinity" dates) more often than mistakes, and the number keeps them exact.
extension JSONWriter {
    /// `2026-12-01T10:00:00.250Z`: always the unit's fraction digits (3, 6 or 9); no `Z` when
    /// `local` (a local timestamp has no zone).
    mutating func timestamp(_ value: Int64, unit: TimeUnit, local: Bool) {
        let perDay = 86_400 * unit.perSecond
        // Floor division without overflow: remainder first, so Int64.min is safe.
        var remainder = value % perDay
        var days = value / perDay
        if remainder < 0 {
            remainder += perDay
            days -= 1
        }
        guard let (year, month, day) = Self.civil(days: days) else { return integer(value) }
        output.append(UInt8(ascii: "\""))
        appendDate(year, month, day)
        output.append(UInt8(ascii: "T"))
        appendTimeOfDay(remainder, unit: unit)
        if !local { output.append(UInt8(ascii: "Z")) }
        output.append(UInt8(ascii: "\""))
    }

    /// `YYYY-MM-DD` from days since 1970-01-01.
    mutating func date(days: Int32) {
        guard let (year, month, day) = Self.civil(days: Int64(days)) else { return integer(Int64(days)) }
        output.append(UInt8(ascii: "\""))
        appendDate(year, month, day)
        output.append(UInt8(ascii: "\""))
    }

    /// `HH:MM:SS.sss` (millis) or `HH:MM:SS.ssssss` (micros) from units since midnight.
    mutating func time(_ value: Int64, unit: TimeUnit) {
        guard value >= 0, value < 86_400 * unit.perSecond else { return integer(value) }
        output.append(UInt8(ascii: "\""))
        appendTimeOfDay(value, unit: unit)
        output.append(UInt8(ascii: "\""))
    }

    private mutating func appendDate(_ year: Int64, _ month: Int64, _ day: Int64) {
        unsigned(UInt64(year), width: 4)
        output.append(UInt8(ascii: "-"))
        unsigned(UInt64(month), width: 2)
        output.append(UInt8(ascii: "-"))
        unsigned(UInt64(day), width: 2)
    }

    /// `value` is in 0 ..< one day of `unit`.
    private mutating func appendTimeOfDay(_ value: Int64, unit: TimeUnit) {
        let seconds = value / unit.perSecond
        unsigned(UInt64(seconds / 3600), width: 2)
        output.append(UInt8(ascii: ":"))
        unsigned(UInt64(seconds / 60 % 60), width: 2)
        output.append(UInt8(ascii: ":"))
        unsigned(UInt64(seconds % 60), width: 2)
        output.append(UInt8(ascii: "."))
        unsigned(UInt64(value % unit.perSecond), width: unit.digits)
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01, if its year is in 1...9999
    /// (Howard Hinnant's `civil_from_days`).
    static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64)? {
        // Years 1...9999 are days -719_162 ..< 2_932_897; checking first keeps the arithmetic small.
        guard days >= -719_162, days < 2_932_897 else { return nil }
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}
