/// A small RFC 4180 CSV reader: comma-separated fields, fields in double quotes that may hold
/// commas, line breaks and doubled quotes (`""` for `"`), and records ended by CRLF or LF.
///
/// It reads bytes, not text: a quoted field's line breaks are kept as they are, a leading
/// UTF-8 byte order mark is skipped, and a field that is not valid UTF-8 makes its record
/// malformed rather than being repaired.
enum CSV {
  /// One record and the line (from 1) on which it starts.
  struct Record: Hashable, Sendable {
    /// The line on which the record starts, from 1; a quoted field with line breaks makes the
    /// next record start further down.
    var line: Int
    /// The fields, unquoted.
    var fields: [String]
  }

  /// Where and why the reading stopped.
  struct Failure: Hashable, Sendable {
    /// The line of the record that could not be read, from 1.
    var line: Int
    /// What was wrong, in words that quote nothing from the file.
    var reason: String
  }

  /// The records read, and the failure that stopped the reading, if any: everything before it
  /// was read.
  struct Table: Hashable, Sendable {
    /// The records, in file order; blank lines are skipped.
    var records: [Record] = []
    /// The malformed record that stopped the reading.
    var failure: Failure?
  }

  private static let quote = UInt8(ascii: "\"")
  private static let comma = UInt8(ascii: ",")
  private static let lineFeed = UInt8(ascii: "\n")
  private static let carriageReturn = UInt8(ascii: "\r")

  /// Reads a whole file.
  ///
  /// - Parameter bytes: The file.
  /// - Returns: The records, and the failure, if any, that stopped the reading.
  static func read(_ bytes: [UInt8]) -> Table {
    var table = Table()
    var index = 0
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    var line = 1
    while index < bytes.count {
      // A blank line (LF or CRLF alone) is no record.
      if bytes[index] == lineFeed {
        index += 1
        line += 1
        continue
      }
      if bytes[index] == carriageReturn, index + 1 < bytes.count, bytes[index + 1] == lineFeed {
        index += 2
        line += 1
        continue
      }
      let start = line
      switch readRecord(bytes, from: &index, line: &line) {
      case .success(let fields):
        table.records.append(Record(line: start, fields: fields))
      case .failure(let failure):
        table.failure = Failure(line: start, reason: failure.reason)
        return table
      }
    }
    return table
  }

  private struct RecordError: Error {
    var reason: String
  }

  /// Reads one record from `index`, leaving `index` after its line break.
  private static func readRecord(_ bytes: [UInt8], from index: inout Int, line: inout Int)
    -> Result<[String], RecordError>
  {
    var fields: [String] = []
    while true {
      var field: [UInt8] = []
      if index < bytes.count, bytes[index] == quote {
        index += 1
        var closed = false
        while index < bytes.count {
          let byte = bytes[index]
          if byte == quote {
            if index + 1 < bytes.count, bytes[index + 1] == quote {
              field.append(quote)
              index += 2
              continue
            }
            index += 1
            closed = true
            break
          }
          if byte == lineFeed { line += 1 }
          field.append(byte)
          index += 1
        }
        guard closed else {
          return .failure(RecordError(reason: "a quoted field is never closed"))
        }
        if index < bytes.count, ![comma, lineFeed, carriageReturn].contains(bytes[index]) {
          return .failure(RecordError(reason: "text follows a closing quote"))
        }
      } else {
        while index < bytes.count, ![comma, lineFeed, carriageReturn].contains(bytes[index]) {
          if bytes[index] == quote {
            return .failure(RecordError(reason: "a quote inside an unquoted field"))
          }
          field.append(bytes[index])
          index += 1
        }
      }
      guard let text = String(validating: field, as: UTF8.self) else {
        return .failure(RecordError(reason: "a field is not valid UTF-8"))
      }
      fields.append(text)
      if index >= bytes.count { return .success(fields) }
      switch bytes[index] {
      case comma:
        index += 1
      case carriageReturn:
        guard index + 1 < bytes.count, bytes[index + 1] == lineFeed else {
          return .failure(RecordError(reason: "a carriage return without a line feed"))
        }
        index += 2
        line += 1
        return .success(fields)
      default:
        index += 1
        line += 1
        return .success(fields)
      }
    }
  }
}
