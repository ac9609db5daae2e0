#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// A user in a portable form, for moving users between directories: what
/// ``UserDirectory/importUsers(_:dryRun:by:)`` reads and
/// ``UserDirectory/exportUsers(includingPasswordHashes:by:)`` writes.
///
/// Policies are named rather than identified, so a file exported from one directory imports
/// into another that has policies of the same names. The password hash, when present, is kept
/// as it is: a host migrating from another system brings its users' existing hashes in any
/// format the directory's hasher verifies (see the Migrating Password Hashes guide), and the
/// users sign in with their existing passwords; the hash is upgraded at their first sign-in.
///
/// Its JSON form is one object per user, and a file of users is JSON Lines (one object per
/// line), read and written by ``decodeJSONLines(from:)`` and ``encodeJSONLines(_:)``:
///
/// ```json
/// {"username":"ada@example.com","firstName":"Ada","lastName":"Lovelace","status":"active",
///  "role":"general","policies":["Readers"],"apiAccess":false,"passwordHash":"$argon2id$…"}
/// ```
///
/// `username`, `firstName` and `lastName` are required; `status` (default `active`), `role`
/// (`admin` or `general`, default `general`), `policies` (default none), `apiAccess` (default
/// `false`) and `passwordHash` are optional. Decoding is strict: an unknown field, a value of
/// the wrong type or an unknown status or role is refused rather than ignored, so a typo in an
/// export never silently drops a setting.
public struct PortableUser: Hashable, Sendable, Codable {
  /// The username: an e-mail address.
  public var username: String
  /// The first name.
  public var firstName: String
  /// The last name.
  public var lastName: String
  /// Active or inactive.
  public var status: UserStatus
  /// Admin or General User.
  public var role: Role
  /// The names of a General User's policies (matched case-insensitively); empty for an
  /// administrator.
  public var policies: [String]
  /// Whether direct API access is enabled. (API passwords are never exported or imported:
  /// issue new ones after a migration.)
  public var apiAccessEnabled: Bool
  /// The login password hash, or `nil` for a user without a password, who cannot sign in
  /// until an administrator sets one.
  public var passwordHash: PasswordHash?

  /// Describes a user.
  ///
  /// - Parameters:
  ///   - username: The e-mail address.
  ///   - firstName: The first name.
  ///   - lastName: The last name.
  ///   - status: The status (default active).
  ///   - role: The role (default General User).
  ///   - policies: The names of a General User's policies.
  ///   - apiAccessEnabled: Whether direct API access is enabled.
  ///   - passwordHash: The login password hash, if any.
  public init(
    username: String, firstName: String, lastName: String, status: UserStatus = .active,
    role: Role = .generalUser, policies: [String] = [], apiAccessEnabled: Bool = false,
    passwordHash: PasswordHash? = nil
  ) {
    self.username = username
    self.firstName = firstName
    self.lastName = lastName
    self.status = status
    self.role = role
    self.policies = policies
    self.apiAccessEnabled = apiAccessEnabled
    self.passwordHash = passwordHash
  }
}

// MARK: - JSON

extension PortableUser {
  /// The JSON field names, in the order they are written.
  enum CodingKeys: String, CodingKey, CaseIterable {
    case username, firstName, lastName, status, role, policies
    case apiAccessEnabled = "apiAccess"
    case passwordHash
  }

  /// The `debugDescription` by which ``init(from:)`` marks an unknown field.
  private static let unknownField = "unknown field"

