#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

extension UserDirectory {
  // MARK: Password reset

  /// Issues a password-reset token for the user with this username, for a "forgot password"
  /// link the host mails to them.
  ///
  /// The token (`umk_reset_…`, ≈ 178 random bits) is single-use, expires after
  /// ``AccountSecuritySettings/passwordResetTokenLifetime`` (30 minutes by default), is
  /// stored only as a keyed hash, and dies when the user's security stamp changes (any
  /// password change, deactivation or role change). At most three are outstanding per user
  /// (a fourth replaces the oldest), and at most one is issued a minute: a request within a
  /// minute of the last one returns `nil` and writes nothing, so a flood of requests neither
  /// grows the audit trail nor pushes out the link already sent.
  ///
  /// **Timing contract.** For an unknown or inactive username the answer is `nil`, after the
  /// same lookup and the same token generation and hashing as for a real user; only a real
  /// user's token is then written to the store, which takes longer (a durable write). So the
  /// host must not let the requester observe the call: answer every request at once with the
  /// same page ("if the address is registered, a link is on its way"), then call this in a
  /// background task and send mail only when a token came back. The token is a credential:
  /// put it in the link, never in a log.
  ///
  /// - Parameter username: The username as typed.
  /// - Returns: The token to mail, or `nil` when there is no active user of that name or one
  ///   was issued to them less than a minute ago.
  /// - Throws: ``UserManagementError/Code/storageFailure`` only.
  public func passwordResetToken(for username: String) async throws(UserManagementError)
    -> Secret?
  {
    try await issueToken(
      .passwordReset, for: username,
      lifetime: configuration.accountSecurity.passwordResetTokenLifetime,
      by: .system("password reset"))
  }

  /// Sets a new password with a token from ``passwordResetToken(for:)``.
  ///
  /// The new password must pass the password policy. On success the token and every other
  /// outstanding reset token die, the user's security stamp changes (ending their sessions),
  /// "must change password" is cleared, the password throttle is reset, and the change is
  /// audited.
  ///
  /// A new password equal to the user's API password is refused and uses the token up: the
  /// refusal tells the token's holder that they guessed the API password, so each token buys
  /// one such answer at most (and tokens are issued at most once a minute, each audited).
  ///
  /// - Parameters:
  ///   - token: The token from the link.
  ///   - newPassword: The new password.
  /// - Returns: The user after the change.
  /// - Throws: ``UserManagementError/Code/invalidToken`` (malformed, unknown, used, expired
  ///   or stale — the error does not say which), ``UserManagementError/Code/weakPassword``.
  public func resetPassword(token: Secret, newPassword: Secret)
    async throws(UserManagementError) -> User
  {
    guard let parsed = SecurityToken.parse(token, as: .passwordReset) else {
      throw Self.invalidToken()
    }
    let outcome = try await commitWithRetry {
      () async throws(UserManagementError) -> (ChangeSet?, Result<User, UserManagementError>) in
      let now = configuration.now()
      let (record, redeemed) = try await activeRecord(
        redeeming: token, .passwordReset, of: parsed.user, at: now)
      try configuration.passwordPolicy.validate(newPassword, username: record.user.username)
      // Hashed before the comparison with the API password, so that comparison is the last
      // step that can be refused: once it has run, its answer is given and the token spent,
      // never left unspent by a later refusal.
      let hasher = configuration.passwordHasher
      let newHash = try await runHashing { () throws(UserManagementError) in
        try hasher.hash(newPassword)
      }
      if try await isAPIPassword(newPassword, of: record) {
        var spent = record
        spent.security.tokens.remove(at: redeemed)
        spent.user.version += 1
        spent.user.updatedAt = now
        return (
          ChangeSet(
            preconditions: [.userVersion(record.id, record.user.version)], users: [spent]),
          .failure(Self.sameSecrets(field: "password"))
        )
      }
      var updated = record
      updated.passwordHash = newHash
      updated.user.mustChangePassword = false
      updated.user.securityStamp = newSecurityStamp()
      updated.security.tokens.removeAll {
        $0.purpose == .passwordReset || $0.purpose == .signInChallenge
      }
      updated.user.version += 1
      updated.user.updatedAt = now
      let audit = event(
        .passwordResetWithToken, by: .user(record.id), on: target(record),
        [.secret("password")], at: now)
      return (
        ChangeSet(
          preconditions: [.userVersion(record.id, record.user.version)], users: [updated],
          auditEvents: [audit],
          // A reset unlocks a password-only account; for a user with a second factor only a
          // code clears the failures, or a token holder would get fresh code guesses.
          throttleUpdates: record.security.hasSecondFactor ? [] : [Self.resetThrottle(record.id)]),
        .success(updated.user)
      )
    }
    return try outcome.get()
  }

  // MARK: E-mail verification

