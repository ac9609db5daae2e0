/// What a user may do in the directory: the console's two roles.
public enum Role: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
  /// An account administrator: manages users and policies and may do anything.
  case admin
  /// A General User: may act only where their access-control policies (or ownership of a
  /// resource) allow, and may edit only their own name and password.
  case generalUser = "general"

  /// The role's stable string form: `"admin"` or `"general"`.
  public var description: String { rawValue }
}

/// Whether an account may sign in and act.
public enum UserStatus: String, Hashable, Sendable, Codable, CaseIterable,
  CustomStringConvertible
{
  /// The account may authenticate and act.
  case active
  /// The account is deactivated: it cannot authenticate or act, but its record remains.
  case inactive

  /// The status's stable string form: `"active"` or `"inactive"`.
  public var description: String { rawValue }
}
