/// The storage behind a ``UserDirectory``: users, policies and the audit trail, changed
/// together by atomic commits.
///
/// All reads return the latest committed state, including commits by other processes sharing
/// the same storage.
///
/// One protocol owns all three because a change and its audit event must be committed in one
/// transaction, and because a policy must not be deleted while a concurrent commit assigns it;
/// a SQL implementation maps ``commit(_:)`` onto one transaction. Implementations must pass the
/// conformance suite in `UserManagementKitTesting` (`DirectoryStoreConformance`).
public protocol DirectoryStore: Sendable {
  // MARK: Users

  /// The user with this identifier, with credential hashes.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The record, or `nil`.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/storageFailure``.
  func user(id: UserID) async throws -> UserRecord?

  /// The user whose canonical username is `usernameKey` (see ``Username/canonical``).
  ///
  /// - Parameter usernameKey: A canonical username.
  /// - Returns: The record, or `nil`.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/storageFailure``.
  func user(usernameKey: String) async throws -> UserRecord?

  /// The user with this identifier, without credential hashes.
  ///
  /// ``UserDirectory`` calls this on every operation to check the acting principal, and for
  /// reads that return users, so it is worth a fast path (for a SQL store, a query that skips
  /// the hash columns). The default implementation returns ``user(id:)``'s user.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The user, or `nil`.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/storageFailure``.
  func profile(id: UserID) async throws -> User?

  /// The user whose canonical username is `usernameKey`, without credential hashes. The
  /// default implementation returns ``user(usernameKey:)``'s user.
  ///
  /// - Parameter usernameKey: A canonical username.
  /// - Returns: The user, or `nil`.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/storageFailure``.
  func profile(usernameKey: String) async throws -> User?

  /// One page of users matching the query, in its order, starting after its cursor.
  ///
  /// Results must equal filtering every user with ``UserFilter/matches(_:)``, ordering them by
  /// ``UserSort/orders(_:before:)``, dropping those at or before the cursor's position and
  /// taking ``UserQuery/limit``; ``UserPage/nextCursor`` is set exactly when more users follow.
  /// The query has been validated by the caller.
  ///
  /// - Parameter query: The query.
  /// - Returns: The page.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/storageFailure``.
  func users(matching query: UserQuery) async throws -> UserPage

  /// The number of users matching the filter.
  ///
  /// - Parameter filter: The filter.
  /// - Returns: The count.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/storageFailure``.
  func userCount(matching filter: UserFilter) async throws -> Int

  /// The failed sign-in counter of one credential of a user.
  ///
  /// - Parameters:
  ///   - user: The user.
  ///   - kind: The credential.
  /// - Returns: The counter (``LoginThrottleState/clear`` if never failed).
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/storageFailure``.
  func loginThrottle(for user: UserID, kind: CredentialKind) async throws -> LoginThrottleState

  // MARK: Policies

  /// The policy with this identifier.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The policy, or `nil`.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/storageFailure``.
  func policy(id: PolicyID) async throws -> Policy?

  /// The policy whose name key (see ``Policy/nameKey(_:)``) is `nameKey`.
  ///
  /// - Parameter nameKey: A lowercased policy name.
  /// - Returns: The policy, or `nil`.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/storageFailure``.
  func policy(nameKey: String) async throws -> Policy?

  /// Every policy, ordered by name key.
  ///
  /// - Returns: The policies.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/storageFailure``.
  func policies() async throws -> [Policy]

  // MARK: Audit trail

  /// The events matching the query, in its order, at most its limit.
  ///
  /// - Parameter query: The query.
  /// - Returns: The events.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/storageFailure``.
  func auditEvents(matching query: AuditQuery) async throws -> [AuditEvent]

  /// A stream of the events committed from now on, in commit order. The stream ends when the
  /// consumer stops iterating or the store is closed.
  ///
  /// - Returns: The stream.
  func subscribeToAuditEvents() -> AsyncStream<AuditEvent>

  // MARK: Committing changes

  /// Applies a change set atomically, or nothing at all.
  ///
  /// See ``ChangeSet`` for exactly what must be checked. Slow work (password hashing) is done
  /// before `commit` is called, so implementations can hold a lock for its whole duration.
  ///
  /// - Parameter changes: The change set.
  /// - Throws: ``UserManagementError`` with the code of the failed check, or
  ///   ``UserManagementError/Code/storageFailure``; nothing was applied.
  func commit(_ changes: ChangeSet) async throws
}

extension DirectoryStore {
  /// The user part of ``user(id:)``.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The user, or `nil`.
  /// - Throws: What ``user(id:)`` throws.
  public func profile(id: UserID) async throws -> User? {
    try await user(id: id)?.user
  }

  /// The user part of ``user(usernameKey:)``.
  ///
  /// - Parameter usernameKey: A canonical username.
  /// - Returns: The user, or `nil`.
  /// - Throws: What ``user(usernameKey:)`` throws.
  public func profile(usernameKey: String) async throws -> User? {
    try await user(usernameKey: usernameKey)?.user
  }
}