  /// Issues a token proving the user receives mail at their username, for a link the host
  /// mails to them; ``verifyEmail(token:)`` sets ``User/emailVerified``.
  ///
  /// The same machinery as password-reset tokens: `umk_verify_…`, single-use, expiring after
  /// ``AccountSecuritySettings/emailVerificationTokenLifetime``, stored only as a keyed hash,
  /// dead when the security stamp changes.
  ///
  /// - Parameters:
  ///   - id: The user, who must be active.
  ///   - principal: The user themself, an active administrator or a system principal.
  /// - Returns: The token to mail.
  /// - Throws: ``UserManagementError/Code/notAuthorized``,
  ///   ``UserManagementError/Code/userNotFound``,
  ///   ``UserManagementError/Code/accountInactive``,
  ///   ``UserManagementError/Code/invalidOperation`` within a minute of the last token.
  public func emailVerificationToken(for id: UserID, by principal: Principal)
    async throws(UserManagementError) -> Secret
  {
    let acting = try await acting(principal, requireAdmin: false)
    guard acting.isAdmin || acting.userID == id else { throw .notAuthorized() }
    guard let record = try await fromStore({ try await self.store.profile(id: id) }) else {
      throw .userNotFound()
    }
    guard record.status == .active else {
      throw UserManagementError(.accountInactive, "The account is inactive.")
    }
    guard
      let token = try await issueToken(
        .emailVerification, for: record.username.rawValue,
        lifetime: configuration.accountSecurity.emailVerificationTokenLifetime, by: principal)
    else {
      throw UserManagementError(
        .invalidOperation,
        "A verification link was issued less than a minute ago; try again in a minute.")
    }
    return token
  }

  /// Marks the user's e-mail address verified with a token from
  /// ``emailVerificationToken(for:by:)``; the token and every other outstanding verification
  /// token die.
  ///
  /// - Parameter token: The token from the link.
  /// - Returns: The user after the change.
  /// - Throws: ``UserManagementError/Code/invalidToken``.
  public func verifyEmail(token: Secret) async throws(UserManagementError) -> User {
    guard let parsed = SecurityToken.parse(token, as: .emailVerification) else {
      throw Self.invalidToken()
    }
    return try await commitWithRetry { () async throws(UserManagementError) in
      let now = configuration.now()
      let (record, _) = try await activeRecord(
        redeeming: token, .emailVerification, of: parsed.user, at: now)
      var updated = record
      updated.user.emailVerified = true
      updated.security.tokens.removeAll { $0.purpose == .emailVerification }
      updated.user.version += 1
      updated.user.updatedAt = now
      let audit = event(
        .emailVerified, by: .user(record.id), on: target(record),
        [FieldChange(field: "emailVerified", oldValue: "false", newValue: "true")], at: now)
      return (
        ChangeSet(
          preconditions: [.userVersion(record.id, record.user.version)], users: [updated],
          auditEvents: [audit]), updated.user
      )
    }
  }

  // MARK: Machinery

  /// Issues a token for the active user of `username`, or does the same work and returns
  /// `nil` when there is none.
  private func issueToken(
    _ kind: SecurityToken.Kind, for username: String, lifetime: Duration,
    by principal: Principal
  ) async throws(UserManagementError) -> Secret? {
    var profile: User?
    if let key = Username.lookupKey(username) {
      profile = try await fromStore { try await self.store.profile(usernameKey: key) }
    }
    let random = configuration.random
    // The same generation and hashing whether or not the user exists.
    let id = profile?.id ?? UserID(rawValue: UUID.randomV4())
    let token = SecurityToken.make(kind, user: id, random: random)
    let hash = SecurityToken.hash(token, random: random)
    guard let profile, profile.status == .active else { return nil }
    let purpose: StoredToken.Purpose = kind == .passwordReset ? .passwordReset : .emailVerification
    let action: AuditAction =
      kind == .passwordReset ? .passwordResetRequested : .emailVerificationRequested
    return try await commitWithRetry { () async throws(UserManagementError) in
      guard let record = try await fromStore({ try await self.store.user(id: profile.id) }),
        record.user.status == .active
      else { return (nil, nil) }
      let now = configuration.now()
      // One token a minute per purpose: repeated requests (a flood, or a person pressing the
      // button twice) write nothing and do not push out the link already sent.
      let issuedRecently = record.security.tokens.contains {
        $0.purpose == purpose && $0.securityStamp == record.user.securityStamp
          && $0.expiresAt.timeIntervalSince(now) > lifetime.timeInterval - 60
      }
      if issuedRecently { return (nil, nil) }
      var updated = record
      Self.store(
        StoredToken(
          purpose: purpose, hash: hash, securityStamp: record.user.securityStamp,
          expiresAt: now.addingTimeInterval(lifetime.timeInterval)),
        in: &updated, at: now, keeping: 3)
      updated.user.version += 1
      let audit = event(action, by: principal, on: target(record), [.secret("token")], at: now)
      return (
        ChangeSet(
          preconditions: [.userVersion(record.id, record.user.version)], users: [updated],
          auditEvents: [audit]), token
      )
    }
  }

  /// The active user whose live token of `purpose` `token` is, and that token's index in
  /// their tokens; otherwise the one answer for every failure, so the error never says which.
  private func activeRecord(
    redeeming token: Secret, _ purpose: StoredToken.Purpose, of id: UserID, at now: Date
  ) async throws(UserManagementError) -> (record: UserRecord, token: Int) {
    let record = try await fromStore { try await self.store.user(id: id) }
    guard let index = liveToken(token, purpose, in: record, at: now), let record,
      record.user.status == .active
    else { throw Self.invalidToken() }
    return (record, index)
  }

  static func invalidToken() -> UserManagementError {
    UserManagementError(
      .invalidToken, "The link is invalid or has expired; ask for a new one.")
  }
}
