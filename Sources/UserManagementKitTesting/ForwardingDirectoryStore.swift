public import UserManagementKit

/// A store that hands every call to another store, so that a test double implements only the
/// calls it intercepts.
///
/// Conform, provide ``base``, and write the methods you want to change; every other
/// ``DirectoryStore`` requirement forwards to `base` unchanged:
///
/// ```swift
/// /// Fails every commit, answers reads from a real store.
/// final class FailingCommits: ForwardingDirectoryStore {
///   let base: any DirectoryStore = InMemoryDirectoryStore()
///   func commit(_ changes: ChangeSet) async throws { throw DiskFull() }
/// }
/// ```
///
/// The defaults forward ``DirectoryStore/profile(id:)`` and
/// ``DirectoryStore/profile(usernameKey:)`` too, so the base store's fast paths are kept.
public protocol ForwardingDirectoryStore: DirectoryStore {
  /// The store that answers every call the conforming type does not implement itself.
  var base: any DirectoryStore { get }
}

extension ForwardingDirectoryStore {
  /// Forwards to ``base``.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func user(id: UserID) async throws -> UserRecord? {
    try await base.user(id: id)
  }

  /// Forwards to ``base``.
  ///
  /// - Parameter usernameKey: A canonical username.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func user(usernameKey: String) async throws -> UserRecord? {
    try await base.user(usernameKey: usernameKey)
  }

  /// Forwards to ``base``.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func profile(id: UserID) async throws -> User? {
    try await base.profile(id: id)
  }

  /// Forwards to ``base``.
  ///
  /// - Parameter usernameKey: A canonical username.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func profile(usernameKey: String) async throws -> User? {
    try await base.profile(usernameKey: usernameKey)
  }

  /// Forwards to ``base``.
  ///
  /// - Parameter query: The query.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func users(matching query: UserQuery) async throws -> UserPage {
    try await base.users(matching: query)
  }

  /// Forwards to ``base``.
  ///
  /// - Parameter filter: The filter.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func userCount(matching filter: UserFilter) async throws -> Int {
    try await base.userCount(matching: filter)
  }

  /// Forwards to ``base``.
  ///
  /// - Parameters:
  ///   - user: The user.
  ///   - kind: The credential.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func loginThrottle(for user: UserID, kind: CredentialKind) async throws
    -> LoginThrottleState
  {
    try await base.loginThrottle(for: user, kind: kind)
  }

  /// Forwards to ``base``.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func policy(id: PolicyID) async throws -> Policy? {
    try await base.policy(id: id)
  }

  /// Forwards to ``base``.
  ///
  /// - Parameter nameKey: A lowercased policy name.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func policy(nameKey: String) async throws -> Policy? {
    try await base.policy(nameKey: nameKey)
  }

  /// Forwards to ``base``.
  ///
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func policies() async throws -> [Policy] {
    try await base.policies()
  }

  /// Forwards to ``base``.
  ///
  /// - Parameter query: The query.
  /// - Returns: The base store's answer.
  /// - Throws: The base store's error.
  public func auditEvents(matching query: AuditQuery) async throws -> [AuditEvent] {
    try await base.auditEvents(matching: query)
  }

  /// Forwards to ``base``.
  ///
  /// - Returns: The base store's stream.
  public func subscribeToAuditEvents() -> AsyncStream<AuditEvent> {
    base.subscribeToAuditEvents()
  }

  /// Forwards to ``base``.
  ///
  /// - Parameter changes: The change set.
  /// - Throws: The base store's error.
  public func commit(_ changes: ChangeSet) async throws {
    try await base.commit(changes)
  }
}
