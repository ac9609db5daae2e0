#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

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
  /// A user with a second factor is not signed in by the password alone: the answer is then
  /// ``SignInResult/secondFactorRequired(_:)`` with a challenge for
  /// ``completeSignIn(_:with:)``. The correct password then neither counts as a failure nor
  /// clears the failures counted before it; only a completed sign-in does, so knowing the
  /// password does not buy unlimited code guesses.
  ///
  /// - Parameters:
  ///   - username: The username as typed.
  ///   - password: The password.
  /// - Returns: The signed-in user (and whether they must change their password or enrol a
  ///   second factor now), or the challenge of the code step.
  /// - Throws: ``UserManagementError``: ``UserManagementError/Code/invalidCredentials``,
  ///   ``UserManagementError/Code/accountInactive`` (only after a correct password), or
  ///   ``UserManagementError/Code/throttled``.
  public func authenticate(username: String, password: Secret)
    async throws(UserManagementError) -> SignInResult
  {
    try await reportingSignIn(.password) {
      (account: inout UserID?) async throws(UserManagementError) in
      try await passwordSignIn(username: username, password: password, account: &account)
    }
  }

  private func passwordSignIn(username: String, password: Secret, account: inout UserID?)
    async throws(UserManagementError) -> (SignInResult, Bool)
  {
    guard password.byteCount <= configuration.passwordPolicy.maximumBytes else {
      throw Self.invalidCredentials()
    }
    try requireHashingRoom()
    var record: UserRecord?
    if let key = Username.lookupKey(username) {
      record = try await fromStore { try await self.store.user(usernameKey: key) }
    }
    account = record?.id
    guard let record, let stored = record.passwordHash else {
      try await burnVerification(password)
      throw Self.invalidCredentials()
    }
    let twoStep = record.security.hasSecondFactor
    let verified = try await checkCredential(
      password, against: stored, of: record, kind: .password, resettingThrottle: !twoStep)
    guard record.user.status == .active else {
      throw UserManagementError(.accountInactive, "The account is inactive.")
    }
    let rehashed =
      verified.needsRehash && configuration.rehashOnSignIn
      ? await rehash(record, password: password, verifiedHash: stored) : nil
    if twoStep {
      let challenge = try await issueSignInChallenge(
        for: record.id, verifiedUnder: record.user.securityStamp)
      return (.secondFactorRequired(challenge), rehashed != nil)
    }
    let user = rehashed?.user ?? record.user
    return (.signedIn(signedIn(user, rehashed: rehashed != nil)), rehashed != nil)
  }

  func signedIn(_ user: User, rehashed: Bool) -> AuthenticatedUser {
    AuthenticatedUser(
      user: user, rehashed: rehashed,
      mustEnrollSecondFactor: !user.hasSecondFactor
        && configuration.accountSecurity.requiresSecondFactor(user))
  }

  /// Authenticates direct API access with username and API password.
  ///
  /// Only active users with API access enabled pass, and only with their API password (never
  /// the login password). The work done depends only on the shape of what was presented: a
  /// secret shaped like a generated token is checked with the fast keyed hash (against the
  /// stored token, or a dummy), anything else with the slow password hash (against the stored
  /// typed API password, or a dummy), so timing does not tell which accounts have which kind
  /// of API password. A token with a wrong checksum is refused before any lookup. Generated
  /// tokens cannot be guessed, so their failures are not throttled (which would only let an
  /// attacker lock accounts); typed API passwords are throttled like passwords.
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
    try await reportingSignIn(.apiPassword) {
      (account: inout UserID?) async throws(UserManagementError) in
      (try await apiSignIn(username: username, apiPassword: apiPassword, account: &account), false)
    }
  }

  private func apiSignIn(username: String, apiPassword: Secret, account: inout UserID?)
    async throws(UserManagementError) -> User
  {
    guard apiPassword.byteCount <= configuration.passwordPolicy.maximumBytes else {
      throw Self.invalidCredentials()
    }
    let generator = configuration.apiPasswordGenerator
    let isToken = generator.looksLikeToken(apiPassword)
    if isToken && !generator.hasValidChecksum(apiPassword) {
      throw Self.invalidCredentials()
    }
    if !isToken { try requireHashingRoom() }
    var record: UserRecord?
    if let key = Username.lookupKey(username) {
      record = try await fromStore { try await self.store.user(usernameKey: key) }
    }
    account = record?.id
    let stored = record?.apiPasswordHash
    if isToken {
      guard let record, let stored, APIPasswordGenerator.isTokenHash(stored) else {
        _ = try? APIPasswordGenerator.verify(apiPassword, against: dummyHash.token(generator))
        throw Self.invalidCredentials()
      }
      guard (try? APIPasswordGenerator.verify(apiPassword, against: stored)) == true else {
        throw Self.invalidCredentials()
      }
      return try Self.requireAPIEligible(record)
    }
    guard let record, let stored, !APIPasswordGenerator.isTokenHash(stored) else {
      try await burnVerification(apiPassword)
      throw Self.invalidCredentials()
    }
    _ = try await checkCredential(apiPassword, against: stored, of: record, kind: .apiPassword)
    return try Self.requireAPIEligible(record)
  }

  /// Runs a sign-in and, when the host observes sign-ins, reports its outcome. `attempt` sets
  /// `account` as soon as it has found the account, so failures name it (or report an unknown
  /// one).
  func reportingSignIn<R>(
    _ credential: SignInEvent.Credential,
    _ attempt: (inout UserID?) async throws(UserManagementError) -> (R, Bool)
  ) async throws(UserManagementError) -> R {
    var account: UserID?
    guard let observer = configuration.signInObserver else {
      return try await attempt(&account).0
    }
    do {
      let (result, rehashed) = try await attempt(&account)
      var outcome = SignInEvent.Outcome.succeeded
      if let result = result as? SignInResult, case .secondFactorRequired = result {
        outcome = .secondFactorRequired
      }
      observer(
        SignInEvent(
          userID: account, credential: credential, outcome: outcome, rehashed: rehashed,
          time: configuration.now()))
      return result
    } catch {
      let outcome: SignInEvent.Outcome
      switch error.code {
      case .invalidCredentials: outcome = account == nil ? .unknownAccount : .invalidCredentials
      case .throttled: outcome = error.retryAfter == nil ? .locked : .throttled
      case .accountInactive: outcome = .accountInactive
      case .apiAccessDisabled: outcome = .apiAccessDisabled
      case .versionConflict: outcome = .contended
      case .storageFailure: outcome = .storageFailure
      case .invalidToken: outcome = .invalidChallenge
      case .overloaded: outcome = .overloaded
      case .cancelled: outcome = .cancelled
      default: outcome = account == nil ? .unknownAccount : .invalidCredentials
      }
      observer(
        SignInEvent(
          userID: account, credential: credential, outcome: outcome, time: configuration.now()))
      throw error
    }
  }

  private static func requireAPIEligible(_ record: UserRecord) throws(UserManagementError) -> User {
    guard record.user.status == .active else {
      throw UserManagementError(.accountInactive, "The account is inactive.")
    }
    guard record.user.apiAccessEnabled else {
      throw UserManagementError(.apiAccessDisabled, "Direct API access is disabled.")
    }
    return record.user
  }

  struct Verified {
    /// Whether the stored hash is weaker than the configured hasher's.
    var needsRehash: Bool
  }

  /// Checks a credential under the throttle.
  ///
  /// The check first waits for its turn to hash (see ``HashingScheduler/withTurn(inline:_:)``),
  /// so a refusal (``UserManagementError/Code/overloaded``) or a cancellation comes before it
  /// has read the throttle or written anything, for every account alike. In its turn, the
  /// attempt is reserved before any hashing: it is counted as a failure by a commit whose
  /// precondition pins the counter value the throttle decision was made on, so a burst of
  /// parallel attempts is serialized through the counter and each one is judged with the
  /// failures before it (no check-then-act gap). Then the credential is checked, in the same
  /// turn, so nothing can refuse or cancel its answer. A success resets the counter. Throttled
  /// attempts and hashes that cannot be checked cost the same key derivation as a wrong
  /// password and give the same kind of answer, so they do not tell more than the throttle's
  /// own error does.
  func checkCredential(
    _ presented: Secret, against stored: PasswordHash, of record: UserRecord,
    kind: CredentialKind, resettingThrottle: Bool = true
  ) async throws(UserManagementError) -> Verified {
    let hasher = configuration.passwordHasher
    let dummy = dummyHash
    // A login hash weaker than the hasher's own (a legacy format not yet replaced, or older
    // parameters) may answer in microseconds, while an unknown username costs a full
    // verification: a wrong password against it costs that verification too, so that an
    // imported account cannot be told from a missing one, or singled out, by timing.
    let equalize = kind == .password && ((try? hasher.needsRehash(stored)) ?? true)
    let (reservation, outcome) = try await withHashingTurn {
      (turn) async throws(UserManagementError) in
      let reservation = try await reserveAttempt(for: record.id, kind: kind) {
        () async throws(UserManagementError) in
        try await turn.run { () throws(UserManagementError) in
          Self.verifyDummy(presented, hasher: hasher, dummy: dummy)
        }
      }
      let outcome = try await turn.run { () throws(UserManagementError) -> PasswordVerification in
        let result: PasswordVerification
        var uncheckable = false
        do throws(UserManagementError) {
          result = try hasher.verify(presented, against: stored)
        } catch  where error.code == .unsupportedHash {
          // The stored hash cannot be checked (malformed, unknown, or above the cost limits):
          // the caller learns only that the credentials are wrong, after the key derivation
          // a wrong password costs (the refusal itself costs none, and answering at once
          // would single the account out); the operator sees it in a hash census.
          result = .invalid
          uncheckable = true
        }
        if uncheckable || !result.isValid && equalize {
          Self.verifyDummy(presented, hasher: hasher, dummy: dummy)
        }
        return result
      }
      return (reservation, outcome)
    }
    guard outcome.isValid else { throw Self.invalidCredentials() }
    // A proof that does not complete a sign-in neither counts as a failure nor clears them.
    let changes =
      resettingThrottle
      ? ChangeSet(throttleUpdates: [ThrottleUpdate(user: record.id, kind: kind, operation: .reset)])
      : withdrawing(reservation, of: record.id, kind: kind)
    try await fromStore { try await self.store.commit(changes) }
    return Verified(needsRehash: outcome == .validNeedsRehash)
  }

  /// Verifies `presented` against the hasher's unmatchable hash: the work of a wrong password,
  /// for answers that must not come sooner than one.
  static func verifyDummy(_ presented: Secret, hasher: any PasswordHasher, dummy: DummyHash) {
    if let unmatchable = try? dummy.get(hasher) {
      _ = try? hasher.verify(presented, against: unmatchable)
    }
  }

  /// The change that takes back an attempt ``reserveAttempt(for:kind:whenRefused:)`` counted.
  func withdrawing(
    _ reservation: (previous: LoginThrottleState, time: Date), of user: UserID,
    kind: CredentialKind
  ) -> ChangeSet {
    ChangeSet(throttleUpdates: [
      ThrottleUpdate(
        user: user, kind: kind,
        operation: .withdrawFailure(
          at: reservation.time, restoring: reservation.previous.lastFailure))
    ])
  }

  /// Reserves one attempt at a credential under the throttle: counts it as a failure, pinned to
  /// the counter value the throttle decision read, so a concurrent attempt moves the counter
  /// and this one is judged again with it. A success must reset the counter afterwards.
  /// `whenRefused` runs before a throttled attempt is refused (to spend the work a real
  /// attempt costs).
  @discardableResult
  func reserveAttempt(
    for user: UserID, kind: CredentialKind,
    whenRefused: () async throws(UserManagementError) -> Void
  ) async throws(UserManagementError) -> (previous: LoginThrottleState, time: Date) {
    try await commitWithRetry(maximumAttempts: configuration.maximumCommitAttempts * 4) {
      () async throws(UserManagementError) in
      let state = try await fromStore {
        try await self.store.loginThrottle(for: user, kind: kind)
      }
      let now = configuration.now()
      switch configuration.loginThrottle.decision(for: state, now: now) {
      case .allowed:
        break
      case .retryAfter(let delay):
        try await whenRefused()
        let seconds = max(1, delay.components.seconds + (delay.components.attoseconds > 0 ? 1 : 0))
        throw UserManagementError(
          .throttled, "Too many failed attempts; try again in \(seconds) seconds.",
          context: ["retryAfterSeconds": String(seconds)])
      case .locked:
        try await whenRefused()
        throw UserManagementError(
          .throttled,
          "Too many failed attempts; an administrator must unlock the account or reset the "
            + "password.")
      }
      let reservation = ChangeSet(
        preconditions: [.throttleFailures(user, kind, state.consecutiveFailures)],
        throttleUpdates: [
          ThrottleUpdate(user: user, kind: kind, operation: .recordFailure(at: now))
        ])
      return (reservation, (state, now))
    }
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
