extension UserDirectory {
  /// Reads a user. Any active user may read their own record; reading others is an
  /// administrator's operation.
  ///
  /// - Parameters:
  ///   - id: The user.
  ///   - principal: Who reads.
  /// - Returns: The user.
  /// - Throws: ``UserManagementError/Code/notAuthorized`` (also for a General User asking
  ///   about someone who does not exist, so nothing leaks) or
  ///   ``UserManagementError/Code/userNotFound`` for an administrator.
  public func user(_ id: UserID, by principal: Principal) async throws(UserManagementError)
    -> User
  {
    let acting = try await acting(
      principal, requireAdmin: false, allowingPendingPasswordChange: true,
      allowingPendingEnrollment: true)
    if let user = acting.user, user.id == id { return user }
    try requireNothingPending(acting)
    guard acting.isAdmin else { throw .notAuthorized() }
    guard let user = try await fromStore({ try await self.store.profile(id: id) }) else {
      throw .userNotFound()
    }
    return user
  }

  /// Reads a user by username (case-insensitively).
  ///
  /// - Parameters:
  ///   - username: The username.
  ///   - principal: Who reads.
  /// - Returns: The user.
  /// - Throws: As ``user(_:by:)``.
  public func user(named username: String, by principal: Principal)
    async throws(UserManagementError)
    -> User
  {
    let acting = try await acting(
      principal, requireAdmin: false, allowingPendingPasswordChange: true,
      allowingPendingEnrollment: true)
    let key = Username.lookupKey(username)
    if let user = acting.user, let key, user.username.canonical.utf8.elementsEqual(key.utf8) {
      return user
    }
    try requireNothingPending(acting)
    guard acting.isAdmin else { throw .notAuthorized() }
    guard let key,
      let user = try await fromStore({ try await self.store.profile(usernameKey: key) })
    else {
      throw .userNotFound()
    }
    return user
  }

  /// Lists users page by page: filters, text search, sort and cursor pagination.
  ///
  /// ```swift
  /// var query = UserQuery(filter: UserFilter(status: .active, search: "smith"), limit: 50)
  /// repeat {
  ///   let page = try await directory.users(query, by: admin)
  ///   show(page.users)
  ///   query.after = page.nextCursor
  /// } while query.after != nil
  /// ```
  ///
  /// - Parameters:
  ///   - query: The query.
  ///   - principal: Who reads; an active administrator or a system principal.
  /// - Returns: One page.
  /// - Throws: ``UserManagementError/Code/notAuthorized``,
  ///   ``UserManagementError/Code/invalidField`` (limit) or
  ///   ``UserManagementError/Code/invalidCursor``.
  public func users(_ query: UserQuery = UserQuery(), by principal: Principal)
    async throws(UserManagementError) -> UserPage
  {
    _ = try await acting(principal, requireAdmin: true)
    try query.validate()
    return try await fromStore { try await self.store.users(matching: query) }
  }

  /// The number of users matching a filter.
  ///
  /// - Parameters:
  ///   - filter: The filter.
  ///   - principal: Who reads; an active administrator or a system principal.
  /// - Returns: The count.
  /// - Throws: ``UserManagementError/Code/notAuthorized``.
  public func userCount(matching filter: UserFilter = UserFilter(), by principal: Principal)
    async throws(UserManagementError) -> Int
  {
    _ = try await acting(principal, requireAdmin: true)
    return try await fromStore { try await self.store.userCount(matching: filter) }
  }

  /// Refuses an acting user with a pending step (see the overload that takes a `User`).
  func requireNothingPending(_ acting: Acting) throws(UserManagementError) {
    if let user = acting.user { try requireNothingPending(user) }
  }

  // MARK: Audit

