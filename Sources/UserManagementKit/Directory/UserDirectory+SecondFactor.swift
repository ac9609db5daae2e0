import UMKCrypto

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// What a user presents at the code step of a sign-in. Never shown: `description` and
/// `dump` say only which kind of code it is.
public enum SecondFactorCode: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
  CustomReflectable
{
  /// The current code of their authenticator app (spaces are ignored).
  case authenticator(String)
  /// One of their unused recovery codes (case, spaces and hyphens are ignored).
  case recovery(Secret)

  /// `authenticator(<redacted>)` or `recovery(<redacted>)`.
  public var description: String {
    switch self {
    case .authenticator: "authenticator(<redacted>)"
    case .recovery: "recovery(<redacted>)"
    }
  }
  /// The same as ``description``.
  public var debugDescription: String { description }
  /// A mirror with no children.
  public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .enum) }
}

/// How a signed-in user proves it is them before weakening their account (removing their
/// second factor) or replacing their recovery codes. Once a factor is confirmed, only a code
/// of it will do: the password alone must not undo what the factor protects. Never shown by
/// `description` or `dump`.
public enum Reauthentication: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
  CustomReflectable
{
  /// Their password; accepted only while no factor is confirmed.
  case password(Secret)
  /// A code of their second factor.
  case secondFactor(SecondFactorCode)

  /// `password(<redacted>)` or `secondFactor(<redacted>)`.
  public var description: String {
    switch self {
    case .password: "password(<redacted>)"
    case .secondFactor: "secondFactor(<redacted>)"
    }
  }
  /// The same as ``description``.
  public var debugDescription: String { description }
  /// A mirror with no children.
  public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .enum) }
}

/// A second factor being enrolled: what the user's authenticator app needs, shown once.
public struct SecondFactorEnrollment: Sendable {
  /// The shared secret in base32 (RFC 4648), for typing into an app.
  public let secret: Secret
  /// The `otpauth://totp/…` URI, for a QR code.
  public let uri: Secret
  /// How codes are computed.
  public let parameters: OneTimeCodeParameters
}

extension UserDirectory {
  // MARK: Enrolment

  /// Starts enrolling an authenticator app (TOTP, RFC 6238) for the signed-in user, who proves
  /// their password first: a session alone (a stolen one, say) must not be able to tie the
  /// account to someone else's app and lock its owner out.
  ///
  /// The directory makes a 160-bit secret from the configured random source (the kernel's
  /// CSPRNG by default) and returns it once, with its `otpauth://` URI; it is stored sealed
  /// with the configured ``AccountSecuritySettings/keyring`` (or, without one, as is — see the
  /// Security Model article). Nothing changes at sign-in until
  /// ``confirmSecondFactor(for:code:by:)`` proves the app works. Starting again replaces an
  /// unconfirmed enrolment.
  ///
  /// - Parameters:
  ///   - id: The user; only the user themself may enrol.
  ///   - password: Their password. A wrong one counts towards the sign-in throttle.
  ///   - principal: Who acts: `.user(id)`.
  /// - Returns: The secret and URI for the app.
  /// - Throws: ``UserManagementError/Code/notAuthorized`` for anyone else,
  ///   ``UserManagementError/Code/invalidOperation`` when a factor is already enrolled,
  ///   ``UserManagementError/Code/invalidCredentials`` for a wrong password (or an account
  ///   without one), ``UserManagementError/Code/throttled``.
  public func enrollSecondFactor(for id: UserID, password: Secret, by principal: Principal)
    async throws(UserManagementError) -> SecondFactorEnrollment
  {
    let settings = configuration.accountSecurity
    let first = try await ownRecord(id, principal)
    guard !first.security.hasSecondFactor else { throw Self.alreadyEnrolled() }
    try await prove(.password(password), for: first)
    return try await commitWithRetry { () async throws(UserManagementError) in
      let record = try await ownRecord(id, principal)
      try Self.requireStillProven(record, provenAs: first)
      guard !record.security.hasSecondFactor else { throw Self.alreadyEnrolled() }
      var secret = [UInt8](repeating: 0, count: 20)
      configuration.random.fillSecret(&secret)
      defer { Platform.secureZero(bytes: &secret) }
      var updated = record
      updated.security.secondFactor = SecondFactorState(
        secret: SealedSecret.seal(
          secret, context: Self.sealingContext(id), keyring: settings.keyring,
          random: configuration.random),
        parameters: settings.oneTimeCodes, isConfirmed: false, lastUsedStep: nil,
        createdAt: configuration.now())
      updated.user.version += 1
      let enrollment = Self.enrollment(
        secret: secret, username: record.user.username.rawValue, issuer: settings.issuer,
        parameters: settings.oneTimeCodes)
      return (
        ChangeSet(preconditions: [.userVersion(id, record.user.version)], users: [updated]),
        enrollment
      )
    }
  }

