/// Validation of first and last names.
///
/// Names end up in logs, audit trails and user interfaces, so they are trimmed of surrounding
/// whitespace, must be 1–100 characters long (counted as user-perceived characters) and at
/// most 400 bytes of UTF-8 (so a character cannot smuggle in thousands of combining marks), and
/// may not contain control characters (including line breaks and tabs), Unicode format characters
/// such as bidirectional overrides, or unassigned and private-use code points.
public enum PersonName {
  /// The longest name accepted, in characters.
  public static let maximumLength = 100
  /// The longest name accepted, in bytes of UTF-8: four per character on average, enough for
  /// any script, and a bound on what one name adds to every audit event that records it.
  public static let maximumBytes = 400

  /// Trims and validates a name.
  ///
  /// - Parameters:
  ///   - value: The name as entered.
  ///   - field: The field's name, used in the error (`"firstName"` or `"lastName"`).
  /// - Returns: The trimmed name.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/invalidField``
  ///   naming the field and the reason (`empty`, `too_long` or `control_character`).
  public static func validate(_ value: String, field: String) throws(UserManagementError)
    -> String
  {
    // Fast path: printable ASCII with no surrounding spaces needs no Unicode lookups.
    if let first = value.utf8.first, let last = value.utf8.last, first != 0x20, last != 0x20,
      value.utf8.count <= maximumLength,
      value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
    {
      return value
    }
    let trimmed = value.trimmingWhitespace()
    if trimmed.isEmpty {
      throw .invalidField(field, "empty", "\(field) must not be empty.")
    }
    if trimmed.utf8.count > maximumBytes || trimmed.count > maximumLength {
      throw .invalidField(
        field, "too_long",
        "\(field) must be at most \(maximumLength) characters (\(maximumBytes) bytes).")
    }
    for scalar in trimmed.unicodeScalars where isForbidden(scalar) {
      throw .invalidField(
        field, "control_character",
        "\(field) must not contain control or formatting characters.")
    }
    return trimmed
  }

  private static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator,
      .paragraphSeparator:
      return true
    default:
      return false
    }
  }
}

extension String {
  func trimmingWhitespace() -> String {
    let scalars = unicodeScalars
    guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else {
      return ""
    }
    guard let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else {
      return ""
    }
    return String(scalars[first...last])
  }
}
