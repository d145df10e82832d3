// SPDX-License-Identifier: Apache-2.0

/// HTTP-date (RFC 9110 §5.6.7) parsing and formatting, with no Foundation dependency.
///
/// Parsing accepts the preferred IMF-fixdate and the two obsolete forms (RFC 850 and asctime), as a
/// recipient must. Formatting always produces IMF-fixdate.
public enum HTTPDate {
    static let dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Formats Unix seconds as IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    /// - Parameter seconds: Unix time.
    /// - Returns: The formatted date.
    public static func format(_ seconds: Int64) -> String {
        let days = floorDiv(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        let weekday = Int((days % 7 + 11) % 7)  // 1970-01-01 was a Thursday
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(dayNames[weekday]), \(two(day)) \(monthNames[Int(month) - 1]) \(year) "
            + "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) GMT"
    }

    /// Formats Unix milliseconds as RFC 3339 UTC with milliseconds, e.g. `1994-11-06T08:49:37.120Z`
    /// (for logs).
    public static func formatISO8601(milliseconds: Int64) -> String {
        let seconds = floorDiv(milliseconds, 1000)
        let days = floorDiv(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = milliseconds - seconds * 1000
        let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(year)-\(two(month))-\(two(day))T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)).\(fraction)Z"
    }

    /// Parses an HTTP-date, strictly (RFC 9110 §5.6.7): one of the three forms exactly, single
    /// spaces, case-sensitive names, `GMT`. Any other spelling is not a date (so an `Expires`
    /// written otherwise means "already expired", RFC 9111 §5.3).
    /// - Parameter text: The field value (surrounding whitespace is not part of it).
    /// - Returns: Unix seconds, or `nil` when the text is not a valid HTTP-date.
    public static func parse(_ text: some StringProtocol) -> Int64? {
        var bytes = Array(text.utf8)[...]
        while let first = bytes.first, first == 0x20 || first == 0x09 { bytes.removeFirst() }
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes.removeLast() }
        let text = String(decoding: bytes, as: UTF8.self)
        let parts = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        if parts.count == 6, parts[0].hasSuffix(","), dayNames.contains(String(parts[0].dropLast())), parts[5] == "GMT" {
            guard parts[1].count == 2, let day = digits(parts[1]), let month = month(parts[2]),
                parts[3].count == 4, let year = digits(parts[3])
            else { return nil }
            return make(year: year, month: month, day: day, time: parts[4])
        }
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        if parts.count == 4, parts[0].hasSuffix(","), longDayNames.contains(String(parts[0].dropLast())), parts[3] == "GMT" {
            let dateParts = parts[1].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            guard dateParts.count == 3, dateParts[0].count == 2, let day = digits(dateParts[0]), let month = month(dateParts[1]),
                dateParts[2].count == 2, let shortYear = digits(dateParts[2])
            else { return nil }
            // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
            let year = shortYear < 70 ? 2000 + shortYear : 1900 + shortYear
            return make(year: year, month: month, day: day, time: parts[2])
        }
        // asctime: Sun Nov  6 08:49:37 1994 (a one-digit day after two spaces) or Sun Nov 16 08:49:37 1994
        if parts.count == 5 || parts.count == 6, dayNames.contains(parts[0]), let month = month(parts[1]) {
            let dayText = parts.count == 6 ? (parts[2].isEmpty ? parts[3] : "") : parts[2]
            let rest = parts.suffix(2)
            guard parts.count == 6 ? dayText.count == 1 : dayText.count == 2, let day = digits(dayText),
                rest.last?.count == 4, let year = rest.last.flatMap(digits), let time = rest.first
            else { return nil }
            return make(year: year, month: month, day: day, time: time)
        }
        return nil
    }

    static let longDayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    /// ASCII digits only (no sign, no spaces), as a number.
    static func digits(_ text: some StringProtocol) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(text)
    }

    static func month(_ name: String) -> Int64? {
        monthNames.firstIndex(of: name).map { Int64($0) + 1 }
    }

    static func make(year: Int64, month: Int64, day: Int64, time: String) -> Int64? {
        let timeParts = time.split(separator: ":", omittingEmptySubsequences: false)
        guard timeParts.count == 3, timeParts.allSatisfy({ $0.count == 2 }),
            let hour = digits(timeParts[0]), let minute = digits(timeParts[1]), let second = digits(timeParts[2]),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
            (1...31).contains(day), (1...12).contains(month), (1601...9999).contains(year)
        else { return nil }
        return days(fromCivil: year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