  /// Completes an enrolment with a current code from the app, and returns ten recovery codes,
  /// shown once (the directory keeps only their keyed hashes).
  ///
  /// - Parameters:
  ///   - id: The user; only the user themself may confirm.
  ///   - code: The app's current code.
  ///   - principal: Who acts: `.user(id)`.
  /// - Returns: The recovery codes, `xxxx-xxxx-xxxx-xxxx`.
  /// - Throws: ``UserManagementError/Code/invalidCredentials`` for a wrong code (it counts
  ///   towards the sign-in throttle, like a wrong code at sign-in),
  ///   ``UserManagementError/Code/throttled``,
  ///   ``UserManagementError/Code/invalidOperation`` when no enrolment is in progress.
  public func confirmSecondFactor(for id: UserID, code: String, by principal: Principal)
    async throws(UserManagementError) -> [Secret]
  {
    let first = try await ownRecord(id, principal)
    guard let pending = first.security.secondFactor, !pending.isConfirmed else {
      throw Self.noEnrolment()
    }
    // One attempt, reserved once (not once per retry): guesses of the code are throttled.
    try await reserveAttempt(for: id, kind: .password) { () async throws(UserManagementError) in
    }
    return try await commitWithRetry { () async throws(UserManagementError) in
      let record = try await ownRecord(id, principal)
      guard let factor = record.security.secondFactor, !factor.isConfirmed else {
        throw Self.noEnrolment()
      }
      guard let step = try matchingStep(code, factor, of: record) else {
        throw UserManagementError(.invalidCredentials, "The code is not correct.")
      }
      let now = configuration.now()
      let (codes, hashes) = makeRecoveryCodes()
      var updated = record
      updated.security.secondFactor?.isConfirmed = true
      updated.security.secondFactor?.lastUsedStep = step
      updated.security.recoveryCodes = hashes
      updated.user.version += 1
      updated.user.updatedAt = now
      let audit = event(
        .secondFactorEnrolled, by: principal, on: target(record),
        [FieldChange(field: "secondFactor", oldValue: nil, newValue: "totp")], at: now)
      return (
        ChangeSet(
          preconditions: [.userVersion(id, record.user.version)], users: [updated],
          auditEvents: [audit], throttleUpdates: [Self.resetThrottle(id)]), codes
      )
    }
  }

  /// Removes the signed-in user's own second factor and recovery codes, after they prove it
  /// is them. Their security stamp changes, so their other sessions end.
  ///
  /// A confirmed factor is removed only with one of its codes (an authenticator or a recovery
  /// code): with the password alone, whoever knows it could strip the factor and then change
  /// the password without a code. An enrolment not yet confirmed is removed with the password
  /// (it has no code that counts yet).
  /// A user who lost both the app and the recovery codes asks an administrator
  /// (``resetSecondFactor(of:by:)``).
  ///
  /// - Parameters:
  ///   - id: The user; only the user themself may remove it.
  ///   - proof: A code of the confirmed factor, or the password for an unconfirmed enrolment.
  ///   - principal: Who acts: `.user(id)`.
  /// - Returns: The user after the change (with its new security stamp).
  /// - Throws: ``UserManagementError/Code/invalidCredentials`` for a wrong proof,
  ///   ``UserManagementError/Code/secondFactorRequired`` for a password against a confirmed
  ///   factor, ``UserManagementError/Code/throttled``,
  ///   ``UserManagementError/Code/invalidOperation`` when no factor is enrolled.
  public func removeSecondFactor(
    for id: UserID, proof: Reauthentication, by principal: Principal
  ) async throws(UserManagementError) -> User {
    let first = try await ownRecord(id, principal)
    guard first.security.secondFactor != nil else { throw Self.noFactor() }
    try Self.requireCode(proof, whenConfirmedIn: first)
    try await prove(proof, for: first)
    return try await commitWithRetry { () async throws(UserManagementError) in
      let record = try await ownRecord(id, principal)
      // A code is checked against this very record below; a password was checked before.
      if case .password = proof { try Self.requireStillProven(record, provenAs: first) }
      guard record.security.secondFactor != nil else { throw Self.noFactor() }
      try Self.requireCode(proof, whenConfirmedIn: record)
      let now = configuration.now()
      var (updated, events) = try verify(proof, of: record, by: principal, at: now)
      clearSecondFactor(of: &updated, at: now)
      events.append(
        event(
          .secondFactorRemoved, by: principal, on: target(record),
          [FieldChange(field: "secondFactor", oldValue: "totp", newValue: nil)], at: now))
      return (
        ChangeSet(
          preconditions: [.userVersion(id, record.user.version)], users: [updated],
          auditEvents: events, throttleUpdates: Self.throttleUpdates(after: proof, of: id)),
        updated.user
      )
    }
  }

