import UMKCrypto

#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

/// A system whose own user export ``MigrationReader`` reads.
public enum MigrationSource: String, CaseIterable, Sendable {
  /// A Keycloak realm export (`kc.sh export`, or the admin console's partial export with
  /// users): one JSON object with a `users` array.
  case keycloak
  /// An Auth0 user export (NDJSON, one user per line), with Auth0's bulk password-hash export
  /// (NDJSON) as the second file.
  case auth0
  /// A Firebase Authentication export (`firebase auth:export`), JSON or CSV.
  case firebase
  /// A Django `manage.py dumpdata auth.user` JSON array (with `auth.group` records, if
  /// present, to name groups given by primary key).
  case django
  /// ASP.NET Core Identity's `AspNetUsers` table as CSV with a header row.
  case aspnet

}

/// Choices a migration makes that the source cannot: who becomes an administrator, which
/// roles and groups become policies, what disabled accounts become, and the names of people
/// the source has no names for.
///
/// Role, group and policy names are matched case-insensitively. A Keycloak group is named by
/// its path without the leading slash (`/staff` is `staff`, `/org/staff` is `org/staff`).
public struct MigrationOptions: Hashable, Sendable {
  /// Which Django accounts become administrators.
  public enum DjangoAdministrators: String, Hashable, Sendable, CaseIterable {
    /// Superusers (`is_superuser`) only; the default.
    case superusers
    /// Superusers and staff (`is_staff`, who may use Django's admin site).
    case superusersAndStaff
    /// Nobody by flag; only by ``MigrationOptions/adminRoles``.
    case none
  }

  /// What a user becomes when the source has no first or last name for them.
  public enum NameFallback: Hashable, Sendable {
    /// Split the source's full name (Auth0 `name`, Firebase `displayName`/Name) at its last
    /// space: `Ada King Lovelace` is first name `Ada King`, last name `Lovelace`. A full name
    /// without a space is the first name; what is still missing is the placeholder. A full
    /// name that is an e-mail address (Auth0 writes the address when it has no name) is not
    /// a name. The default.
    case splitFullName(placeholder: String)
    /// Always the placeholder, whatever full name the source has.
    case placeholder(String)

    /// The placeholder.
    public var placeholder: String {
      switch self {
      case .splitFullName(let placeholder), .placeholder(let placeholder): placeholder
      }
    }
  }

  /// Roles or groups whose members become administrators (Keycloak realm roles and groups,
  /// Auth0 `app_metadata.roles`, Django groups, the `Roles` column of an ASP.NET export).
  public var adminRoles: Set<String>
  /// Roles or groups that become policies of the same name (as the source spells it). A
  /// policy must exist in the directory before the import. Administrators get no policies.
  public var policyRoles: Set<String>
  /// Which Django accounts become administrators by flag.
  public var djangoAdministrators: DjangoAdministrators
  /// The status of an account the source disables (Keycloak `enabled: false`, Auth0
  /// `blocked`, Firebase `disabled`, Django `is_active: false`, ASP.NET `LockoutEnd` in the
  /// future with `LockoutEnabled`); ``UserStatus/inactive`` by default.
  public var disabledStatus: UserStatus
  /// What to do without a first or last name; by default split the full name, with `—` (an
  /// em dash, U+2014) for what is still missing.
  public var nameFallback: NameFallback
  /// The moment against which ASP.NET lockouts are judged (a lockout ending later is
  /// current); the reader's clock when `nil`.
  public var now: Date?

  /// Describes a migration.
  ///
  /// - Parameters:
  ///   - adminRoles: Roles or groups whose members become administrators.
  ///   - policyRoles: Roles or groups that become policies of the same name.
  ///   - djangoAdministrators: Which Django accounts become administrators by flag.
  ///   - disabledStatus: The status of disabled, blocked or locked-out accounts.
  ///   - nameFallback: What to do without a first or last name.
  ///   - now: The moment against which lockouts are judged; the clock when `nil`.
  public init(
    adminRoles: Set<String> = [], policyRoles: Set<String> = [],
    djangoAdministrators: DjangoAdministrators = .superusers,
    disabledStatus: UserStatus = .inactive,
    nameFallback: NameFallback = .splitFullName(placeholder: "\u{2014}"), now: Date? = nil
  ) {
    self.adminRoles = adminRoles
    self.policyRoles = policyRoles
    self.djangoAdministrators = djangoAdministrators
    self.disabledStatus = disabledStatus
    self.nameFallback = nameFallback
    self.now = now
  }
}

/// One record of an export that could not be turned into a user.
public struct MigrationRecordIssue: Hashable, Sendable, CustomStringConvertible {
  /// Which file a position counts in.
  public enum File: String, Hashable, Sendable {
    /// The export of users.
    case users
    /// The separate password export (Auth0).
    case passwords
  }