  /// A key that accepts any name, to find fields this type does not know.
  private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  /// Decodes a user strictly: required fields present, no unknown field, known status and role.
  ///
  /// - Parameter decoder: The decoder.
  /// - Throws: `DecodingError` naming the field; ``init(jsonLine:)`` turns it into a
  ///   ``UserManagementError``.
  public init(from decoder: any Decoder) throws {
    let all = try decoder.container(keyedBy: AnyKey.self)
    let known = Set(CodingKeys.allCases.map(\.stringValue))
    if let unknown = all.allKeys.map(\.stringValue).filter({ !known.contains($0) }).sorted()
      .first
    {
      throw DecodingError.dataCorrupted(
        DecodingError.Context(
          codingPath: [AnyKey(stringValue: unknown)], debugDescription: Self.unknownField))
    }
    let container = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      username: try container.decode(String.self, forKey: .username),
      firstName: try container.decode(String.self, forKey: .firstName),
      lastName: try container.decode(String.self, forKey: .lastName),
      status: try container.decodeIfPresent(UserStatus.self, forKey: .status) ?? .active,
      role: try container.decodeIfPresent(Role.self, forKey: .role) ?? .generalUser,
      policies: try container.decodeIfPresent([String].self, forKey: .policies) ?? [],
      apiAccessEnabled: try container.decodeIfPresent(Bool.self, forKey: .apiAccessEnabled)
        ?? false,
      passwordHash: try container.decodeIfPresent(PasswordHash.self, forKey: .passwordHash))
  }

  /// Encodes every field; `passwordHash` only when present.
  ///
  /// - Parameter encoder: The encoder.
  /// - Throws: Errors from the encoder.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(username, forKey: .username)
    try container.encode(firstName, forKey: .firstName)
    try container.encode(lastName, forKey: .lastName)
    try container.encode(status, forKey: .status)
    try container.encode(role, forKey: .role)
    try container.encode(policies, forKey: .policies)
    try container.encode(apiAccessEnabled, forKey: .apiAccessEnabled)
    try container.encodeIfPresent(passwordHash, forKey: .passwordHash)
  }

  /// Reads one user from one line of JSON.
  ///
  /// - Parameter jsonLine: One UTF-8 JSON object.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/invalidField``:
  ///   its ``UserManagementError/field`` names the field concerned and its
  ///   ``UserManagementError/reason`` is `invalid_json`, `missing_field`, `unknown_field` or
  ///   `invalid_value`.
  public init(jsonLine: some Collection<UInt8>) throws(UserManagementError) {
    do {
      self = try JSONDecoder().decode(PortableUser.self, from: Data(jsonLine))
    } catch let error as DecodingError {
      throw Self.issue(error)
    } catch {
      throw .invalidField("user", "invalid_json", "The line is not a JSON object.")
    }
  }

  /// The user as one line of JSON (no line break), in the form ``init(jsonLine:)`` reads.
  public var jsonLine: [UInt8] {
    let encoder = JSONEncoder()
    // Sorted keys: the same user always encodes to the same bytes (a keyed container's
    // order is not stable from one process to the next).
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Strings, booleans and arrays of strings always encode.
    return (try? Array(encoder.encode(self))) ?? []
  }

  /// One line of a JSON Lines file that could not be read.
  public struct LineIssue: Hashable, Sendable, CustomStringConvertible {
    /// The line's number, from 1.
    public let line: Int
    /// Why it was refused (see ``PortableUser/init(jsonLine:)``).
    public let error: UserManagementError

    /// `line <n>: <code>: <message>`.
    public var description: String { "line \(line): \(error)" }
  }

  /// The users of a JSON Lines file, and the lines that could not be read.
  public struct DecodedLines: Sendable {
    /// The users read, in file order.
    public var users: [PortableUser] = []
    /// The line number (from 1) of each user in ``users``.
    public var lineNumbers: [Int] = []
    /// The lines that could not be read, in file order.
    public var issues: [LineIssue] = []
    /// The lines that were not blank.
    public var nonBlankLineCount = 0
  }

  /// Reads users from JSON Lines: one object per line; blank lines are skipped.
  ///
  /// Every line is read, so that every problem can be reported at once.
  ///
  /// - Parameter bytes: UTF-8 JSON Lines.
  /// - Returns: The users and the refused lines.
  public static func decodeJSONLines(from bytes: some Collection<UInt8>) -> DecodedLines {
    var decoded = DecodedLines()
    var lineNumber = 0
    for line in Array(bytes).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    {
      lineNumber += 1
      if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
      decoded.nonBlankLineCount += 1
      do {
        decoded.users.append(try PortableUser(jsonLine: line))
        decoded.lineNumbers.append(lineNumber)
      } catch {
        decoded.issues.append(LineIssue(line: lineNumber, error: error))
      }
    }
    return decoded
  }

  /// Writes users as JSON Lines, one object per line, each line ending in a line break.
  ///
  /// - Parameter users: The users.
  /// - Returns: UTF-8 JSON Lines.
  public static func encodeJSONLines(_ users: [PortableUser]) -> [UInt8] {
    var bytes: [UInt8] = []
    for user in users {
      bytes += user.jsonLine
      bytes.append(UInt8(ascii: "\n"))
    }
    return bytes
  }

  private static func issue(_ error: DecodingError) -> UserManagementError {
    switch error {
    case .keyNotFound(let key, _):
      return .invalidField(
        key.stringValue, "missing_field", "\"\(key.stringValue)\" is required.")
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
      guard let field = context.codingPath.first?.stringValue else {
        return .invalidField("user", "invalid_json", "The line is not a JSON object.")
      }
      return .invalidField(
        DisplayText.quoted(field), "invalid_value",
        "\"\(DisplayText.quoted(field))\" has the wrong type.")
    case .dataCorrupted(let context):
      guard let field = context.codingPath.first?.stringValue else {
        return .invalidField("user", "invalid_json", "The line is not a JSON object.")
      }
      if context.debugDescription == unknownField {
        let shown = DisplayText.quoted(field)
        return .invalidField(shown, "unknown_field", "Unknown field \"\(shown)\".")
      }
      return .invalidField(field, "invalid_value", Self.valueMessage(field))
    @unknown default:
      return .invalidField("user", "invalid_json", "The line is not a JSON object.")
    }
  }

  private static func valueMessage(_ field: String) -> String {
    switch field {
    case CodingKeys.status.stringValue: "\"status\" must be \"active\" or \"inactive\"."
    case CodingKeys.role.stringValue: "\"role\" must be \"admin\" or \"general\"."
    default: "\"\(DisplayText.quoted(field))\" has an invalid value."
    }
  }
}
