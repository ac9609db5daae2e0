/// A user as a repository stores it: the ``User`` plus the credential hashes.
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

  /// Creates a record. The user's ``User/hasPassword`` and ``User/hasAPIPassword`` flags
  /// are set from the hashes, so they can never disagree with them.
  ///
  /// - Parameters:
  ///   - user: The user.
  ///   - passwordHash: The login password hash.
  ///   - apiPasswordHash: The API password hash.
  public init(user: User, passwordHash: PasswordHash?, apiPasswordHash: PasswordHash?) {
    var user = user
    user.hasPassword = passwordHash != nil
    user.hasAPIPassword = apiPasswordHash != nil
    self.user = user
    self.passwordHash = passwordHash
    self.apiPasswordHash = apiPasswordHash
  }

  /// The user's identifier.
  public var id: UserID { user.id }
  /// The canonical username, the uniqueness key.
  public var usernameKey: String { user.username.canonical }
}
