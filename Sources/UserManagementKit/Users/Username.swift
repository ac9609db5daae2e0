/// A user's login name: an e-mail address that never changes once the user exists.
///
/// A `Username` keeps the address exactly as it was typed (``rawValue``) and derives a
/// canonical comparison key (``canonical``) used for uniqueness and lookup, so
/// `Ada@Example.com` and `ada@example.com` name the same account.
///
/// Validation follows the WHATWG HTML Living Standard's definition of a *valid e-mail
/// address* (the rule browsers apply to `<input type=email>`): a local part of ASCII letters,
/// digits and the characters `! # $ % & ' * + / = ? ^ _ { | } ~ . -` and the backquote, an `@`,
/// and a domain of one or more dot-separated labels, each 1–63 letters, digits or hyphens that
/// neither begins nor ends with a hyphen. The whole address is limited to 254 characters
/// (RFC 5321's path limit less the brackets).
public struct Username: Hashable, Sendable, Codable, CustomStringConvertible {
  /// The address exactly as it was entered.
  public let rawValue: String

  /// The canonical comparison key: the address with ASCII letters lowercased.
  ///
  /// Canonicalization is idempotent: the canonical form of a canonical form is itself. It is
  /// computed once; for an address typed in lowercase it shares the raw value's storage.
  public let canonical: String

  /// The part before the `@`.
  public var localPart: Substring {
    let end = rawValue.utf8.lastIndex(of: UInt8(ascii: "@")) ?? rawValue.utf8.endIndex
    return rawValue[..<end]
  }

  /// The longest address accepted, in characters.
  public static let maximumLength = 254

  /// Validates and wraps an e-mail address.
  ///
  /// - Parameter rawValue: The address as entered.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/invalidUsername``
  ///   and a `reason` in its context when the address is not a valid e-mail address.
  public init(_ rawValue: String) throws(UserManagementError) {
    if let reason = Self.validationFailure(rawValue) {
      throw UserManagementError(
        .invalidUsername, "The username must be a valid e-mail address: \(reason.message).",
        context: ["field": "username", "reason": reason.code])
    }
    self.rawValue = rawValue
    self.canonical = Self.canonicalize(rawValue)
  }

  /// A username read back from storage the library wrote (and checksummed) after validating
  /// it: validation is not repeated.
  init(stored rawValue: String) {
    self.rawValue = rawValue
    self.canonical = Self.canonicalize(rawValue)
  }

  /// The address as entered.
  public var description: String { rawValue }

  /// Two usernames are equal when their canonical forms are.
  ///
  /// - Parameters:
  ///   - lhs: A username.
  ///   - rhs: Another username.
  /// - Returns: Whether both name the same account.
  public static func == (lhs: Username, rhs: Username) -> Bool {
    lhs.canonical == rhs.canonical
  }

