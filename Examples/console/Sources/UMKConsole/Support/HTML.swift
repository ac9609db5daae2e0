/// Text that is already HTML: built only by ``HTML/escape(_:)``, the page templates, or by
/// joining other `HTML` values, so that nothing a user typed reaches a page unescaped.
struct HTML: Sendable, ExpressibleByStringInterpolation {
  /// The markup.
  private(set) var markup: String

  init(unsafeMarkup markup: String) { self.markup = markup }

  init(stringLiteral value: String) { self.markup = value }

  init(stringInterpolation: Interpolation) { self.markup = stringInterpolation.markup }

  /// Interpolation that escapes plain values and inserts `HTML` values as they are.
  struct Interpolation: StringInterpolationProtocol {
    var markup = ""

    init(literalCapacity: Int, interpolationCount: Int) {
      markup.reserveCapacity(literalCapacity + interpolationCount * 16)
    }

    mutating func appendLiteral(_ literal: String) { markup += literal }

    mutating func appendInterpolation(_ html: HTML) { markup += html.markup }

    mutating func appendInterpolation(_ html: [HTML]) {
      for part in html { markup += part.markup }
    }

    mutating func appendInterpolation(_ text: String) { HTML.escape(text, into: &markup) }

    mutating func appendInterpolation(_ text: Substring) {
      HTML.escape(String(text), into: &markup)
    }

    mutating func appendInterpolation(_ number: Int) { markup += String(number) }
  }

  /// Escapes text for use in element content and in double- or single-quoted attribute values.
  ///
  /// - Parameter text: Any text.
  /// - Returns: The escaped text.
  static func escape(_ text: String) -> HTML {
    var markup = ""
    escape(text, into: &markup)
    return HTML(unsafeMarkup: markup)
  }

  static func escape(_ text: String, into markup: inout String) {
    // Most text needs no escaping; scan the bytes first.
    if !text.utf8.contains(where: {
      $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27
    }) {
      markup += text
      return
    }
    for scalar in text.unicodeScalars {
      switch scalar {
      case "&": markup += "&amp;"
      case "<": markup += "&lt;"
      case ">": markup += "&gt;"
      case "\"": markup += "&quot;"
      case "'": markup += "&#39;"
      default: markup.unicodeScalars.append(scalar)
      }
    }
  }

  /// Joins fragments.
  static func join(_ parts: some Sequence<HTML>) -> HTML {
    HTML(unsafeMarkup: parts.map(\.markup).joined())
  }

  /// ` selected` or ` checked` (or nothing) for an option or input.
  static func flag(_ name: String, _ on: Bool) -> HTML {
    on ? HTML(unsafeMarkup: " \(name)") : ""
  }
}
