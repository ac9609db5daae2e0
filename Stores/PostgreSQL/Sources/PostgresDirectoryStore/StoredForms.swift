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
///
/// The profile is stored column by column (not as one JSON document), so that reading a user
/// costs a few fixed-size fields and strings in PostgreSQL's binary format rather than a JSON
/// parse.
struct UserRow: Sendable {
  var id: UUID
  var usernameKey: String
  var username: String
  var firstName: String
  var lastName: String
  var status: String
  var role: String
  /// The policy ids, comma-separated (arrays of arrays do not survive `unnest`).
  var policies: String
  var apiAccess: Bool
  var hasAPIPassword: Bool
  var hasPassword: Bool
  var mustChangePassword: Bool
  var emailVerified: Bool
  var hasSecondFactor: Bool
  var version: Int64
  var securityStamp: String
  var createdAt: Double
  var updatedAt: Double
  /// `user` or `system`, with `createdBy` holding the user id or the system name.
  var createdByKind: String
  var createdBy: String
  var firstKey: String
  var lastKey: String
  var createdKey: String
  var search: String
  var credentials: String

  init(_ record: UserRecord) throws(UserManagementError) {
    let user = record.user
    guard let version = Int64(exactly: user.version) else {
      throw UserManagementError(.invalidOperation, "The user's version is out of range.")
    }
    id = user.id.rawValue
    usernameKey = Keys.normalized(user.username.canonical)
    username = user.username.rawValue
    firstName = user.firstName
    lastName = user.lastName
    status = user.status.rawValue
    role = user.role.rawValue
    policies = user.policies.map(\.rawValue.uuidString).sorted().joined(separator: ",")
    apiAccess = user.apiAccessEnabled
    hasAPIPassword = user.hasAPIPassword
    hasPassword = user.hasPassword
    mustChangePassword = user.mustChangePassword
    emailVerified = user.emailVerified
    hasSecondFactor = user.hasSecondFactor
    self.version = version
    securityStamp = user.securityStamp.rawValue
    createdAt = user.createdAt.timeIntervalSinceReferenceDate
    updatedAt = user.updatedAt.timeIntervalSinceReferenceDate
    switch user.createdBy {
    case .user(let creator):
      createdByKind = "user"
      createdBy = creator.rawValue.uuidString
    case .system(let name):
      createdByKind = "system"
      createdBy = name
    }
    firstKey = Keys.normalized(UserSort(.firstName).position(of: user).primary)
    lastKey = Keys.normalized(UserSort(.lastName).position(of: user).primary)
    createdKey = UserSort(.createdAt).position(of: user).primary
    search = Keys.searchText(user)
    credentials = try JSONText.encode(
      StoredCredentials(
        passwordHash: record.passwordHash, apiPasswordHash: record.apiPasswordHash,
        security: record.security))
  }
}

/// The profile columns of `umk_users`, and the ``UserManagementKit/User`` they make.
enum UserColumns {
  /// The columns in the order ``user(_:at:)`` reads them.
  static let list = """
    id, username, first_name, last_name, status, role, policies, api_access, has_api_password, \
    has_password, must_change_password, email_verified, has_second_factor, version, \
    security_stamp, created_at, updated_at, created_by_user, created_by_system
    """

  /// How many columns ``list`` names.
  static let count = 19

  /// The user in the columns of `row` from `offset` on.
  static func user(_ row: PostgresRandomAccessRow, at offset: Int) throws(UserManagementError)
    -> User
  {
    do {
      let id = try row[offset].decode(UUID.self)
      let status = try row[offset + 4].decode(String.self)
      let role = try row[offset + 5].decode(String.self)
      let version = try row[offset + 13].decode(Int64.self)
      let createdByUser = try row[offset + 17].decode(UUID?.self)
      let createdBySystem = try row[offset + 18].decode(String?.self)
      guard let userStatus = UserStatus(rawValue: status), let userRole = Role(rawValue: role),
        let userVersion = UInt64(exactly: version)
      else { throw corrupt(nil) }
      let creator: Principal
      if let createdByUser {
        creator = .user(UserID(rawValue: createdByUser))
      } else if let createdBySystem {
        creator = .system(createdBySystem)
      } else {
        throw corrupt(nil)
      }
      return User(
        id: UserID(rawValue: id), username: try Username(row[offset + 1].decode(String.self)),
        firstName: try row[offset + 2].decode(String.self),
        lastName: try row[offset + 3].decode(String.self), status: userStatus, role: userRole,
        policies: Set(try row[offset + 6].decode([UUID].self).map(PolicyID.init(rawValue:))),
        apiAccessEnabled: try row[offset + 7].decode(Bool.self),
        hasAPIPassword: try row[offset + 8].decode(Bool.self),
        hasPassword: try row[offset + 9].decode(Bool.self),
        mustChangePassword: try row[offset + 10].decode(Bool.self), version: userVersion,
        securityStamp: SecurityStamp(rawValue: try row[offset + 14].decode(String.self)),
        createdAt: Date(timeIntervalSinceReferenceDate: try row[offset + 15].decode(Double.self)),
        updatedAt: Date(timeIntervalSinceReferenceDate: try row[offset + 16].decode(Double.self)),
        createdBy: creator, emailVerified: try row[offset + 11].decode(Bool.self),
        hasSecondFactor: try row[offset + 12].decode(Bool.self))
    } catch let error as UserManagementError where error.code == .corruptStore {
      throw error
    } catch {
      throw corrupt(error)
    }
  }

  private static func corrupt(_ error: (any Error)?) -> UserManagementError {
    UserManagementError(
      .corruptStore, "A user row of the PostgreSQL store could not be read.",
      underlyingError: error)
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

  static func record(_ user: User, credentials: String) throws(UserManagementError)
    -> UserRecord
  {
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

/// What the store keeps of a PostgreSQL error as the underlying error of its own: the kind of
/// failure, the SQLSTATE and the constraint, table and column it names. Never the server's
/// message or detail, which may quote the values of a row (a "failing row contains …" detail
/// would quote the credentials column).
struct PostgresServerError: Error, CustomStringConvertible {
  var code: String
  var sqlState: String?
  var constraint: String?
  var table: String?
  var column: String?

  init(_ error: PSQLError) {
    code = String(describing: error.code)
    sqlState = error.serverInfo?[.sqlState]
    constraint = error.serverInfo?[.constraintName]
    table = error.serverInfo?[.tableName]
    column = error.serverInfo?[.columnName]
  }

  var description: String {
    var parts = ["PostgreSQL error \(code)"]
    if let sqlState { parts.append("SQLSTATE \(sqlState)") }
    if let table { parts.append("table \(table)") }
    if let column { parts.append("column \(column)") }
    if let constraint { parts.append("constraint \(constraint)") }
    return parts.joined(separator: ", ")
  }
}
