#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

extension MigrationReader {
  /// ASP.NET Core Identity: the `AspNetUsers` table as RFC 4180 CSV with a header row
  /// (`Id,UserName,NormalizedUserName,Email,…,PasswordHash,…,LockoutEnd,LockoutEnabled,…`);
  /// columns are found by name, in any order and case; positions are lines.
  ///
  /// Username: `Email` when it is a valid address, else `UserName` when it is one. Identity
  /// has no name columns; `FirstName` and `LastName` columns, which many applications add, are
  /// read when present, and so is a `Roles` column (role names separated by `;` or `,`, as a
  /// join with `AspNetUserRoles` and `AspNetRoles` writes them). An account is disabled when
  /// `LockoutEnabled` is true and `LockoutEnd` is later than ``MigrationOptions/now``
  /// (`2030-01-01 00:00:00.0000000 +00:00`, ISO 8601 with `T`, or without an offset for UTC).
  /// Empty and `NULL` values are absent. `PasswordHash` is kept as Identity wrote it (its
  /// version 2 or 3 base64 blob).
  static func readASPNet(_ bytes: [UInt8], into context: inout ReadingContext) {
    let table = CSV.read(bytes)
    guard let header = table.records.first else {
      if let failure = table.failure {
        context.issue(
          failure.line, invalid("csv", "invalid_csv", "The CSV is malformed: \(failure.reason)."))
      } else {
        context.issue(1, invalid("csv", "missing_header", "The CSV has no header row."))
      }
      return
    }
    var columns: [String: Int] = [:]
    for (index, name) in header.fields.enumerated() {
      columns[name.trimmingWhitespace().lowercased()] = index
    }
    guard columns["email"] != nil || columns["username"] != nil else {
      context.issue(
        header.line,
        invalid(
          "csv", "missing_header", "The header row names neither \"Email\" nor \"UserName\"."))
      return
    }
    let now = context.options.now ?? Date()
    for row in table.records.dropFirst() {
      func value(_ column: String) -> String? {
        guard let index = columns[column], row.fields.indices.contains(index) else { return nil }
        let text = row.fields[index]
        return text.isEmpty || text == "NULL" ? nil : text
      }
      guard row.fields.count == header.fields.count else {
        context.issue(
          row.line,
          invalid(
            "csv", "invalid_csv",
            "The record has \(row.fields.count) fields; the header has \(header.fields.count)."))
        continue
      }
      var record = SourceRecord(position: row.line)
      record.usernames = [("Email", value("email")), ("UserName", value("username"))]
      record.firstName = value("firstname")
      record.lastName = value("lastname")
      record.roles = (value("roles") ?? "").split(whereSeparator: { $0 == ";" || $0 == "," })
        .map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
      if let end = value("lockoutend"), value("lockoutenabled")?.lowercased() != "false",
        value("lockoutenabled") != "0"
      {
        guard let seconds = Self.secondsSince1970(end) else {
          context.issue(
            row.line,
            invalid("LockoutEnd", "invalid_value", "\"LockoutEnd\" is not a date and time."))
          continue
        }
        record.disabled = seconds > now.timeIntervalSince1970
      }
      if let hash = value("passwordhash") {
        record.passwordHash = PasswordHash(encoded: hash)
        switch decodeBase64(hash)?.first {
        case 0x00: record.format = "aspnet-identity-v2"
        case 0x01: record.format = "aspnet-identity-v3"
        default: record.format = "unknown"
        }
      }
      context.finish(record)
    }
    if let failure = table.failure {
      context.issue(
        failure.line, invalid("csv", "invalid_csv", "The CSV is malformed: \(failure.reason)."))
    }
  }

  /// Reads `YYYY-MM-DD[ T]hh:mm:ss[.fraction][ ][Z|±hh:mm]` as seconds since 1970 (UTC when
  /// there is no offset), or `nil`.
  static func secondsSince1970(_ text: String) -> Double? {
    let bytes = Array(text.utf8)
    guard bytes.count >= 19, bytes.count <= 40 else { return nil }
    func number(_ range: Range<Int>) -> Int? {
      guard range.upperBound <= bytes.count else { return nil }
      var value = 0
      for byte in bytes[range] {
        guard byte >= 0x30, byte <= 0x39 else { return nil }
        value = value * 10 + Int(byte - 0x30)
      }
      return value
    }
    guard let year = number(0..<4), bytes[4] == 0x2D, let month = number(5..<7),
      bytes[7] == 0x2D, let day = number(8..<10), bytes[10] == 0x20 || bytes[10] == 0x54,
      let hour = number(11..<13), bytes[13] == 0x3A, let minute = number(14..<16),
      bytes[16] == 0x3A, let second = number(17..<19),
      (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
    else { return nil }
    var index = 19
    var fraction = 0.0
    if index < bytes.count, bytes[index] == 0x2E {
      index += 1
      var scale = 0.1
      let start = index
      while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
        fraction += Double(bytes[index] - 0x30) * scale
        scale /= 10
        index += 1
      }
      guard index > start else { return nil }
    }
    if index < bytes.count, bytes[index] == 0x20 { index += 1 }
    var offset = 0
    if index < bytes.count {
      if bytes[index] == 0x5A, index + 1 == bytes.count {
        offset = 0
      } else if bytes[index] == 0x2B || bytes[index] == 0x2D, index + 6 == bytes.count,
        let hours = number(index + 1..<index + 3), bytes[index + 3] == 0x3A,
        let minutes = number(index + 4..<index + 6), hours < 24, minutes < 60
      {
        offset = (hours * 60 + minutes) * 60 * (bytes[index] == 0x2D ? -1 : 1)
      } else {
        return nil
      }
    }
    // Days from 1970-01-01 in the proleptic Gregorian calendar.
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    let days = era * 146_097 + dayOfEra - 719_468
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset
    return Double(seconds) + fraction
  }
}
