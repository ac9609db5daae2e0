/// Text from a request, made safe to quote in an error message: messages are shown to people
/// and written to logs, so text that no validation has bounded yet must neither forge a line,
/// move a terminal's cursor, nor make a message as large as the request.
enum DisplayText {
  /// The most characters of a quoted value; longer values end in `…`.
  static let maximumQuotedCharacters = 64

  /// `text` with control, format and line-separator characters escaped as `\u{…}`, cut to
  /// ``maximumQuotedCharacters`` characters.
  static func quoted(_ text: String) -> String {
    var result = ""
    var characters = 0
    for character in text {
      if characters == maximumQuotedCharacters {
        result += "…"
        break
      }
      characters += 1
      for scalar in character.unicodeScalars {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse,
          .unassigned:
          result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        default:
          result.unicodeScalars.append(scalar)
        }
      }
    }
    return result
  }
}