  /// Removes another user's second factor and recovery codes, for a user who lost their
  /// device. The administrator never sees the factor. The user's security stamp changes.
  ///
  /// - Parameters:
  ///   - id: The user.
  ///   - principal: An active administrator (not the user themself, who uses
  ///     ``removeSecondFactor(for:proof:by:)``) or a system principal.
  /// - Returns: The user after the change.
  /// - Throws: ``UserManagementError/Code/notAuthorized``,
  ///   ``UserManagementError/Code/selfModificationForbidden``,
  ///   ``UserManagementError/Code/userNotFound``,
  ///   ``UserManagementError/Code/invalidOperation`` when no factor is enrolled.
  public func resetSecondFactor(of id: UserID, by principal: Principal)
    async throws(UserManagementError) -> User
  {
    try await commitWithRetry { () async throws(UserManagementError) in
      let acting = try await acting(principal, requireAdmin: true)
      guard acting.userID != id else {
        throw UserManagementError(
          .selfModificationForbidden,
          "Remove your own second factor with a code of it, not by a reset.")
      }
      guard let record = try await fromStore({ try await self.store.user(id: id) }) else {
        throw .userNotFound()
      }
      guard record.security.secondFactor != nil else {
        throw UserManagementError(.invalidOperation, "The user has no second factor.")
      }
      let now = configuration.now()
      var updated = record
      clearSecondFactor(of: &updated, at: now)
      let audit = event(
        .secondFactorReset, by: principal, on: target(record),
        [FieldChange(field: "secondFactor", oldValue: "totp", newValue: nil)], at: now)
      return (
        ChangeSet(
          preconditions: acting.preconditions + [.userVersion(id, record.user.version)],
          users: [updated], auditEvents: [audit]), updated.user
      )
    }
  }

  /// Replaces the signed-in user's recovery codes with ten new ones, after they prove it is
  /// them with a code of their factor (the password alone would hand whoever knows it a
  /// lasting second factor); the old codes stop working.
  ///
  /// - Parameters:
  ///   - id: The user; only the user themself may do this.
  ///   - proof: A code of the factor (an authenticator or a recovery code).
  ///   - principal: Who acts: `.user(id)`.
  /// - Returns: The new codes, shown once.
  /// - Throws: ``UserManagementError/Code/invalidCredentials``,
  ///   ``UserManagementError/Code/secondFactorRequired`` for a password,
  ///   ``UserManagementError/Code/throttled``, ``UserManagementError/Code/invalidOperation``
  ///   when no factor is enrolled.
  public func regenerateRecoveryCodes(
    for id: UserID, proof: Reauthentication, by principal: Principal
  ) async throws(UserManagementError) -> [Secret] {
    let first = try await ownRecord(id, principal)
    guard first.security.hasSecondFactor else { throw Self.noFactor() }
    try Self.requireCode(proof, whenConfirmedIn: first)
    try await prove(proof, for: first)
    return try await commitWithRetry { () async throws(UserManagementError) in
      let record = try await ownRecord(id, principal)
      guard record.security.hasSecondFactor else { throw Self.noFactor() }
      let now = configuration.now()
      var (updated, events) = try verify(proof, of: record, by: principal, at: now)
      let (codes, hashes) = makeRecoveryCodes()
      updated.security.recoveryCodes = hashes
      updated.user.version += 1
      updated.user.updatedAt = now
      events.append(
        event(
          .recoveryCodesRegenerated, by: principal, on: target(record),
          [.secret("recoveryCodes")], at: now))
      return (
        ChangeSet(
          preconditions: [.userVersion(id, record.user.version)], users: [updated],
          auditEvents: events, throttleUpdates: Self.throttleUpdates(after: proof, of: id)),
        codes
      )
    }
  }

