#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

extension UserDirectory {
  // MARK: Managing keys

  /// Creates a named, scoped API key for a user, beside the seed's single API password.
  ///
  /// A request authenticated by the key may do what the user may do *and* one of the key's
  /// scopes covers (see ``explain(_:to:on:)-(AuthenticatedAPIKey,_,_)``), so a key never
  /// grants beyond its user. The secret (`umk_key_…`) is returned once; only its keyed hash
  /// is stored. Rotate by creating the new key, moving clients to it, then revoking the old.
  ///
  /// A user creating a key for themself proves it is them again (`proof`): a key is a lasting
  /// credential that skips the second factor and outlives the session, so a session alone (a
  /// stolen one, say) must not be able to mint one. With a confirmed second factor the proof
  /// is one of its codes; without, the password. An administrator creating a key for another
  /// user, or a system principal, gives none.
  ///
  /// - Parameters:
  ///   - id: The user, who must be active with direct API access enabled.
  ///   - name: A name to tell keys apart (1–100 printable characters).
  ///   - scopes: 1–50 scopes; a scope's resource type is `"*"` (every type) or 1–100
  ///     characters without spaces, and its actions are well-formed action names or `"*"`.
  ///   - expiresAt: When the key stops working (must be in the future), or `nil` for never.
  ///   - proof: For a user acting on themself, their password, or a code of their confirmed
  ///     second factor; ignored for anyone else.
  ///   - principal: The user themself, an active administrator or a system principal.
  /// - Returns: The key and its secret.
  /// - Throws: ``UserManagementError/Code/invalidCredentials`` for a missing or wrong proof,
  ///   ``UserManagementError/Code/secondFactorRequired`` for a password when a code is
  ///   needed, ``UserManagementError/Code/throttled``,
  ///   ``UserManagementError/Code/notAuthorized``,
  ///   ``UserManagementError/Code/userNotFound``,
  ///   ``UserManagementError/Code/accountInactive``,
  ///   ``UserManagementError/Code/apiAccessDisabled``,
  ///   ``UserManagementError/Code/invalidField``,
  ///   ``UserManagementError/Code/invalidOperation`` when the user holds
  ///   ``AccountSecuritySettings/maximumAPIKeysPerUser`` keys that are not revoked.
  public func createAPIKey(
    for id: UserID, name: String, scopes: [APIKeyScope], expiresAt: Date? = nil,
    proof: Reauthentication? = nil, by principal: Principal
  ) async throws(UserManagementError) -> NewAPIKey {
    let name = try PersonName.validate(name, field: "name")
    try Self.validate(scopes)
    let limit = configuration.accountSecurity.maximumAPIKeysPerUser
    // For oneself, the proof first: checked (a password) or its attempt reserved (a code)
    // before the commit, which then uses the code up.
    var selfProof: (proof: Reauthentication, first: UserRecord)?
    if case .user(let actor) = principal, actor == id {
      let (_, first) = try await keyOwner(id, principal)
      guard let proof else {
        throw UserManagementError(
          .invalidCredentials,
          "Confirm it is you to create an API key: give your password, or a code of your "
            + "second factor.", context: ["reason": "reauthentication_required"])
      }
      try Self.requireCode(proof, whenConfirmedIn: first)
      try await prove(proof, for: first)
      selfProof = (proof, first)
    }
    return try await commitWithRetry { () async throws(UserManagementError) in
      var (acting, record) = try await keyOwner(id, principal)
      var proofEvents: [AuditEvent] = []
      var throttleUpdates: [ThrottleUpdate] = []
      if let selfProof {
        if case .password = selfProof.proof {
          try Self.requireStillProven(record, provenAs: selfProof.first)
        }
        try Self.requireCode(selfProof.proof, whenConfirmedIn: record)
        (record, proofEvents) = try verify(
          selfProof.proof, of: record, by: principal, at: configuration.now())
        throttleUpdates = Self.throttleUpdates(after: selfProof.proof, of: id)
      }
      guard record.user.status == .active else {
        throw UserManagementError(.accountInactive, "The account is inactive.")
      }
      guard record.user.apiAccessEnabled else {
        throw UserManagementError(.apiAccessDisabled, "Direct API access is disabled.")
      }
      let now = configuration.now()
      if let expiresAt, expiresAt <= now {
        throw .invalidField("expiresAt", "in_the_past", "The expiry must be in the future.")
      }
      var keys = record.security.apiKeys
      guard keys.filter({ $0.key.revokedAt == nil }).count < limit else {
        throw UserManagementError(
          .invalidOperation,
          "The user already has \(limit) API keys; revoke one first.",
          context: ["limit": String(limit)])
      }
      // Revoked keys are kept for their history until room is needed.
      while keys.count >= limit, let oldest = keys.firstIndex(where: { $0.key.revokedAt != nil }) {
        keys.remove(at: oldest)
      }
      let keyID = APIKeyID(rawValue: configuration.makeIdentifier())
      let secret = SecurityToken.make(
        .apiKey, user: id, key: keyID, random: configuration.random)
      let key = APIKey(
        id: keyID, userID: id, name: name, scopes: scopes, createdAt: now, createdBy: principal,
        expiresAt: expiresAt)
      keys.append(
        StoredAPIKey(key: key, hash: SecurityToken.hash(secret, random: configuration.random)))
      var updated = record
      updated.security.apiKeys = keys
      updated.user.version += 1
      updated.user.updatedAt = now
      var changes = [
        FieldChange(field: "apiKey", oldValue: nil, newValue: keyID.description),
        FieldChange(field: "name", oldValue: nil, newValue: name),
        FieldChange(
          field: "scopes", oldValue: nil,
          newValue: scopes.map(\.description).joined(separator: " ")),
      ]
      if let expiresAt {
        changes.append(
          FieldChange(
            field: "expiresAt", oldValue: nil,
            newValue: String(Int64(expiresAt.timeIntervalSince1970))))
      }
      let audit = event(.apiKeyCreated, by: principal, on: target(record), changes, at: now)
      return (
        ChangeSet(
          preconditions: acting.preconditions + [.userVersion(id, record.user.version)],
          users: [updated], auditEvents: proofEvents + [audit], throttleUpdates: throttleUpdates),
        NewAPIKey(key: key, secret: secret)
      )
    }
  }

