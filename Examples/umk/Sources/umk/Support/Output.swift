import Foundation
import UserManagementKit

/// Writes results to standard output and failures to standard error.
enum Output {
  /// The encoder of every JSON document `umk` prints: compact, keys sorted (so documents are
  /// the same from run to run: `JSONEncoder` keeps no declaration order), slashes unescaped.
  static func encoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }

  /// Prints a line to standard output.
  ///
  /// - Parameter text: The line, without its line break.
  static func line(_ text: String) {
    print(text)
  }

  /// Prints a line that carries stored data (policy descriptions, audit values, names) with
  /// every control, format and line-separator character escaped as `\u{…}` (a line break as
  /// `\n`), so that stored text can never forge another line or move the terminal's cursor.
  /// JSON output needs no such care: its encoder escapes control characters.
  ///
  /// - Parameter text: The line, without its line break.
  static func dataLine(_ text: String) {
    line(escapingControlCharacters(text))
  }

  /// `text` with control (C0, DEL, C1), format (such as bidirectional overrides) and line or
  /// paragraph separator characters escaped, and backslashes doubled.
  ///
  /// - Parameter text: Any text.
  /// - Returns: Text that prints as one line and moves no cursor.
  static func escapingControlCharacters(_ text: String) -> String {
    var result = ""
    result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
    for scalar in text.unicodeScalars {
      switch scalar.properties.generalCategory {
      case .control, .format, .lineSeparator, .paragraphSeparator:
        switch scalar {
        case "\n": result += "\\n"
        case "\t": result += "\\t"
        case "\r": result += "\\r"
        default: result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        }
      default:
        // A backslash is doubled, so that an escape in the output always means an escaped
        // character and never stored text that looks like one.
        if scalar == "\\" { result += "\\" }
        result.unicodeScalars.append(scalar)
      }
    }
    return result
  }

  /// Prints one JSON document, on one line, to standard output.
  ///
  /// - Parameter value: The document.
  static func document(_ value: some Encodable) {
    // The documents hold only strings, integers, booleans, arrays and objects, which always
    // encode.
    guard let data = try? encoder().encode(value) else {
      error("umk: error: the output could not be encoded")
      return
    }
    line(String(decoding: data, as: UTF8.self))
  }

  /// Writes bytes to standard output as they are.
  ///
  /// - Parameter bytes: The bytes.
  static func raw(_ bytes: [UInt8]) {
    FileHandle.standardOutput.write(Data(bytes))
  }

  /// Writes a line to standard error.
  ///
  /// - Parameter text: The line, without its line break.
  static func error(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
  }

  /// Reports a failure on standard error: `{"error":{…}}` with `--json`, else
  /// `umk: error: MESSAGE [CODE]` (after one `line N: CODE: MESSAGE` per import problem, or
  /// `record N: …` and `password line N: …` for another system's export).
  ///
  /// - Parameters:
  ///   - failure: The failure.
  ///   - json: Whether `--json` was given.
  static func report(_ failure: Failure, json: Bool) {
    guard json else {
      // Messages may quote what a request or an input file held: escaped like stored data.
      for problem in failure.details {
        error(
          "\(problem.kind.rawValue) \(problem.line): \(problem.error.code): "
            + escapingControlCharacters(problem.error.message))
      }
      error("umk: error: \(escapingControlCharacters(failure.message)) [\(failure.code)]")
      return
    }
    guard let data = try? encoder().encode(ErrorOutput(failure)) else { return }
    error(String(decoding: data, as: UTF8.self))
  }

  /// An ISO 8601 timestamp in UTC with milliseconds.
  ///
  /// - Parameter date: The time.
  /// - Returns: Such as `2026-11-29T21:20:03.114Z`.
  static func timestamp(_ date: Date) -> String {
    date.formatted(
      Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
  }
}