  /// How many unused recovery codes the user has left.
  ///
  /// - Parameters:
  ///   - id: The user.
  ///   - principal: The user themself, an active administrator or a system principal.
  /// - Returns: The count.
  /// - Throws: ``UserManagementError/Code/notAuthorized``,
  ///   ``UserManagementError/Code/userNotFound``.
  public func remainingRecoveryCodes(of id: UserID, by principal: Principal)
    async throws(UserManagementError) -> Int
  {
    let acting = try await acting(
      principal, requireAdmin: false, allowingPendingPasswordChange: true,
      allowingPendingEnrollment: true)
    if acting.userID != id {
      try requireNothingPending(acting)
      guard acting.isAdmin else { throw .notAuthorized() }
    }
    guard let record = try await fromStore({ try await self.store.user(id: id) }) else {
      throw .userNotFound()
    }
    return record.security.recoveryCodes.count
  }

  // MARK: Sign-in

  /// Completes a sign-in whose password step answered
  /// ``SignInResult/secondFactorRequired(_:)``.
  ///
  /// An authenticator code is accepted for the current 30-second step or one step either side
  /// (clock skew), and only if its step is later than the last accepted one: a code is never
  /// accepted twice, even by two servers at once, because the step is recorded in the same
  /// commit that completes the sign-in. A recovery code is used up. Wrong codes count towards
  /// the same throttle as passwords. The challenge is single-use: it is consumed by the
  /// sign-in it completes.
  ///
  /// - Parameters:
  ///   - challenge: The challenge's token from the password step.
  ///   - code: The code the user typed.
  /// - Returns: The signed-in user.
  /// - Throws: ``UserManagementError/Code/invalidToken`` for a challenge that is malformed,
  ///   unknown, used, expired, or older than a change of the user's credentials;
  ///   ``UserManagementError/Code/invalidCredentials`` for a wrong code (the challenge stays
  ///   valid); ``UserManagementError/Code/throttled``;
  ///   ``UserManagementError/Code/accountInactive``.
  public func completeSignIn(_ challenge: Secret, with code: SecondFactorCode)
    async throws(UserManagementError) -> AuthenticatedUser
  {
    let credential: SignInEvent.Credential =
      switch code {
      case .authenticator: .authenticatorCode
      case .recovery: .recoveryCode
      }
    return try await reportingSignIn(credential) {
      (account: inout UserID?) async throws(UserManagementError) in
      guard let parsed = SecurityToken.parse(challenge, as: .signInChallenge) else {
        throw Self.invalidChallenge()
      }
      // The challenge is checked before the attempt is reserved (a forged one costs nothing
      // against the account), and the attempt is reserved once, not once per retry.
      let first = try await fromStore { try await self.store.user(id: parsed.user) }
      guard liveToken(challenge, .signInChallenge, in: first, at: configuration.now()) != nil,
        first?.security.hasSecondFactor == true
      else { throw Self.invalidChallenge() }
      // Only a live challenge names its account in the sign-in event: a forged one, made with
      // any user's id, must not put failures on that user's record.
      account = parsed.user
      try await reserveAttempt(for: parsed.user, kind: .password) {
        () async throws(UserManagementError) in
      }
      let signedIn = try await commitWithRetry { () async throws(UserManagementError) in
        let record = try await fromStore { try await self.store.user(id: parsed.user) }
        let now = configuration.now()
        guard let record, let index = liveToken(challenge, .signInChallenge, in: record, at: now),
          record.security.hasSecondFactor
        else { throw Self.invalidChallenge() }
        guard record.user.status == .active else {
          throw UserManagementError(.accountInactive, "The account is inactive.")
        }
        var updated = try verifySecondFactor(code, of: record)
        updated.security.tokens.remove(at: index)
        updated.security.tokens.removeAll { $0.expiresAt <= now }
        updated.user.version += 1
        var events: [AuditEvent] = []
        if case .recovery = code {
          events.append(recoveryCodeUsed(updated, by: .user(record.id), at: now))
        }
        return (
          ChangeSet(
            preconditions: [.userVersion(record.id, record.user.version)], users: [updated],
            auditEvents: events, throttleUpdates: [Self.resetThrottle(record.id)]),
          updated.user
        )
      }
      return (self.signedIn(signedIn, rehashed: false), false)
    }
  }