  /// Hashes the canonical form.
  ///
  /// - Parameter hasher: The hasher.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(canonical)
  }

  /// Decodes and validates an address.
  ///
  /// - Parameter decoder: The decoder.
  /// - Throws: `DecodingError.dataCorrupted` when the address is invalid.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let string = try container.decode(String.self)
    do {
      try self.init(string)
    } catch {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
    }
  }

  /// Encodes the address as entered.
  ///
  /// - Parameter encoder: The encoder.
  /// - Throws: Errors from the encoder.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }

  /// The key to look up a username as typed at sign-in or in a search, or `nil` when no
  /// account can have it.
  ///
  /// Every stored username is ASCII, so a typed one with any other character names no
  /// account. Checking that here, on bytes, keeps lookups exact: Swift compares `String`s by
  /// Unicode canonical equivalence, under which `a\u{1FEF}b@example.com` (GREEK VARIA) equals
  /// the same address written with a backquote (U+0060), and a store keyed by `String` would
  /// find the account.
  ///
  /// - Parameter typed: The username as typed.
  /// - Returns: Its canonical key, or `nil` if it is not ASCII or longer than any username.
  static func lookupKey(_ typed: String) -> String? {
    guard typed.utf8.count <= maximumLength, typed.utf8.allSatisfy({ $0 < 0x80 }) else {
      return nil
    }
    return canonicalize(typed)
  }

  /// Returns the canonical comparison key of an address (ASCII letters lowercased).
  ///
  /// Valid addresses are ASCII-only, so this is a total, idempotent function on them; on
  /// other strings it lowercases ASCII letters and leaves everything else untouched.
  ///
  /// - Parameter address: Any string.
  /// - Returns: The canonical key.
  public static func canonicalize(_ address: String) -> String {
    // On the string's own bytes when it has them in one piece (every native string does):
    // opening a store canonicalizes every username it decodes.
    let isUppercase = { (byte: UInt8) in byte &- 0x41 < 26 }
    let needsWork =
      address.utf8.withContiguousStorageIfAvailable { $0.contains(where: isUppercase) }
      ?? address.utf8.contains(where: isUppercase)
    guard needsWork else { return address }
    return String(
      decoding: address.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
  }

  struct Failure {
    var code: String
    var message: String
  }

  static func validationFailure(_ address: String) -> Failure? {
    if let result = address.utf8.withContiguousStorageIfAvailable({ validationFailure(bytes: $0) })
    {
      return result
    }
    return Array(address.utf8).withUnsafeBufferPointer { validationFailure(bytes: $0) }
  }

  private static func validationFailure(bytes: UnsafeBufferPointer<UInt8>) -> Failure? {
    if bytes.isEmpty { return Failure(code: "empty", message: "it is empty") }
    if bytes.count > maximumLength {
      return Failure(code: "too_long", message: "it is longer than \(maximumLength) characters")
    }
    guard let at = bytes.lastIndex(of: UInt8(ascii: "@")) else {
      return Failure(code: "missing_at", message: "it has no '@'")
    }
    if bytes[..<at].contains(UInt8(ascii: "@")) {
      return Failure(code: "multiple_at", message: "it has more than one '@'")
    }
    if at == 0 {
      return Failure(code: "empty_local_part", message: "nothing comes before the '@'")
    }
    for byte in bytes[..<at] where !isLocalPartByte(byte) {
      return Failure(
        code: "invalid_local_part_character",
        message: "the part before the '@' contains a character that is not allowed")
    }
    if at + 1 == bytes.count {
      return Failure(code: "empty_domain", message: "nothing comes after the '@'")
    }
    // Walk the domain label by label without allocating.
    var labelStart = at + 1
    while true {
      var labelEnd = labelStart
      while labelEnd < bytes.count, bytes[labelEnd] != UInt8(ascii: ".") { labelEnd += 1 }
      let length = labelEnd - labelStart
      if length == 0 {
        return Failure(code: "empty_domain_label", message: "the domain has an empty label")
      }
      if length > 63 {
        return Failure(
          code: "domain_label_too_long",
          message: "a domain label is longer than 63 characters")
      }
      for byte in bytes[labelStart..<labelEnd]
      where !isAlphanumeric(byte) && byte != UInt8(ascii: "-") {
        return Failure(
          code: "invalid_domain_character",
          message: "the domain contains a character that is not a letter, digit, '-' or '.'")
      }
      if bytes[labelStart] == UInt8(ascii: "-") || bytes[labelEnd - 1] == UInt8(ascii: "-") {
        return Failure(
          code: "domain_label_hyphen",
          message: "a domain label begins or ends with '-'")
      }
      if labelEnd == bytes.count { return nil }
      labelStart = labelEnd + 1
    }
  }

  private static func isAlphanumeric(_ byte: UInt8) -> Bool {
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
      || (byte >= 0x61 && byte <= 0x7A)
  }

  private static func isLocalPartByte(_ byte: UInt8) -> Bool {
    if isAlphanumeric(byte) { return true }
    switch byte {
    case UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"),
      UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"),
      UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="), UInt8(ascii: "?"),
      UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "{"),
      UInt8(ascii: "|"), UInt8(ascii: "}"), UInt8(ascii: "~"), UInt8(ascii: "-"):
      return true
    default:
      return false
    }
  }
}
