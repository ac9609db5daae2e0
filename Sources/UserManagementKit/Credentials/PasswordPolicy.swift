/// The rules a new password must satisfy, after NIST SP 800-63B.
///
/// Defaults: at least 15 code points (``multiFactor`` lowers this to 8 for hosts where the
/// password is one of several factors), at most 64 code points and 4096 bytes, no composition
/// rules, not on the blocklist of common passwords (compared case-insensitively), and not
/// equal to or containing the username or its local part. Lengths are counted after Unicode
/// NFC normalization.
public struct PasswordPolicy: Hashable, Sendable {
  /// The fewest code points accepted.
  public var minimumLength: Int
  /// The most code points accepted (at least 64, as NIST asks verifiers to allow).
  public var maximumLength: Int
  /// The most UTF-8 bytes accepted, a guard against denial of service through huge inputs.
  public var maximumBytes: Int
  /// Passwords refused because attackers try them first.
  public var blocklist: PasswordBlocklist
  /// Whether a password may not equal or contain the username or its local part.
  public var rejectsUsername: Bool

  /// Creates a policy.
  ///
  /// - Parameters:
  ///   - minimumLength: The fewest code points (default 15).
  ///   - maximumLength: The most code points (default 64; values below 64 are raised to 64).
  ///   - maximumBytes: The most UTF-8 bytes (default 4096).
  ///   - blocklist: The blocked passwords.
  ///   - rejectsUsername: Whether to refuse passwords containing the username.
  public init(
    minimumLength: Int = 15, maximumLength: Int = 64, maximumBytes: Int = 4096,
    blocklist: PasswordBlocklist = .common, rejectsUsername: Bool = true
  ) {
    self.minimumLength = max(1, minimumLength)
    self.maximumLength = max(64, maximumLength, self.minimumLength)
    self.maximumBytes = max(maximumBytes, 256)
    self.blocklist = blocklist
    self.rejectsUsername = rejectsUsername
  }

  /// The policy for hosts where the password is one factor of several: minimum 8.
  public static let multiFactor = PasswordPolicy(minimumLength: 8)

  /// Why a password was refused.
  public struct Violation: Hashable, Sendable, CustomStringConvertible {
    /// The stable, machine-readable reason, such as `too_short`.
    public let code: String
    /// A human explanation.
    public let message: String

    /// The explanation.
    public var description: String { message }
  }

  /// Lists every rule `password` breaks.
  ///
  /// - Parameters:
  ///   - password: The candidate password.
  ///   - username: The account's username, for the containment rule.
  /// - Returns: The violations; empty when the password is acceptable.
  public func violations(of password: Secret, username: Username?) -> [Violation] {
    var found: [Violation] = []
    if password.byteCount > maximumBytes {
      return [
        Violation(
          code: "too_many_bytes", message: "The password must be at most \(maximumBytes) bytes.")
      ]
    }
    // ASCII passwords (the common case) are already in NFC and lowercase byte by byte;
    // others go through Unicode normalization and case mapping.
    let isASCII = password.withUnsafeBytes { bytes in bytes.allSatisfy { $0 < 0x80 } }
    var lowered: [UInt8]
    let length: Int
    if isASCII {
      length = password.byteCount
      lowered = password.withUnsafeBytes { bytes in
        bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
      }
    } else {
      let normalized = password.nfcNormalized()
      length = normalized.codePointCount
      guard let text = normalized.withText({ Array($0.lowercased().utf8) }) else {
        return [
          Violation(code: "invalid_utf8", message: "The password must be valid UTF-8 text.")
        ]
      }
      lowered = text
    }
    defer { Platform.secureZero(bytes: &lowered) }
    if length < minimumLength {
      found.append(
        Violation(
          code: "too_short",
          message: "The password must be at least \(minimumLength) characters long."))
    }
    if length > maximumLength {
      found.append(
        Violation(
          code: "too_long", message: "The password must be at most \(maximumLength) characters."))
    }
    if !lowered.isEmpty, blocklist.blocks(loweredBytes: lowered) {
      found.append(
        Violation(
          code: "common_password",
          message: "The password is too common; choose one that is harder to guess."))
    }
    if rejectsUsername, let username, !lowered.isEmpty {
      // Usernames are ASCII, so their lowercase form is a byte-wise fold.
      let full = Array(username.canonical.utf8)
      let local = Array(Username.canonicalize(String(username.localPart)).utf8)
      if ByteSearch.contains(lowered, full)
        || (local.count >= 3 && ByteSearch.contains(lowered, local))
      {
        found.append(
          Violation(
            code: "contains_username", message: "The password must not contain the username."))
      }
    }
    return found
  }

  /// Throws when `password` breaks a rule.
  ///
  /// - Parameters:
  ///   - password: The candidate password.
  ///   - username: The account's username.
  ///   - field: The request field, for the error (`password` or `apiPassword`).
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/weakPassword``,
  ///   whose `context["reasons"]` lists the violation codes separated by commas.
  public func validate(_ password: Secret, username: Username?, field: String = "password")
    throws(UserManagementError)
  {
    let violations = violations(of: password, username: username)
    guard violations.isEmpty else {
      throw UserManagementError(
        .weakPassword, violations.map(\.message).joined(separator: " "),
        context: ["field": field, "reasons": violations.map(\.code).joined(separator: ",")])
    }
  }
}

/// A set of passwords that are refused because they are common.
public struct PasswordBlocklist: Hashable, Sendable {
  /// The entries' lowercased UTF-8 bytes: a password is looked up as bytes the policy owns
  /// and erases, never as a `String` copy.
  private let entries: Set<[UInt8]>
  private let longestEntryByteCount: Int

