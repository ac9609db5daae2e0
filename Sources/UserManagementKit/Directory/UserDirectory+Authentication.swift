import FoundationEssentials

extension UserDirectory {
  /// Signs a user in with username and password.
  ///
  /// Usernames match case-insensitively. An unknown username, a user without a password, and
  /// a wrong password all cost one verification with the configured hasher and fail with the
  /// same error, so neither timing nor the answer tells whether the account exists. Only
  /// active users sign in. Failed attempts count towards the account's throttle (see
  /// ``LoginThrottlePolicy``). When the stored hash is weaker than the configured hasher's,
  /// it is replaced on success (unless ``Configuration/rehashOnSignIn`` is off).
  ///
  /// - Parameters:
  ///   - username: The username as typed.
  ///   - password: The password.
  /// - Returns: The user and whether they must change their password now.
  /// - Throws: ``UserManagementError``: ``UserManagementError/Code/invalidCredentials``,
  ///   ``UserManagementError/Code/accountInactive`` (only after a correct password), or
  ///   ``UserManagementError/Code/throttled``.
  public func authenticate(username: String, password: Secret)
    async throws(UserManagementError) -> AuthenticatedUser
  {
    let key = Username.canonicalize(username)
    guard let record = try await read({ try await self.store.user(usernameKey: key) }),
      record.passwordHash != nil
    else {
      try await burnVerification(password)
      throw Self.invalidCredentials()
    }
    let verified = try await verifyLoginPassword(password, of: record, kind: .password)
    guard record.user.status == .active else {
      throw UserManagementError(.accountInactive, "The account is inactive.")
    }
    let rehashed =
      verified.needsRehash && configuration.rehashOnSignIn
      ? await rehash(record, password: password, verifiedHash: verified.hash) : nil
    return AuthenticatedUser(user: rehashed?.user ?? record.user, rehashed: rehashed != nil)
  }

  /// Authenticates direct API access with username and API password.
  ///
  /// Only active users with API access enabled pass, and only with their API password (never
  /// the login password). A secret shaped like a generated token but with a wrong checksum is
  /// refused before any lookup.
  ///
  /// - Parameters:
  ///   - username: The username as typed.
  ///   - apiPassword: The API password.
  /// - Returns: The user.
  /// - Throws: ``UserManagementError``: ``UserManagementError/Code/invalidCredentials``,
  ///   ``UserManagementError/Code/accountInactive`` or
  ///   ``UserManagementError/Code/apiAccessDisabled`` (both only after a correct API
  ///   password), or ``UserManagementError/Code/throttled``.
  public func authenticateAPI(username: String, apiPassword: Secret)
    async throws(UserManagementError) -> User
  {
    let generator = configuration.apiPasswordGenerator
    let isToken = generator.looksLikeToken(apiPassword)
    if isToken && !generator.hasValidChecksum(apiPassword) {
      throw Self.invalidCredentials()
    }
    let key = Username.canonicalize(username)
    guard let record = try await read({ try await self.store.user(usernameKey: key) }),
      record.apiPasswordHash != nil
    else {
      if !isToken { try await burnVerification(apiPassword) }
      throw Self.invalidCredentials()
    }
    _ = try await verifyLoginPassword(apiPassword, of: record, kind: .apiPassword)
    guard record.user.status == .active else {
      throw UserManagementError(.accountInactive, "The account is inactive.")
    }
    guard record.user.apiAccessEnabled else {
      throw UserManagementError(.apiAccessDisabled, "Direct API access is disabled.")
    }
    return record.user
  }

  struct Verified {
    /// The stored hash the credential matched.
    var hash: PasswordHash
    /// Whether that hash is weaker than the configured hasher's.
    var needsRehash: Bool
  }

  /// Checks a credential of `record`, enforcing and updating the throttle.
  func verifyLoginPassword(_ presented: Secret, of record: UserRecord, kind: CredentialKind)
    async throws(UserManagementError) -> Verified
  {
    let stored = kind == .password ? record.passwordHash : record.apiPasswordHash
    guard let stored else {
      try await burnVerification(presented)
      throw Self.invalidCredentials()
    }
    let state = try await read { try await self.store.loginThrottle(for: record.id, kind: kind) }
    switch configuration.loginThrottle.decision(for: state, now: configuration.now()) {
    case .allowed:
      break
    case .retryAfter(let delay):
      let seconds = max(1, delay.components.seconds + (delay.components.attoseconds > 0 ? 1 : 0))
      throw UserManagementError(
        .throttled, "Too many failed attempts; try again in \(seconds) seconds.",
        context: ["retryAfterSeconds": String(seconds)])
    case .locked:
      throw UserManagementError(
        .throttled,
        "Too many failed attempts; an administrator must unlock the account or reset the "
          + "password.")
    }
    let outcome: PasswordVerification
    if kind == .apiPassword && APIPasswordGenerator.isTokenHash(stored) {
      outcome = try APIPasswordGenerator.verify(presented, against: stored) ? .valid : .invalid
    } else {
      let hasher = configuration.passwordHasher
      outcome = try await runHashing { () throws(UserManagementError) in
        try hasher.verify(presented, against: stored)
      }
    }
    guard outcome.isValid else {
      try await read {
        try await self.store.commit(
          ChangeSet(throttleUpdates: [
            ThrottleUpdate(
              user: record.id, kind: kind, operation: .recordFailure(at: self.configuration.now()))
          ]))
      }
      throw Self.invalidCredentials()
    }
    if state.consecutiveFailures > 0 {
      try await read {
        try await self.store.commit(
          ChangeSet(throttleUpdates: [
            ThrottleUpdate(user: record.id, kind: kind, operation: .reset)
          ]))
      }
    }
    return Verified(hash: stored, needsRehash: outcome == .validNeedsRehash)
  }

  /// Replaces a valid but weak hash with one from the configured hasher. Best effort: a
  /// concurrent change of the user simply skips the upgrade until the next sign-in.
  private func rehash(_ record: UserRecord, password: Secret, verifiedHash: PasswordHash)
    async -> UserRecord?
  {
    let hasher = configuration.passwordHasher
    guard
      let fresh = try? await runHashing({ () throws(UserManagementError) in
        try hasher.hash(password)
      })
    else { return nil }
    var updated = record
    let now = configuration.now()
    updated.passwordHash = fresh
    updated.user.version += 1
    updated.user.updatedAt = now
    let audit = event(
      .passwordRehashed, by: .user(record.id),
      on: .user(record.id, username: record.user.username.rawValue),
      [
        FieldChange(
          field: "passwordAlgorithm", oldValue: verifiedHash.algorithm, newValue: fresh.algorithm)
      ],
      at: now)
    do {
      try await store.commit(ChangeSet(users: [updated], auditEvents: [audit]))
      return updated
    } catch {
      return nil
    }
  }

  /// Spends the same KDF work as verifying a real password, for accounts that do not exist.
  func burnVerification(_ presented: Secret) async throws(UserManagementError) {
    let hasher = configuration.passwordHasher
    let dummy = dummyHash
    _ = try await runHashing { () throws(UserManagementError) in
      try hasher.verify(presented, against: dummy.get(hasher))
    }
  }

  static func invalidCredentials() -> UserManagementError {
    UserManagementError(.invalidCredentials, "The username or password is incorrect.")
  }
}