  /// Stores a new sign-in challenge for a user whose password was just verified.
  func issueSignInChallenge(for id: UserID, verifiedUnder stamp: SecurityStamp)
    async throws(UserManagementError) -> SignInChallenge
  {
    let lifetime = configuration.accountSecurity.signInChallengeLifetime
    return try await commitWithRetry { () async throws(UserManagementError) in
      // The stamp the password was verified under: a password changed meanwhile must not
      // carry the old password's success over to the new one.
      guard let record = try await fromStore({ try await self.store.user(id: id) }),
        record.user.securityStamp == stamp
      else {
        throw Self.invalidCredentials()
      }
      let now = configuration.now()
      let token = SecurityToken.make(.signInChallenge, user: id, random: configuration.random)
      let expiresAt = now.addingTimeInterval(lifetime.timeInterval)
      var updated = record
      Self.store(
        StoredToken(
          purpose: .signInChallenge,
          hash: SecurityToken.hash(token, random: configuration.random),
          securityStamp: record.user.securityStamp, expiresAt: expiresAt),
        in: &updated, at: now, keeping: 5)
      updated.user.version += 1
      return (
        ChangeSet(preconditions: [.userVersion(id, record.user.version)], users: [updated]),
        SignInChallenge(token: token, expiresAt: expiresAt)
      )
    }
  }

  // MARK: Machinery

  /// Removes the factor, its recovery codes and pending challenges, and changes the stamp so
  /// the user's sessions end: the same for a user's removal and an administrator's reset.
  private func clearSecondFactor(of record: inout UserRecord, at now: Date) {
    record.security.secondFactor = nil
    record.security.recoveryCodes = []
    record.security.tokens.removeAll { $0.purpose == .signInChallenge }
    record.user.securityStamp = newSecurityStamp()
    record.user.version += 1
    record.user.updatedAt = now
  }

  /// The record of the signed-in user acting on themself.
  private func ownRecord(_ id: UserID, _ principal: Principal)
    async throws(UserManagementError) -> UserRecord
  {
    let acting = try await acting(
      principal, requireAdmin: false, allowingPendingEnrollment: true)
    guard acting.userID == id else {
      throw .notAuthorized("Only the user themself can manage their second factor.")
    }
    guard let record = try await fromStore({ try await self.store.user(id: id) }) else {
      throw .userNotFound()
    }
    return record
  }

  /// Proves the user's identity before a change that weakens or replaces their second
  /// factor: a password is verified now (it neither counts nor clears the throttle); for a
  /// code, one attempt is reserved now and the code is checked, and used up, by
  /// ``verify(_:of:by:at:)`` inside the change's commit.
  func prove(_ proof: Reauthentication, for record: UserRecord)
    async throws(UserManagementError)
  {
    switch proof {
    case .password(let password):
      guard password.byteCount <= configuration.passwordPolicy.maximumBytes,
        let stored = record.passwordHash
      else { throw Self.invalidCredentials() }
      _ = try await checkCredential(
        password, against: stored, of: record, kind: .password, resettingThrottle: false)
    case .secondFactor:
      try await reserveAttempt(for: record.id, kind: .password) {
        () async throws(UserManagementError) in
      }
    }
  }