  /// Reads the audit trail.
  ///
  /// - Parameters:
  ///   - query: Which events.
  ///   - principal: Who reads; an active administrator or a system principal.
  /// - Returns: The events.
  /// - Throws: ``UserManagementError/Code/notAuthorized``.
  public func auditEvents(_ query: AuditQuery = AuditQuery(), by principal: Principal)
    async throws(UserManagementError) -> [AuditEvent]
  {
    _ = try await acting(principal, requireAdmin: true)
    guard (0...10_000).contains(query.limit) else {
      throw .invalidField("limit", "out_of_range", "The limit must be between 0 and 10000.")
    }
    return try await fromStore { try await self.store.auditEvents(matching: query) }
  }

  /// Subscribes to audit events as they are committed.
  ///
  /// The principal's authority is checked when subscribing and again before each event is
  /// delivered: the stream ends as soon as the subscriber is no longer an active
  /// administrator (or the store's stream ends, or the consumer stops iterating).
  ///
  /// - Parameter principal: Who subscribes; an active administrator or a system principal.
  /// - Returns: The events committed from now on, in commit order.
  /// - Throws: ``UserManagementError/Code/notAuthorized``.
  public func auditEventStream(by principal: Principal) async throws(UserManagementError)
    -> AsyncStream<AuditEvent>
  {
    _ = try await acting(principal, requireAdmin: true)
    let events = store.subscribeToAuditEvents()
    let (stream, continuation) = AsyncStream<AuditEvent>.makeStream()
    let forwarder = Task {
      for await event in events {
        guard (try? await self.acting(principal, requireAdmin: true)) != nil else { break }
        continuation.yield(event)
      }
      continuation.finish()
    }
    continuation.onTermination = { _ in forwarder.cancel() }
    return stream
  }

  // MARK: Authorization

  /// Whether a user may perform an action on a resource.
  ///
  /// - Parameters:
  ///   - id: The user who wants to act.
  ///   - action: The action.
  ///   - resource: The resource.
  /// - Returns: Whether it is allowed.
  /// - Throws: ``UserManagementError/Code/storageFailure`` only.
  public func isAllowed(_ id: UserID, to action: Action, on resource: Resource)
    async throws(UserManagementError) -> Bool
  {
    try await explain(id, to: action, on: resource).isAllowed
  }

  /// Decides whether a user may perform an action on a resource, and says which rule decided.
  ///
  /// Active administrators may do anything; inactive users nothing; owners of a resource
  /// may act on it when ``Configuration/ownersMayActOnTheirResources`` is on; General Users
  /// as their policies allow. Policy ids that no longer exist grant nothing. When
  /// ``Configuration/requirePasswordChangeBeforeActing`` is on, a user who must change their
  /// password is denied everything (``AuthorizationDecision/Reason/passwordChangeRequired``),
  /// as every other operation refuses them. Resource types and ids match byte for byte (see
  /// ``Permission/grants(_:on:)``).
  ///
  /// - Parameters:
  ///   - id: The user who wants to act.
  ///   - action: The action.
  ///   - resource: The resource.
  /// - Returns: The decision and its reason.
  /// - Throws: ``UserManagementError/Code/storageFailure`` only.
  public func explain(_ id: UserID, to action: Action, on resource: Resource)
    async throws(UserManagementError) -> AuthorizationDecision
  {
    let user = try await fromStore { try await self.store.profile(id: id) }
    return try await decide(user, action, resource)
  }

  /// The decision for a user already read.
  func decide(_ user: User?, _ action: Action, _ resource: Resource)
    async throws(UserManagementError) -> AuthorizationDecision
  {
    if let user, user.status == .active, !user.hasSecondFactor,
      configuration.accountSecurity.requiresSecondFactor(user)
    {
      return AuthorizationDecision(isAllowed: false, reason: .secondFactorEnrollmentRequired)
    }
    var policies: [Policy] = []
    if let user, user.status == .active, user.role == .generalUser {
      for policyID in user.policies.sorted() {
        if let policy = try await fromStore({ try await self.store.policy(id: policyID) }) {
          policies.append(policy)
        }
      }
    }
    return PolicyEvaluator.decide(
      user: user, action: action, resource: resource, policies: policies,
      ownersAllowed: configuration.ownersMayActOnTheirResources,
      pendingPasswordChangeDenies: configuration.requirePasswordChangeBeforeActing)
  }
}