  /// The file the record is in.
  public let file: File
  /// The record's position: its line (from 1) in NDJSON and CSV, its index (from 0) in a
  /// JSON array (see ``MigrationReading/positionKind``); 0 for a problem with a whole JSON
  /// file, line 1 for one with a whole NDJSON or CSV file.
  public let position: Int
  /// What was wrong. Messages quote field names and positions, never a hash, salt or
  /// password.
  public let error: UserManagementError

  /// Creates an issue.
  ///
  /// - Parameters:
  ///   - file: The file the record is in.
  ///   - position: The record's line or index.
  ///   - error: What was wrong.
  public init(file: File = .users, position: Int, error: UserManagementError) {
    self.file = file
    self.position = position
    self.error = error
  }

  /// `<file> <position>: <code>: <message>`, e.g. `users 7: invalid_username: …`.
  public var description: String { "\(file.rawValue) \(position): \(error)" }
}

/// What ``MigrationReader/read(_:_:passwordExport:options:)`` made of an export.
public struct MigrationReading: Sendable {
  /// How positions count.
  public enum PositionKind: String, Hashable, Sendable {
    /// Lines, from 1 (NDJSON, CSV).
    case line
    /// Indices in a JSON array, from 0.
    case index
  }

  /// How ``positions`` and the issues' positions count.
  public var positionKind: PositionKind
  /// The users read, in file order, ready for ``UserDirectory/importUsers(_:dryRun:by:)``.
  public var users: [PortableUser] = []
  /// The position of each user in ``users`` in the export.
  public var positions: [Int] = []
  /// The records that could not be read, in file order. Import nothing while there are any.
  public var issues: [MigrationRecordIssue] = []
  /// The password-hash formats found among ``users``, by name (`pbkdf2-sha256`, `argon2id`,
  /// `2b`, `firebase-scrypt`, `pbkdf2_sha256`, `aspnet-identity`, …), with how many users
  /// carry each.
  public var formats: [String: Int] = [:]
  /// How many of ``users`` have no password hash.
  public var withoutPassword = 0
  /// Records the reader passed over on purpose, as the source documents them: Keycloak
  /// service accounts and Django records of other models.
  public var skipped = 0

  /// An empty reading.
  ///
  /// - Parameter positionKind: How positions count.
  public init(positionKind: PositionKind) {
    self.positionKind = positionKind
  }

  /// The import issues of ``UserDirectory/importUsers(_:dryRun:by:)``, whose indices are
  /// into ``users``, as issues of this reading, at the records' positions in the export.
  ///
  /// - Parameter importIssues: The issues of importing ``users``.
  /// - Returns: The same issues, by position.
  public func issues(for importIssues: [UserImportIssue]) -> [MigrationRecordIssue] {
    importIssues.map { issue in
      MigrationRecordIssue(
        position: positions.indices.contains(issue.index) ? positions[issue.index] : issue.index,
        error: issue.error)
    }
  }
}

/// Reads other systems' user exports into ``PortableUser`` values, so that a host leaving
/// Keycloak, Auth0, Firebase, Django or ASP.NET Core Identity imports its users with their
/// passwords (see <doc:MigratingFromOtherSystems>).
///
/// Reading never guesses: a record without a valid e-mail address for a username, with a
/// name the directory refuses, or with a password credential in an unknown form is an issue
/// at its position, not a user. Password hashes are rewritten into forms the library verifies
/// (Keycloak's credentials into PHC strings) or kept as the source writes them (bcrypt,
/// Django, ASP.NET); Firebase's scrypt hashes become `$firebase-scrypt$<salt>$<hash>`, salt and
/// hash in standard base64 without padding, for a hasher that knows the project's Firebase
/// key. Nothing is verified, so reading costs no key derivation.
public enum MigrationReader {
  /// The largest export read, in bytes (1 GiB).
  public static let maximumByteCount = 1 << 30

  /// Reads an export.
  ///
  /// - Parameters:
  ///   - source: The system that wrote it.
  ///   - bytes: The export as the system wrote it (UTF-8).
  ///   - passwordExport: Auth0's password-hash export, joined to the users by user id
  ///     (`auth0|<_id>`), else by e-mail address; ignored for other sources.
  ///   - options: The migration's choices.
  /// - Returns: The users and the records that could not be read.
  public static func read(
    _ source: MigrationSource, _ bytes: [UInt8], passwordExport: [UInt8]? = nil,
    options: MigrationOptions = MigrationOptions()
  ) -> MigrationReading {
    var reading = MigrationReading(
      positionKind: source == .auth0 || source == .aspnet ? .line : .index)
    guard bytes.count <= maximumByteCount, (passwordExport?.count ?? 0) <= maximumByteCount
    else {
      reading.issues.append(
        MigrationRecordIssue(
          position: reading.positionKind == .line ? 1 : 0,
          error: .invalidField(
            "export", "too_large", "An export may be at most \(maximumByteCount) bytes.")))
      return reading
    }
    var context = ReadingContext(options: options, reading: reading)
    switch source {
    case .keycloak: readKeycloak(bytes, into: &context)
    case .auth0: readAuth0(bytes, passwords: passwordExport, into: &context)
    case .firebase: readFirebase(bytes, into: &context)
    case .django: readDjango(bytes, into: &context)
    case .aspnet: readASPNet(bytes, into: &context)
    }
    return context.reading
  }
}

