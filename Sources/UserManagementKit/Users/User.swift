#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

/// A user account as the host sees it: everything but the credentials.
///
/// `User` values are snapshots; change a user through ``UserDirectory``, which checks the
/// rules and records the change in the audit trail.
public struct User: Hashable, Sendable, Codable, Identifiable {
  /// The permanent identifier.
  public let id: UserID
  /// The username: an e-mail address that never changes.
  public let username: Username
  /// The first name, trimmed.
  public var firstName: String
  /// The last name, trimmed.
  public var lastName: String
  /// Whether the account may sign in and act.
  public var status: UserStatus
  /// Admin or General User.
  public var role: Role
  /// The access-control policies of a General User (always empty for administrators).
  public var policies: Set<PolicyID>
  /// Whether direct API access is enabled.
  public var apiAccessEnabled: Bool
  /// Whether the user has an API password (only possible while API access is enabled).
  public internal(set) var hasAPIPassword: Bool
  /// Whether the user has a login password.
  public internal(set) var hasPassword: Bool
  /// Whether the user must choose a new password at their next sign-in, because an
  /// administrator set or generated the current one.
  public var mustChangePassword: Bool
  /// Whether the user proved they receive mail at their username, with a token from
  /// ``UserDirectory/emailVerificationToken(for:by:)``.
  public internal(set) var emailVerified: Bool
  /// Whether the user signs in with a second factor (an enrolled, confirmed authenticator).
  public internal(set) var hasSecondFactor: Bool
  /// Incremented by every change; name it to make an update conditional
  /// (optimistic concurrency).
  public var version: UInt64
  /// Changes whenever credentials, status or role change; see ``SecurityStamp``.
  public var securityStamp: SecurityStamp
  /// When the user was created.
  public let createdAt: Date
  /// When the user last changed.
  public var updatedAt: Date
  /// Who created the user.
  public let createdBy: Principal

  /// Creates a user value. Hosts normally receive users from ``UserDirectory`` rather than
  /// creating them; storage implementations use this to rebuild stored records.
  ///
  /// - Parameters:
  ///   - id: The permanent identifier.
  ///   - username: The username.
  ///   - firstName: The first name.
  ///   - lastName: The last name.
  ///   - status: The status.
  ///   - role: The role.
  ///   - policies: The assigned policies.
  ///   - apiAccessEnabled: Whether direct API access is enabled.
  ///   - hasAPIPassword: Whether an API password is set.
  ///   - hasPassword: Whether a login password is set.
  ///   - mustChangePassword: Whether a password change is required at next sign-in.
  ///   - version: The record version, starting at 1.
  ///   - securityStamp: The security stamp.
  ///   - createdAt: The creation time.
  ///   - updatedAt: The last change time.
  ///   - createdBy: The creator.
  ///   - emailVerified: Whether the user verified their e-mail address.
  ///   - hasSecondFactor: Whether a second factor is enrolled (stores rebuilding a record
  ///     get it from ``UserRecord/security``, which overrides it).
  public init(
    id: UserID, username: Username, firstName: String, lastName: String, status: UserStatus,
    role: Role, policies: Set<PolicyID>, apiAccessEnabled: Bool, hasAPIPassword: Bool,
    hasPassword: Bool, mustChangePassword: Bool, version: UInt64,
    securityStamp: SecurityStamp, createdAt: Date, updatedAt: Date, createdBy: Principal,
    emailVerified: Bool = false, hasSecondFactor: Bool = false
  ) {
    self.id = id
    self.username = username
    self.firstName = firstName
    self.lastName = lastName
    self.status = status
    self.role = role
    self.policies = policies
    self.apiAccessEnabled = apiAccessEnabled
    self.hasAPIPassword = hasAPIPassword
    self.hasPassword = hasPassword
    self.mustChangePassword = mustChangePassword
    self.version = version
    self.securityStamp = securityStamp
    self.createdAt = createdAt
    self.updatedAt = updatedAt
    self.createdBy = createdBy
    self.emailVerified = emailVerified
    self.hasSecondFactor = hasSecondFactor
  }

  /// Whether the user is an active administrator, the only kind of user who may manage.
  public var isActiveAdmin: Bool { status == .active && role == .admin }
}

extension User {
  private enum CodingKeys: String, CodingKey {
    case id, username, firstName, lastName, status, role, policies, apiAccessEnabled
    case hasAPIPassword, hasPassword, mustChangePassword, version, securityStamp, createdAt
    case updatedAt, createdBy, emailVerified, hasSecondFactor
  }

  /// Decodes a user; `emailVerified` and `hasSecondFactor`, added in 0.1, default to `false`
  /// when absent, so users encoded before them still decode.
  ///
  /// - Parameter decoder: The decoder.
  /// - Throws: `DecodingError` for missing or malformed fields.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      id: try container.decode(UserID.self, forKey: .id),
      username: try container.decode(Username.self, forKey: .username),
      firstName: try container.decode(String.self, forKey: .firstName),
      lastName: try container.decode(String.self, forKey: .lastName),
      status: try container.decode(UserStatus.self, forKey: .status),
      role: try container.decode(Role.self, forKey: .role),
      policies: try container.decode(Set<PolicyID>.self, forKey: .policies),
      apiAccessEnabled: try container.decode(Bool.self, forKey: .apiAccessEnabled),
      hasAPIPassword: try container.decode(Bool.self, forKey: .hasAPIPassword),
      hasPassword: try container.decode(Bool.self, forKey: .hasPassword),
      mustChangePassword: try container.decode(Bool.self, forKey: .mustChangePassword),
      version: try container.decode(UInt64.self, forKey: .version),
      securityStamp: try container.decode(SecurityStamp.self, forKey: .securityStamp),
      createdAt: try container.decode(Date.self, forKey: .createdAt),
      updatedAt: try container.decode(Date.self, forKey: .updatedAt),
      createdBy: try container.decode(Principal.self, forKey: .createdBy),
      emailVerified: try container.decodeIfPresent(Bool.self, forKey: .emailVerified) ?? false,
      hasSecondFactor: try container.decodeIfPresent(Bool.self, forKey: .hasSecondFactor)
        ?? false)
  }
}