  /// Creates a blocklist. Entries are compared with the lowercased password.
  ///
  /// - Parameter entries: The blocked passwords.
  public init(_ entries: some Sequence<String>) {
    self.entries = Set(entries.map { Array($0.lowercased().utf8) })
    longestEntryByteCount = self.entries.map(\.count).max() ?? 0
  }

  func contains(loweredBytes: some Collection<UInt8>) -> Bool {
    guard !loweredBytes.isEmpty, loweredBytes.count <= longestEntryByteCount else { return false }
    var key = Array(loweredBytes)
    defer { Platform.secureZero(bytes: &key) }
    return entries.contains(key)
  }

  /// The separators a phrase is folded on: space, tab and common punctuation between words.
  private static func isSeparator(_ byte: UInt8) -> Bool {
    switch byte {
    case 0x20, 0x09, UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
      UInt8(ascii: ","), UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "\\"),
      UInt8(ascii: "|"), UInt8(ascii: ":"), UInt8(ascii: ";"):
      true
    default: false
    }
  }

  /// Whether a lowercased password is refused: it is on the list as typed; or folded (its
  /// separators removed, `correct-horse battery_staple`), it is on the list; or the folded
  /// form repeats one unit that is (`password password password`); or it is two words that
  /// both are (`qwertyuiop asdfghjkl`, the combination a guesser tries first).
  func blocks(loweredBytes lowered: [UInt8]) -> Bool {
    if contains(loweredBytes: lowered) { return true }
    var folded = lowered.filter { !Self.isSeparator($0) }
    defer { Platform.secureZero(bytes: &folded) }
    if folded.count != lowered.count, contains(loweredBytes: folded) { return true }
    if let unit = Self.repeatedUnit(folded), contains(loweredBytes: folded[..<unit]) {
      return true
    }
    let words = lowered.split(whereSeparator: Self.isSeparator)
    return words.count == 2 && words.allSatisfy { contains(loweredBytes: $0) }
  }

  /// The length of the shortest unit that `bytes` repeats at least twice, if any.
  private static func repeatedUnit(_ bytes: [UInt8]) -> Int? {
    guard bytes.count >= 2 else { return nil }
    for length in 1...(bytes.count / 2) where bytes.count % length == 0 {
      var repeats = true
      for index in length..<bytes.count where bytes[index] != bytes[index - length] {
        repeats = false
        break
      }
      if repeats { return length }
    }
    return nil
  }

  /// Whether the lowercased password is blocked.
  ///
  /// - Parameter loweredPassword: The password, lowercased.
  /// - Returns: Whether it is on the list.
  public func contains(_ loweredPassword: String) -> Bool {
    entries.contains(Array(loweredPassword.utf8))
  }

  /// The number of entries.
  public var count: Int { entries.count }

  /// No entries.
  public static let empty = PasswordBlocklist([String]())

  /// The 10,000 most common passwords (from zxcvbn's frequency list, derived from Mark
  /// Burnett's corpus of 10 million leaked passwords; MIT licence, see
  /// `THIRD-PARTY-NOTICES.md`), plus well-known long phrases that a 15-character minimum does
  /// not already exclude. Parsed once, on first use.
  public static let common = PasswordBlocklist(
    CommonPasswordList.text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
      + CommonPasswords.list)
}

/// Frequent passwords and phrases of our own collection, mostly longer than the entries of the
/// frequency list.
enum CommonPasswords {
  static let list: [String] = [
    "123456", "password", "123456789", "12345678", "12345", "qwerty", "1234567", "111111",
    "1234567890", "123123", "abc123", "1234", "password1", "iloveyou", "1q2w3e4r", "000000",
    "qwerty123", "zaq12wsx", "dragon", "sunshine", "princess", "letmein", "654321", "monkey",
    "27653", "1qaz2wsx", "123321", "qwertyuiop", "superman", "asdfghjkl", "trustno1",
    "football", "baseball", "welcome", "admin", "admin123", "passw0rd", "master", "shadow",
    "michael", "jennifer", "hunter2", "whatever", "starwars", "freedom", "login", "solo",
    "qazwsx", "mustang", "access", "flower", "hello123", "charlie", "donald", "password123",
    "password1234", "qwerty12345", "1q2w3e4r5t", "1q2w3e4r5t6y", "q1w2e3r4t5y6",
    "123qwe", "zxcvbnm", "zxcvbnm123", "asdf1234", "asdfasdf", "aa123456", "987654321",
    "11111111", "123456a", "a123456", "7777777", "888888", "121212", "666666", "987654",
    "changeme", "letmein123", "welcome1", "welcome123", "iloveyou123", "p@ssw0rd",
    "p@ssword", "passw0rd123", "qwertyuiop123", "1234567890123", "123456789012345",
    "1234567890abcdef", "abcdefghijklmno", "abcdefghijklmnop", "passwordpassword",
    "qwertyqwertyqwerty", "qwertyuiopasdfgh", "123123123123123", "111111111111111",
    "000000000000000", "aaaaaaaaaaaaaaa", "correcthorsebatterystaple", "iloveyouiloveyou",
    "mypasswordismypassword", "thisismypassword", "passwordisnotsecure", "letmeinletmein",
    "administrator", "administrator123", "qwerty123456789", "1qaz2wsx3edc4rfv",
    "zaq1zaq1zaq1zaq1", "password12345678", "welcomewelcome", "trustno1trustno1",
  ]
}
