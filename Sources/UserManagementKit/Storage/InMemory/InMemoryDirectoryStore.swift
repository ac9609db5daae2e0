#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// A ``DirectoryStore`` that keeps everything in memory.
///
/// Use it in tests, in previews, and in hosts that persist elsewhere. All state sits behind one
/// lock; a commit checks and applies a ``ChangeSet`` while holding it, so commits are
/// serializable. Reads return snapshots. Lookups by id and username are hash-table lookups;
/// listings in username order walk a sorted index from the cursor and stop when the page is
/// full.
public final class InMemoryDirectoryStore: DirectoryStore {
  private let state = Locked(State())

  private struct State {
    var directory = DirectoryState()
    var subscribers: [UUID: AsyncStream<AuditEvent>.Continuation] = [:]
  }

  /// Creates an empty store.
  public init() {}

  /// The user with this identifier.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The record, or `nil`.
  public func user(id: UserID) async -> UserRecord? {
    state.withLock { $0.directory.byID[id] }?.record
  }

  /// The user with this canonical username.
  ///
  /// - Parameter usernameKey: A canonical username.
  /// - Returns: The record, or `nil`.
  public func user(usernameKey: String) async -> UserRecord? {
    state.withLock { $0.directory.byUsername[usernameKey] }?.record
  }

  /// The user with this identifier, without hashes (no copy of the credential fields).
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The user, or `nil`.
  public func profile(id: UserID) async -> User? {
    state.withLock { $0.directory.byID[id] }?.record.user
  }

  /// The user with this canonical username, without hashes.
  ///
  /// - Parameter usernameKey: A canonical username.
  /// - Returns: The user, or `nil`.
  public func profile(usernameKey: String) async -> User? {
    state.withLock { $0.directory.byUsername[usernameKey] }?.record.user
  }

  /// One page of users matching the query.
  ///
  /// - Parameter query: The query.
  /// - Returns: The page.
  public func users(matching query: UserQuery) async -> UserPage {
    state.withLock { $0.directory.page(query) }
  }

  /// The number of users matching the filter.
  ///
  /// - Parameter filter: The filter.
  /// - Returns: The count.
  public func userCount(matching filter: UserFilter) async -> Int {
    state.withLock { $0.directory.count(filter) }
  }

  /// The failed sign-in counter of one credential of a user.
  ///
  /// - Parameters:
  ///   - user: The user.
  ///   - kind: The credential.
  /// - Returns: The counter.
  public func loginThrottle(for user: UserID, kind: CredentialKind) async -> LoginThrottleState {
    state.withLock { $0.directory.throttle(user, kind) }
  }

  /// The policy with this identifier.
  ///
  /// - Parameter id: The identifier.
  /// - Returns: The policy, or `nil`.
  public func policy(id: PolicyID) async -> Policy? {
    state.withLock { $0.directory.policies[id] }
  }

  /// The policy with this name key.
  ///
  /// - Parameter nameKey: A lowercased name.
  /// - Returns: The policy, or `nil`.
  public func policy(nameKey: String) async -> Policy? {
    state.withLock { $0.directory.policy(nameKey: nameKey) }
  }

  /// Every policy, ordered by name key.
  ///
  /// - Returns: The policies.
  public func policies() async -> [Policy] {
    state.withLock { $0.directory }.sortedPolicies()
  }

  /// The audit events matching the query.
  ///
  /// - Parameter query: The query.
  /// - Returns: The events.
  public func auditEvents(matching query: AuditQuery) async -> [AuditEvent] {
    let audit = state.withLock { $0.directory.audit }
    var result: [AuditEvent] = []
    DirectoryState.collect(audit, query, limit: max(0, query.limit), into: &result)
    return result
  }

  /// A stream of the events committed from now on.
  ///
  /// The stream buffers without bound, so consume it promptly.
  ///
  /// - Returns: The stream.
  public func subscribeToAuditEvents() -> AsyncStream<AuditEvent> {
    let (stream, continuation) = AsyncStream<AuditEvent>.makeStream()
    let token = UUID()
    state.withLock { $0.subscribers[token] = continuation }
    continuation.onTermination = { [weak self] _ in
      _ = self?.state.withLock { $0.subscribers.removeValue(forKey: token) }
    }
    return stream
  }

  /// Applies a change set atomically, or nothing.
  ///
  /// - Parameter changes: The change set.
  /// - Throws: ``UserManagementError`` naming the failed check.
  public func commit(_ changes: ChangeSet) async throws {
    try state.withLock { state throws(UserManagementError) in
      try state.directory.commit(changes)
      for event in changes.auditEvents {
        for continuation in state.subscribers.values { continuation.yield(event) }
      }
    }
  }

  deinit {
    let subscribers = state.withLock { state in
      defer { state.subscribers.removeAll() }
      return Array(state.subscribers.values)
    }
    for continuation in subscribers { continuation.finish() }
  }
}
