/// Who performs an operation: a user of the directory, or trusted host code.
///
/// Every operation of ``UserDirectory`` names its principal. A ``user(_:)`` principal is held
/// to the directory's rules (active, administrator where required, never acting on their own
/// status or role). A ``system(_:)`` principal stands for trusted host code, such as a
/// background job or an import; it may manage users and policies, is recorded by name in the
/// audit trail, and is still bound by the directory's invariants (unique usernames, at least
/// one active administrator, no deletion). Give each job its own descriptive name.
public enum Principal: Hashable, Sendable, Codable, CustomStringConvertible {
  /// A user of the directory, by identifier.
  case user(UserID)
  /// Trusted host code, by a descriptive name such as `"nightly-hr-sync"`.
  case system(String)

  /// `"user:<id>"` or `"system:<name>"`.
  public var description: String {
    switch self {
    case .user(let id): "user:\(id)"
    case .system(let name): "system:\(name)"
    }
  }

  /// The user identifier when the principal is a user.
  public var userID: UserID? {
    if case .user(let id) = self { return id }
    return nil
  }
}
