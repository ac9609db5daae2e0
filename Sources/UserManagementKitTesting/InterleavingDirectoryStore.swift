public import UserManagementKit

/// A store decorator that suspends the calling task before every read and commit, so that
/// concurrent operations interleave at every step.
///
/// In-memory stores answer without ever suspending, which lets a racing test pass by luck: each
/// operation runs from its first read to its commit without another task getting in. Wrapping
/// the store in `InterleavingDirectoryStore` forces the interleavings that a networked or
/// file-backed store would produce, so a missing check-at-commit shows up as a failure.
/// The audit stream is forwarded without yielding.
public final class InterleavingDirectoryStore: ForwardingDirectoryStore {
  /// The store doing the work.
  public let base: any DirectoryStore
  private let yields: Int

  /// Wraps a store.
  ///
  /// - Parameters:
  ///   - base: The store doing the work.
  ///   - yields: How many times to yield before each call (default 3).
  public init(_ base: any DirectoryStore, yields: Int = 3) {
    self.base = base
    self.yields = max(1, yields)
  }

  /// Yields `yields` times, then runs `body`.
  private func interleaving<Result>(_ body: () async throws -> Result) async throws -> Result {
    for _ in 0..<yields { await Task.yield() }
    return try await body()
  }

  /// Yields, then forwards.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func user(id: UserID) async throws -> UserRecord? {
    try await interleaving { try await base.user(id: id) }
  }

  /// Yields, then forwards.
  ///
  /// - Parameter usernameKey: The canonical username.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func user(usernameKey: String) async throws -> UserRecord? {
    try await interleaving { try await base.user(usernameKey: usernameKey) }
  }

  /// Yields, then forwards.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func profile(id: UserID) async throws -> User? {
    try await interleaving { try await base.profile(id: id) }
  }

  /// Yields, then forwards.
  ///
  /// - Parameter usernameKey: The canonical username.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func profile(usernameKey: String) async throws -> User? {
    try await interleaving { try await base.profile(usernameKey: usernameKey) }
  }

  /// Yields, then forwards.
  ///
  /// - Parameter query: The query.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func users(matching query: UserQuery) async throws -> UserPage {
    try await interleaving { try await base.users(matching: query) }
  }

  /// Yields, then forwards.
  ///
  /// - Parameter filter: The filter.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func userCount(matching filter: UserFilter) async throws -> Int {
    try await interleaving { try await base.userCount(matching: filter) }
  }

  /// Yields, then forwards.
  ///
  /// - Parameters:
  ///   - user: The user.
  ///   - kind: The credential.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func loginThrottle(for user: UserID, kind: CredentialKind) async throws
    -> LoginThrottleState
  {
    try await interleaving { try await base.loginThrottle(for: user, kind: kind) }
  }

  /// Yields, then forwards.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func policy(id: PolicyID) async throws -> Policy? {
    try await interleaving { try await base.policy(id: id) }
  }

  /// Yields, then forwards.
  ///
  /// - Parameter nameKey: The name key.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func policy(nameKey: String) async throws -> Policy? {
    try await interleaving { try await base.policy(nameKey: nameKey) }
  }

  /// Yields, then forwards.
  ///
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func policies() async throws -> [Policy] {
    try await interleaving { try await base.policies() }
  }

  /// Yields, then forwards.
  ///
  /// - Parameter query: The query.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func auditEvents(matching query: AuditQuery) async throws -> [AuditEvent] {
    try await interleaving { try await base.auditEvents(matching: query) }
  }

  /// Yields, then forwards.
  ///
  /// - Parameter changes: The change set.
  /// - Throws: The base store's error.
  public func commit(_ changes: ChangeSet) async throws {
    try await interleaving { try await base.commit(changes) }
  }
}