  /// Revokes an API key; it never works again. Revoking a revoked key changes nothing.
  ///
  /// - Parameters:
  ///   - keyID: The key.
  ///   - id: The user it belongs to.
  ///   - principal: The user themself, an active administrator or a system principal.
  /// - Returns: The key after the change.
  /// - Throws: ``UserManagementError/Code/notAuthorized``,
  ///   ``UserManagementError/Code/userNotFound`` (also for an unknown key).
  public func revokeAPIKey(_ keyID: APIKeyID, of id: UserID, by principal: Principal)
    async throws(UserManagementError) -> APIKey
  {
    try await commitWithRetry { () async throws(UserManagementError) in
      let (acting, record) = try await keyOwner(id, principal)
      guard let index = record.security.apiKeys.firstIndex(where: { $0.key.id == keyID }) else {
        throw UserManagementError(.userNotFound, "The user has no such API key.")
      }
      let key = record.security.apiKeys[index].key
      guard key.revokedAt == nil else { return (nil, key) }
      let now = configuration.now()
      var updated = record
      updated.security.apiKeys[index].key.revokedAt = now
      updated.user.version += 1
      updated.user.updatedAt = now
      let audit = event(
        .apiKeyRevoked, by: principal, on: target(record),
        [FieldChange(field: "apiKey", oldValue: keyID.description, newValue: nil)], at: now)
      return (
        ChangeSet(
          preconditions: acting.preconditions + [.userVersion(id, record.user.version)],
          users: [updated], auditEvents: [audit]),
        updated.security.apiKeys[index].key
      )
    }
  }

  /// A user's API keys, revoked ones included, oldest first.
  ///
  /// - Parameters:
  ///   - id: The user.
  ///   - principal: The user themself, an active administrator or a system principal.
  /// - Returns: The keys (never their secrets).
  /// - Throws: ``UserManagementError/Code/notAuthorized``,
  ///   ``UserManagementError/Code/userNotFound``.
  public func apiKeys(of id: UserID, by principal: Principal)
    async throws(UserManagementError) -> [APIKey]
  {
    try await keyOwner(id, principal).1.security.apiKeys.map(\.key)
  }

  // MARK: Authenticating with a key

  /// Authenticates a request that presents an API key.
  ///
  /// A malformed key or one with a wrong checksum is refused before any lookup. A revoked or
  /// expired key, a key of an inactive user, and a key of a user whose direct API access is
  /// disabled all fail exactly like a wrong key, after the same keyed hash. Keys are not
  /// guessable, so failures are not throttled. The key's last use is written at most once per
  /// ``AccountSecuritySettings/apiKeyLastUsedResolution``, so verifying normally reads only.
  ///
  /// - Parameter secret: The presented key.
  /// - Returns: The user and key; pass it to
  ///   ``isAllowed(_:to:on:)-(AuthenticatedAPIKey,_,_)``.
  /// - Throws: ``UserManagementError/Code/invalidCredentials``.
  public func authenticateAPIKey(_ secret: Secret) async throws(UserManagementError)
    -> AuthenticatedAPIKey
  {
    try await reportingSignIn(.apiKey) {
      (account: inout UserID?) async throws(UserManagementError) in
      (try await apiKeySignIn(secret, account: &account), false)
    }
  }

