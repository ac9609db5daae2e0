/// A user as a repository stores it: the ``User`` plus the credential hashes and the
/// account-security state.
///
/// Only storage implementations and ``UserDirectory`` handle records; hosts see ``User``.
/// Neither hash is ever shown by `description` (see ``PasswordHash``).
public struct UserRecord: Hashable, Sendable, Codable {
  /// The user.
  public var user: User
  /// The login password hash, if a password is set. Setting it keeps
  /// ``User/hasPassword`` in step.
  public var passwordHash: PasswordHash? {
    didSet { user.hasPassword = passwordHash != nil }
  }
  /// The API password hash, if an API password is set. Setting it keeps
  /// ``User/hasAPIPassword`` in step.
  public var apiPasswordHash: PasswordHash? {
    didSet { user.hasAPIPassword = apiPasswordHash != nil }
  }
  /// The second factor, recovery codes, outstanding tokens and API keys. Setting it keeps
  /// ``User/hasSecondFactor`` in step.
  public var security: AccountSecurity {
    didSet { user.hasSecondFactor = security.hasSecondFactor }
  }

  /// Creates a record. The user's ``User/hasPassword``, ``User/hasAPIPassword`` and
  /// ``User/hasSecondFactor`` flags are set from the hashes and the security state, so they
  /// can never disagree with them.
  ///
  /// - Parameters:
  ///   - user: The user.
  ///   - passwordHash: The login password hash.
  ///   - apiPasswordHash: The API password hash.
  ///   - security: The account-security state (default none).
  public init(
    user: consuming User, passwordHash: PasswordHash?, apiPasswordHash: PasswordHash?,
    security: AccountSecurity = .none
  ) {
    var user = user
    user.hasPassword = passwordHash != nil
    user.hasAPIPassword = apiPasswordHash != nil
    user.hasSecondFactor = security.hasSecondFactor
    self.user = user
    self.passwordHash = passwordHash
    self.apiPasswordHash = apiPasswordHash
    self.security = security
  }

  /// The user's identifier.
  public var id: UserID { user.id }
  /// The canonical username, the uniqueness key.
  public var usernameKey: String { user.username.canonical }
}

extension UserRecord {
  private enum CodingKeys: String, CodingKey {
    case user, passwordHash, apiPasswordHash, security
  }

  /// Decodes a record through ``init(user:passwordHash:apiPasswordHash:security:)``, so the
  /// user's credential and second-factor flags are derived from what is stored, never taken
  /// from the encoded user. `security`, added in 0.1, defaults to none when absent.
  ///
  /// - Parameter decoder: The decoder.
  /// - Throws: `DecodingError` for missing or malformed fields.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      user: try container.decode(User.self, forKey: .user),
      passwordHash: try container.decodeIfPresent(PasswordHash.self, forKey: .passwordHash),
      apiPasswordHash: try container.decodeIfPresent(PasswordHash.self, forKey: .apiPasswordHash),
      security: try container.decodeIfPresent(AccountSecurity.self, forKey: .security) ?? .none)
  }
}