  /// The record with a code proof used up (and its audit event for a recovery code); a
  /// password proof was checked by ``prove(_:for:)``.
  func verify(
    _ proof: Reauthentication, of record: UserRecord, by principal: Principal, at now: Date
  ) throws(UserManagementError) -> (UserRecord, [AuditEvent]) {
    guard case .secondFactor(let code) = proof else { return (record, []) }
    let updated = try verifySecondFactor(code, of: record)
    guard case .recovery = code else { return (updated, []) }
    return (updated, [recoveryCodeUsed(updated, by: principal, at: now)])
  }

  /// A completed proof with a code clears the throttle; a password alone does not (for a user
  /// with a second factor, only the code does).
  static func throttleUpdates(after proof: Reauthentication, of id: UserID)
    -> [ThrottleUpdate]
  {
    if case .secondFactor = proof { return [resetThrottle(id)] }
    return []
  }

  func recoveryCodeUsed(_ updated: UserRecord, by principal: Principal, at now: Date)
    -> AuditEvent
  {
    event(
      .recoveryCodeUsed, by: principal, on: target(updated),
      [
        FieldChange(
          field: "remainingRecoveryCodes", oldValue: nil,
          newValue: String(updated.security.recoveryCodes.count))
      ], at: now)
  }

  /// Checks a code (its attempt already reserved under the throttle); returns the record with
  /// the code's step recorded or the recovery code removed (and the secret sealed again under
  /// the current key), for the caller to commit with a throttle reset.
  func verifySecondFactor(_ code: SecondFactorCode, of record: UserRecord)
    throws(UserManagementError) -> UserRecord
  {
    guard let factor = record.security.secondFactor, factor.isConfirmed else {
      throw Self.wrongCode()
    }
    var updated = record
    switch code {
    case .authenticator(let typed):
      guard let step = try matchingStep(typed, factor, of: record) else {
        throw Self.wrongCode()
      }
      updated.security.secondFactor?.lastUsedStep = step
      if let keyring = configuration.accountSecurity.keyring,
        factor.secret.keyID != keyring.current.id
      {
        var secret = try factor.secret.open(
          context: Self.sealingContext(record.id), keyring: keyring)
        defer { Platform.secureZero(bytes: &secret) }
        updated.security.secondFactor?.secret = SealedSecret.seal(
          secret, context: Self.sealingContext(record.id), keyring: keyring,
          random: configuration.random)
      }
    case .recovery(let typed):
      guard let normalized = RecoveryCode.normalize(typed) else { throw Self.wrongCode() }
      // Every stored code is checked, so the time does not say which one matched.
      var match: Int?
      for (index, hash) in record.security.recoveryCodes.enumerated()
      where SecurityToken.matches(normalized, hash) {
        match = index
      }
      guard let match else { throw Self.wrongCode() }
      updated.security.recoveryCodes.remove(at: match)
    }
    return updated
  }

  /// The step whose code was typed, if it is valid and later than the last used one.
  private func matchingStep(_ typed: String, _ factor: SecondFactorState, of record: UserRecord)
    throws(UserManagementError) -> UInt64?
  {
    guard let presented = OneTimeCodeParameters.normalize(typed) else { return nil }
    var secret = try factor.secret.open(
      context: Self.sealingContext(record.id), keyring: configuration.accountSecurity.keyring)
    defer { Platform.secureZero(bytes: &secret) }
    return factor.parameters.matchingStep(
      presented, secret: secret, at: configuration.now(), after: factor.lastUsedStep)
  }

  private func makeRecoveryCodes() -> ([Secret], [PasswordHash]) {
    var codes: [Secret] = []
    var hashes: [PasswordHash] = []
    for _ in 0..<RecoveryCode.count {
      let code = RecoveryCode.generate(random: configuration.random)
      codes.append(code)
      if let normalized = RecoveryCode.normalize(code) {
        hashes.append(SecurityToken.hash(normalized, random: configuration.random))
      }
    }
    return (codes, hashes)
  }

  /// The index of a stored token of `purpose` that `token` matches and that is still live:
  /// not expired, and issued under the user's current security stamp.
  func liveToken(
    _ token: Secret, _ purpose: StoredToken.Purpose, in record: UserRecord?, at now: Date
  ) -> Int? {
    var match: Int?
    var checked = false
    for (index, stored) in (record?.security.tokens ?? []).enumerated()
    where stored.purpose == purpose {
      checked = true
      if SecurityToken.matches(token, stored.hash) { match = index }
    }
    // With nothing to check against, one keyed hash all the same: the time does not say
    // whether the user exists or has a token outstanding.
    if !checked { _ = SecurityToken.matches(token, dummyHash.keyHash) }
    guard let record, let match else { return nil }
    let stored = record.security.tokens[match]
    guard stored.expiresAt > now, stored.securityStamp == record.user.securityStamp else {
      return nil
    }
    return match
  }