// MARK: - Shared

/// One source record, before the migration's choices make it a user.
struct SourceRecord {
  /// The record's position.
  var position: Int
  /// Candidate usernames, in order of preference, with the field each came from.
  var usernames: [(field: String, value: String?)] = []
  var firstName: String?
  var lastName: String?
  /// A full name to split when first or last name is missing.
  var fullName: String?
  /// Whether the source disables the account.
  var disabled = false
  /// Whether the source's own flags make the account an administrator (Django).
  var administratorByFlag = false
  /// Role and group names.
  var roles: [String] = []
  var passwordHash: PasswordHash?
  /// The name of the hash's format, for ``MigrationReading/formats``.
  var format: String?
}

struct ReadingContext {
  let options: MigrationOptions
  var reading: MigrationReading

  /// Records an issue in the users file.
  mutating func issue(_ position: Int, _ error: UserManagementError) {
    reading.issues.append(MigrationRecordIssue(position: position, error: error))
  }

  /// Turns a record into a user, or records why it cannot be one.
  mutating func finish(_ record: SourceRecord) {
    do throws(UserManagementError) {
      let user = try makeUser(record)
      reading.users.append(user)
      reading.positions.append(record.position)
      if let format = record.format {
        reading.formats[format, default: 0] += 1
      } else {
        reading.withoutPassword += 1
      }
    } catch {
      issue(record.position, error)
    }
  }

  private func makeUser(_ record: SourceRecord) throws(UserManagementError) -> PortableUser {
    var username: String?
    for candidate in record.usernames {
      guard let value = candidate.value?.trimmingWhitespace(), !value.isEmpty else { continue }
      if (try? Username(value)) != nil {
        username = value
        break
      }
    }
    guard let username else {
      let fields = record.usernames.map { "\"\($0.field)\"" }.joined(separator: " or ")
      throw UserManagementError(
        .invalidUsername, "The record has no valid e-mail address in \(fields).",
        context: ["field": record.usernames.first?.field ?? "email"])
    }
    let (first, last) = names(record)
    let firstName = try PersonName.validate(first, field: "firstName")
    let lastName = try PersonName.validate(last, field: "lastName")
    let adminKeys = Set(options.adminRoles.map(Policy.nameKey))
    let policyKeys = Set(options.policyRoles.map(Policy.nameKey))
    let isAdmin =
      record.administratorByFlag || record.roles.contains { adminKeys.contains(Policy.nameKey($0)) }
    var policies: [String] = []
    if !isAdmin {
      var seen = Set<String>()
      for role in record.roles where policyKeys.contains(Policy.nameKey(role)) {
        if seen.insert(Policy.nameKey(role)).inserted { policies.append(role) }
      }
    }
    return PortableUser(
      username: username, firstName: firstName, lastName: lastName,
      status: record.disabled ? options.disabledStatus : .active,
      role: isAdmin ? .admin : .generalUser, policies: policies,
      passwordHash: record.passwordHash)
  }

  /// The first and last names, from the record or the fallback.
  private func names(_ record: SourceRecord) -> (String, String) {
    let placeholder = options.nameFallback.placeholder
    var first = record.firstName.flatMap(Self.present)
    var last = record.lastName.flatMap(Self.present)
    if first == nil || last == nil, case .splitFullName = options.nameFallback,
      let full = record.fullName.flatMap(Self.present), (try? Username(full)) == nil
    {
      if let space = full.lastIndex(of: " ") {
        first = first ?? String(full[..<space]).trimmingWhitespace()
        last = last ?? String(full[full.index(after: space)...])
      } else {
        first = first ?? full
      }
    }
    return (first ?? placeholder, last ?? placeholder)
  }

  private static func present(_ text: String) -> String? {
    let trimmed = text.trimmingWhitespace()
    return trimmed.isEmpty ? nil : trimmed
  }
}

extension MigrationReader {
  /// Decodes base64 as other systems write it: standard or URL-safe, padded or not.
  static func decodeBase64(_ text: String) -> [UInt8]? {
    guard text.utf8.count <= 4096 else { return nil }
    for variant in [Base64.Variant.standard, .standardUnpadded, .urlSafe, .urlSafeUnpadded] {
      if let bytes = Base64.decode(text, variant: variant) { return bytes }
    }
    return nil
  }

  /// An issue about a field of a record, naming the field only.
  static func invalid(_ field: String, _ reason: String, _ message: String)
    -> UserManagementError
  {
    .invalidField(field, reason, message)
  }

  /// An issue about a password credential the library cannot represent.
  static func unsupported(_ field: String, _ message: String) -> UserManagementError {
    UserManagementError(.unsupportedHash, message, context: ["field": field])
  }
}
