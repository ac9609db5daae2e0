import Foundation
import PostgresNIO
import UserManagementKit

/// The credential part of a user record, kept in its own column so that profile reads never
/// fetch it.
struct StoredCredentials: Codable {
  var passwordHash: PasswordHash?
  var apiPasswordHash: PasswordHash?
  var security: AccountSecurity
}

/// The columns of one user row, computed in Swift before any lock is taken.
struct UserRow {
  var id: UUID
  var usernameKey: String
  var status: String
  var role: String
  var version: Int64
  var apiAccess: Bool
  var firstKey: String
  var lastKey: String
  var createdKey: String
  var search: String
  var profile: String
  var credentials: String

  init(_ record: UserRecord) throws(UserManagementError) {
    let user = record.user
    guard let version = Int64(exactly: user.version) else {
      throw UserManagementError(.invalidOperation, "The user's version is out of range.")
    }
    id = user.id.rawValue
    usernameKey = Keys.normalized(user.username.canonical)
    status = user.status.rawValue
    role = user.role.rawValue
    self.version = version
    apiAccess = user.apiAccessEnabled
    firstKey = Keys.normalized(UserSort(.firstName).position(of: user).primary)
    lastKey = Keys.normalized(UserSort(.lastName).position(of: user).primary)
    createdKey = UserSort(.createdAt).position(of: user).primary
    search = Keys.searchText(user)
    profile = try JSONText.encode(user)
    credentials = try JSONText.encode(
      StoredCredentials(
        passwordHash: record.passwordHash, apiPasswordHash: record.apiPasswordHash,
        security: record.security))
  }
}

/// Keys as the database compares them.
enum Keys {
  /// The NFC form of a key: Swift compares strings by canonical equivalence, the database
  /// (`COLLATE "C"`) by bytes, and the two agree on NFC text.
  static func normalized(_ key: String) -> String {
    key.precomposedStringWithCanonicalMapping
  }

  /// The text the trigram index searches: the lowercased names and username, one per line.
  static func searchText(_ user: User) -> String {
    [user.firstName.lowercased(), user.lastName.lowercased(), user.username.rawValue.lowercased()]
      .joined(separator: "\n")
  }

  /// A `LIKE` pattern that finds `needle` anywhere, with `LIKE`'s wildcards escaped.
  static func containsPattern(_ needle: String) -> String {
    var escaped = ""
    for character in needle {
      if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
      escaped.append(character)
    }
    return "%" + escaped + "%"
  }

  /// The database form of a principal (for the audit trail's `actor` column).
  static func principal(_ principal: Principal) -> String {
    normalized(principal.description)
  }
}

/// JSON text for the `json` columns. `json` keeps the text exactly as written, so every value
/// (dates included) reads back bit for bit.
enum JSONText {
  static func encode(_ value: some Encodable) throws(UserManagementError) -> String {
    do {
      let data = try JSONEncoder().encode(value)
      return String(decoding: data, as: UTF8.self)
    } catch {
      throw UserManagementError(
        .storageFailure, "A value could not be encoded for the PostgreSQL store.",
        underlyingError: error)
    }
  }

  static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws(UserManagementError)
    -> T
  {
    do {
      return try JSONDecoder().decode(type, from: Data(text.utf8))
    } catch {
      throw UserManagementError(
        .corruptStore, "A row of the PostgreSQL store could not be decoded.",
        underlyingError: error)
    }
  }

  static func record(profile: String, credentials: String) throws(UserManagementError)
    -> UserRecord
  {
    let user = try decode(User.self, profile)
    let stored = try decode(StoredCredentials.self, credentials)
    return UserRecord(
      user: user, passwordHash: stored.passwordHash, apiPasswordHash: stored.apiPasswordHash,
      security: stored.security)
  }
}

/// SQL text with numbered parameters, built piece by piece.
struct SQLBuilder {
  private(set) var sql = ""
  private(set) var bindings = PostgresBindings()
  private var count = 0

  init(_ sql: String = "") {
    self.sql = sql
  }

  mutating func append(_ text: String) {
    sql += text
  }

  /// Appends a parameter placeholder bound to `value`.
  mutating func bind(_ value: some PostgresEncodable & Sendable) throws(UserManagementError) {
    count += 1
    do {
      try bindings.append(value)
    } catch {
      throw UserManagementError(
        .storageFailure, "A value could not be bound for PostgreSQL.", underlyingError: error)
    }
    sql += "$\(count)"
  }

  var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: bindings) }
}