  private func apiKeySignIn(_ secret: Secret, account: inout UserID?)
    async throws(UserManagementError) -> AuthenticatedAPIKey
  {
    guard let parsed = SecurityToken.parse(secret, as: .apiKey), let keyID = parsed.key else {
      throw Self.invalidKey()
    }
    let record = try await fromStore { try await self.store.user(id: parsed.user) }
    account = record?.id
    let stored = record?.security.apiKeys.first { $0.key.id == keyID }
    // A missing key costs the same keyed hash as a wrong one.
    let matches = SecurityToken.matches(secret, stored?.hash ?? dummyHash.keyHash)
    let now = configuration.now()
    guard matches, let record, let stored, stored.key.isUsable(at: now),
      record.user.status == .active, record.user.apiAccessEnabled
    else { throw Self.invalidKey() }
    let resolution = configuration.accountSecurity.apiKeyLastUsedResolution.timeInterval
    guard stored.key.lastUsedAt.map({ now.timeIntervalSince($0) >= resolution }) ?? true else {
      return AuthenticatedAPIKey(user: record.user, key: stored.key)
    }
    // Best effort: a concurrent change of the user leaves the time for the next use.
    var updated = record
    if let index = updated.security.apiKeys.firstIndex(where: { $0.key.id == keyID }) {
      updated.security.apiKeys[index].key.lastUsedAt = now
    }
    updated.user.version += 1
    let committed: Bool
    do {
      try await store.commit(
        ChangeSet(preconditions: [.userVersion(record.id, record.user.version)], users: [updated]))
      committed = true
    } catch {
      committed = false
    }
    let user = committed ? updated.user : record.user
    var key = stored.key
    if committed { key.lastUsedAt = now }
    return AuthenticatedAPIKey(user: user, key: key)
  }

  // MARK: Authorizing key requests

  /// Whether a request authenticated with an API key may perform an action on a resource.
  ///
  /// - Parameters:
  ///   - key: The authenticated key.
  ///   - action: The action.
  ///   - resource: The resource.
  /// - Returns: Whether it is allowed.
  /// - Throws: ``UserManagementError/Code/storageFailure`` only.
  public func isAllowed(_ key: AuthenticatedAPIKey, to action: Action, on resource: Resource)
    async throws(UserManagementError) -> Bool
  {
    try await explain(key, to: action, on: resource).isAllowed
  }

  /// Decides a request authenticated with an API key: the user's own decision (see
  /// ``explain(_:to:on:)-(UserID,_,_)``), narrowed by the key's scopes. The user and the key
  /// are read again, so a revocation, expiry, deactivation or disabled API access takes
  /// effect at once.
  ///
  /// - Parameters:
  ///   - key: The authenticated key.
  ///   - action: The action.
  ///   - resource: The resource.
  /// - Returns: The decision and its reason.
  /// - Throws: ``UserManagementError/Code/storageFailure`` only.
  public func explain(_ key: AuthenticatedAPIKey, to action: Action, on resource: Resource)
    async throws(UserManagementError) -> AuthorizationDecision
  {
    let record = try await fromStore { try await self.store.user(id: key.user.id) }
    guard let record else { return AuthorizationDecision(isAllowed: false, reason: .unknownUser) }
    let current = record.security.apiKeys.first { $0.key.id == key.key.id }?.key
    guard let current, current.isUsable(at: configuration.now()), record.user.apiAccessEnabled
    else {
      return AuthorizationDecision(isAllowed: false, reason: .apiKeyUnusable)
    }
    let decision = try await decide(record.user, action, resource)
    guard decision.isAllowed else { return decision }
    guard current.covers(action, on: resource) else {
      return AuthorizationDecision(isAllowed: false, reason: .outsideAPIKeyScopes)
    }
    return decision
  }

  // MARK: Machinery

  /// The acting principal and the record of a user whose keys it manages.
  private func keyOwner(_ id: UserID, _ principal: Principal)
    async throws(UserManagementError) -> (Acting, UserRecord)
  {
    let acting = try await acting(principal, requireAdmin: false)
    guard acting.isAdmin || acting.userID == id else {
      throw .notAuthorized("Only the user themself or an administrator may manage API keys.")
    }
    guard let record = try await fromStore({ try await self.store.user(id: id) }) else {
      throw .userNotFound()
    }
    return (acting, record)
  }

  static let maximumScopeCount = 50

  static func validate(_ scopes: [APIKeyScope]) throws(UserManagementError) {
    guard !scopes.isEmpty else {
      throw .invalidField("scopes", "empty", "An API key needs at least one scope.")
    }
    guard scopes.count <= maximumScopeCount else {
      throw .invalidField(
        "scopes", "too_many", "An API key may have at most \(maximumScopeCount) scopes.")
    }
    for (index, scope) in scopes.enumerated() {
      let field = "scopes[\(index)]"
      let type = scope.resourceType
      if type.isEmpty || type.utf8.count > 400 || type.count > 100
        || type.unicodeScalars.contains(where: {
          $0.properties.generalCategory == .control || $0 == " "
        })
      {
        throw .invalidField(
          field + ".resourceType", "invalid",
          "\(field).resourceType must be \"*\" or 1–100 characters without spaces or control "
            + "characters.")
      }
      if scope.actions.isEmpty || scope.actions.count > 20
        || scope.actions.contains(where: { !$0.isWellFormed })
      {
        throw .invalidField(
          field + ".actions", "invalid",
          "\(field).actions must list 1–20 actions: \"view\", \"edit\", \"delete\", \"*\" or "
            + "lowercase names.")
      }
    }
  }

  static func invalidKey() -> UserManagementError {
    UserManagementError(.invalidCredentials, "The API key is not valid.")
  }
}