  /// Adds a token, dropping expired and stale ones and the oldest of its purpose beyond
  /// `keeping`.
  static func store(
    _ token: StoredToken, in record: inout UserRecord, at now: Date, keeping limit: Int
  ) {
    var tokens = record.security.tokens.filter {
      $0.expiresAt > now && $0.securityStamp == record.user.securityStamp
    }
    let same = tokens.indices.filter { tokens[$0].purpose == token.purpose }
    if same.count >= limit {
      let drop = Set(same.prefix(same.count - limit + 1))
      tokens = tokens.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
    }
    tokens.append(token)
    record.security.tokens = tokens
  }

  /// Refuses a password as the proof for a user whose factor is confirmed.
  static func requireCode(_ proof: Reauthentication, whenConfirmedIn record: UserRecord)
    throws(UserManagementError)
  {
    guard case .password = proof, record.security.hasSecondFactor else { return }
    throw UserManagementError(
      .secondFactorRequired,
      "Enter a code from your authenticator app (or a recovery code) to confirm it is you; "
        + "your password alone is not enough here.")
  }

  /// Refuses to commit a change proven against an earlier state of the account's credentials:
  /// a password changed (or a factor reset) since the proof must not let the old proof through.
  static func requireStillProven(_ record: UserRecord, provenAs first: UserRecord)
    throws(UserManagementError)
  {
    guard record.user.securityStamp == first.user.securityStamp else {
      throw .conflict("Your account's credentials changed meanwhile; try again.")
    }
  }

  private static func alreadyEnrolled() -> UserManagementError {
    UserManagementError(.invalidOperation, "A second factor is already enrolled; remove it first.")
  }

  private static func noEnrolment() -> UserManagementError {
    UserManagementError(
      .invalidOperation, "No second-factor enrolment is in progress; start one first.")
  }

  private static func noFactor() -> UserManagementError {
    UserManagementError(.invalidOperation, "No second factor is enrolled.")
  }

  static func sealingContext(_ id: UserID) -> [UInt8] {
    Array("umk-totp-secret:\(id)".utf8)
  }

  static func resetThrottle(_ id: UserID) -> ThrottleUpdate {
    ThrottleUpdate(user: id, kind: .password, operation: .reset)
  }

  func target(_ record: UserRecord) -> AuditTarget {
    .user(record.id, username: record.user.username.rawValue)
  }

  static func invalidChallenge() -> UserManagementError {
    UserManagementError(
      .invalidToken, "The sign-in has expired or was already completed; sign in again.")
  }

  static func wrongCode() -> UserManagementError {
    UserManagementError(.invalidCredentials, "The code is not correct.")
  }

  private static func enrollment(
    secret: [UInt8], username: String, issuer: String, parameters: OneTimeCodeParameters
  ) -> SecondFactorEnrollment {
    let base32 = Base32.encode(secret)
    let label = percentEncode(issuer) + ":" + percentEncode(username)
    let uri =
      "otpauth://totp/\(label)?secret=\(base32)&issuer=\(percentEncode(issuer))"
      + "&algorithm=\(parameters.algorithm.rawValue)&digits=\(parameters.digits)"
      + "&period=\(parameters.period)"
    return SecondFactorEnrollment(secret: Secret(base32), uri: Secret(uri), parameters: parameters)
  }

  /// Percent-encodes everything but RFC 3986's unreserved characters.
  static func percentEncode(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
      switch byte {
      case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E:
        out.unicodeScalars.append(Unicode.Scalar(byte))
      default:
        let hex = Array("0123456789ABCDEF".unicodeScalars)
        out.unicodeScalars.append("%")
        out.unicodeScalars.append(hex[Int(byte >> 4)])
        out.unicodeScalars.append(hex[Int(byte & 0xF)])
      }
    }
    return out
  }
}
