#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

extension UserDirectory {
  // MARK: Bootstrap and creation

  /// Creates the first administrator of an empty directory.
  ///
  /// The new user is an active administrator whatever `user` says about status, role and
  /// policies. The audit trail records the principal `system:bootstrap`.
  ///
  /// - Parameter user: The first administrator.
  /// - Returns: The user, and the password if it was generated.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/alreadyBootstrapped``
  ///   once the directory has any user, or a validation error.
  @discardableResult
  public func bootstrap(_ user: NewUser) async throws(UserManagementError) -> UserChangeResult {
    guard try await fromStore({ try await self.store.userCount(matching: UserFilter()) }) == 0
    else {
      throw UserManagementError(
        .alreadyBootstrapped,
        "The directory already has users; bootstrap is only for an empty directory.")
    }
    var request = user
    request.status = .active
    request.role = .admin
    request.policies = []
    return try await create(request, by: .system("bootstrap"), bootstrap: true)
  }

  /// Adds a user: the console's "Create User Account" and "Add User".
  ///
  /// - Parameters:
  ///   - user: The new user's details.
  ///   - principal: Who adds the user; must be an active administrator or a system principal.
  /// - Returns: The user, and the password if it was generated (returned only here, once).
  /// - Throws: ``UserManagementError``: ``UserManagementError/Code/notAuthorized``,
  ///   ``UserManagementError/Code/invalidUsername``,
  ///   ``UserManagementError/Code/usernameTaken``, ``UserManagementError/Code/invalidField``,
  ///   ``UserManagementError/Code/weakPassword``, ``UserManagementError/Code/policyNotFound``
  ///   or ``UserManagementError/Code/invalidOperation`` (policies for an administrator).
  @discardableResult
  public func addUser(_ user: NewUser, by principal: Principal) async throws(UserManagementError)
    -> UserChangeResult
  {
    try await create(user, by: principal, bootstrap: false)
  }

  private func create(_ request: NewUser, by principal: Principal, bootstrap: Bool)
    async throws(UserManagementError) -> UserChangeResult
  {
    // Cheap checks first, so refused requests cost no hashing.
    var checked = bootstrap ? nil : try await acting(principal, requireAdmin: true)
    let fields = try NewUserFields(
      username: request.username, firstName: request.firstName, lastName: request.lastName,
      status: request.status, role: request.role, policies: request.policies,
      apiAccessEnabled: request.apiAccessEnabled)
    let username = fields.username
    try await requireUsernameFree(username)
    // Whether the policies exist is checked by the store at commit (and reported as
    // policy_not_found); checking here too would cost a read per policy on every add.

    guard let password = try await prepare(request.password, for: username, field: "password")
    else { throw .invalidField("password", "missing", "A password is required.") }

    return try await commitWithRetry { () async throws(UserManagementError) in
      var preconditions: [CommitPrecondition] = [.directoryIsEmpty]
      if !bootstrap {
        // The first attempt reuses the check above: its precondition pins the actor's
        // version, so a change since then fails the commit and the retry reads afresh.
        if let reused = checked.take() {
          preconditions = reused.preconditions
        } else {
          preconditions = try await acting(principal, requireAdmin: true).preconditions
        }
      }
      let (record, audit) = newUser(
        fields, passwordHash: password.hash,
        mustChangePassword: !bootstrap && configuration.requirePasswordChangeAfterAdminReset,
        action: bootstrap ? .userBootstrapped : .userCreated, by: principal,
        at: configuration.now())
      return (
        ChangeSet(preconditions: preconditions, users: [record], auditEvents: [audit]),
        UserChangeResult(
          user: record.user, generatedPassword: password.generated, generatedAPIPassword: nil)
      )
    }
  }

  // MARK: New users

  /// A new user's fields, validated the same way for add, bootstrap and import.
  struct NewUserFields {
    var username: Username
    var firstName: String
    var lastName: String
    var status: UserStatus
    var role: Role
    var policies: Set<PolicyID>
    var apiAccessEnabled: Bool

    /// Validates the username and names, and that an administrator holds no policies.
    init(
      username: String, firstName: String, lastName: String, status: UserStatus, role: Role,
      policies: Set<PolicyID>, apiAccessEnabled: Bool, policiesRequested: Bool? = nil
    ) throws(UserManagementError) {
      self.username = try Username(username)
      self.firstName = try PersonName.validate(firstName, field: "firstName")
      self.lastName = try PersonName.validate(lastName, field: "lastName")
      if role == .admin && (policiesRequested ?? !policies.isEmpty) {
        throw UserManagementError(
          .invalidOperation,
          "Policies apply to General Users only; administrators may do anything.",
          context: ["field": "policies"])
      }
      self.status = status
      self.role = role
      self.policies = role == .admin ? [] : policies
      self.apiAccessEnabled = apiAccessEnabled
    }
  }

  /// Builds a new user's record and its creation event: the one builder behind add,
  /// bootstrap and import.
  func newUser(
    _ fields: NewUserFields, passwordHash: PasswordHash?, mustChangePassword: Bool,
    action: AuditAction, by principal: Principal, at now: Date
  ) -> (UserRecord, AuditEvent) {
    let user = User(
      id: UserID(rawValue: configuration.makeIdentifier()), username: fields.username,
      firstName: fields.firstName, lastName: fields.lastName, status: fields.status,
      role: fields.role, policies: fields.policies, apiAccessEnabled: fields.apiAccessEnabled,
      hasAPIPassword: false, hasPassword: passwordHash != nil,
      mustChangePassword: mustChangePassword, version: 1, securityStamp: newSecurityStamp(),
      createdAt: now, updatedAt: now, createdBy: principal)
    var changes: [FieldChange] = [
      FieldChange(field: "username", oldValue: nil, newValue: user.username.rawValue),
      FieldChange(field: "firstName", oldValue: nil, newValue: user.firstName),
      FieldChange(field: "lastName", oldValue: nil, newValue: user.lastName),
      FieldChange(field: "status", oldValue: nil, newValue: user.status.rawValue),
      FieldChange(field: "role", oldValue: nil, newValue: user.role.rawValue),
      FieldChange(field: "policies", oldValue: nil, newValue: Self.describe(user.policies)),
      FieldChange(field: "apiAccess", oldValue: nil, newValue: String(user.apiAccessEnabled)),
    ]
    if passwordHash != nil { changes.append(.secret("password")) }
    let audit = event(
      action, by: principal, on: .user(user.id, username: user.username.rawValue), changes,
      at: now)
    return (UserRecord(user: user, passwordHash: passwordHash, apiPasswordHash: nil), audit)
  }

  // MARK: Editing

  /// Edits a user: the console's "Edit User Account" and "Update User", as one atomic change.
  ///
  /// Administrators may change anything of another user. Nobody changes their own status or
  /// role. A General User may change only their own first and last name. Passwords of one's
  /// own account change only with ``changeOwnPassword(of:current:new:secondFactor:)``.
  ///
  /// - Parameters:
  ///   - id: The user to edit.
  ///   - update: The fields to change.
  ///   - expectedVersion: When given, the edit applies only if the user is still at this
  ///     version (optimistic concurrency for edit forms).
  ///   - principal: Who edits.
  /// - Returns: The user after the edit, and any generated secrets (returned only here).
  /// - Throws: ``UserManagementError``: ``UserManagementError/Code/notAuthorized``,
  ///   ``UserManagementError/Code/selfModificationForbidden``,
  ///   ``UserManagementError/Code/lastActiveAdministrator``,
  ///   ``UserManagementError/Code/versionConflict``, ``UserManagementError/Code/userNotFound``,
  ///   or a validation error.
  @discardableResult
  public func updateUser(
    _ id: UserID, with update: UserUpdate, expectedVersion: UInt64? = nil,
    by principal: Principal
  ) async throws(UserManagementError) -> UserChangeResult {
    // First pass: every rule, without secrets, so refusals cost no hashing.
    var first: Loaded? = try await loadForUpdate(
      id, by: principal, expectedVersion: expectedVersion)
    guard let checked = first else { throw .userNotFound() }
    _ = try plan(
      update, on: checked.target, by: checked.acting, secrets: nil, at: configuration.now())
    if let policies = update.policies { try await requirePoliciesExist(policies) }

    let username = checked.target.user.username
    try requireDistinctSecrets(update)
    let secrets = PreparedSecrets(
      password: try await prepare(update.password, for: username, field: "password"),
      apiPassword: try await prepareAPIPassword(update.apiPassword, for: username))
    let checkedHashes = (checked.target.passwordHash, checked.target.apiPasswordHash)

    return try await commitWithRetry { () async throws(UserManagementError) in
      // The first attempt reuses the first pass's reads; the commit's preconditions (the
      // actor's and the target's versions) catch any change since.
      let loaded: Loaded
      if let reused = first.take() {
        loaded = reused
      } else {
        loaded = try await loadForUpdate(id, by: principal, expectedVersion: expectedVersion)
        // The new secrets were checked against the credentials read first; if those changed
        // meanwhile, the check no longer holds.
        if update.password != nil || update.apiPassword != nil,
          (loaded.target.passwordHash, loaded.target.apiPasswordHash) != checkedHashes
        {
          throw .conflict("The user's credentials changed meanwhile; reload and try again.")
        }
      }
      let now = configuration.now()
      guard
        let planned = try plan(
          update, on: loaded.target, by: loaded.acting, secrets: secrets, at: now)
      else {
        return (
          nil,
          UserChangeResult(
            user: loaded.target.user, generatedPassword: nil, generatedAPIPassword: nil)
        )
      }
      let changes = ChangeSet(
        preconditions: loaded.acting.preconditions, users: [planned.record],
        auditEvents: [planned.event], throttleUpdates: planned.throttleUpdates)
      return (
        changes,
        UserChangeResult(
          user: planned.record.user, generatedPassword: secrets.password?.generated,
          generatedAPIPassword: secrets.apiPassword?.generated)
      )
    }
  }

  /// Sets a user active or inactive. Nobody changes their own status.
  ///
  /// - Parameters:
  ///   - status: The new status.
  ///   - id: The user.
  ///   - principal: Who acts; an active administrator or a system principal.
  /// - Returns: The user after the change.
  /// - Throws: ``UserManagementError``, as for ``updateUser(_:with:expectedVersion:by:)``.
  @discardableResult
  public func setStatus(_ status: UserStatus, of id: UserID, by principal: Principal)
    async throws(UserManagementError) -> User
  {
    try await updateUser(id, with: UserUpdate(status: status), by: principal).user
  }

  /// Sets a user's role, and for a General User their policies. Nobody changes their own role.
  ///
  /// - Parameters:
  ///   - role: The new role.
  ///   - policies: The policies of a General User (`nil` keeps the current ones).
  ///   - id: The user.
  ///   - principal: Who acts.
  /// - Returns: The user after the change.
  /// - Throws: ``UserManagementError``, as for ``updateUser(_:with:expectedVersion:by:)``.
  @discardableResult
  public func setRole(
    _ role: Role, policies: Set<PolicyID>? = nil, of id: UserID, by principal: Principal
  ) async throws(UserManagementError) -> User {
    try await updateUser(id, with: UserUpdate(role: role, policies: policies), by: principal).user
  }

  /// Replaces a General User's policies.
  ///
  /// - Parameters:
  ///   - policies: The complete new set.
  ///   - id: The user.
  ///   - principal: Who acts.
  /// - Returns: The user after the change.
  /// - Throws: ``UserManagementError``, as for ``updateUser(_:with:expectedVersion:by:)``.
  @discardableResult
  public func setPolicies(_ policies: Set<PolicyID>, of id: UserID, by principal: Principal)
    async throws(UserManagementError) -> User
  {
    try await updateUser(id, with: UserUpdate(policies: policies), by: principal).user
  }

  /// Changes a user's first and last name. Users may change their own; administrators anyone's.
  ///
  /// - Parameters:
  ///   - id: The user.
  ///   - firstName: The new first name, or `nil` to keep it.
  ///   - lastName: The new last name, or `nil` to keep it.
  ///   - principal: Who acts.
  /// - Returns: The user after the change.
  /// - Throws: ``UserManagementError``, as for ``updateUser(_:with:expectedVersion:by:)``.
  @discardableResult
  public func updateProfile(
    of id: UserID, firstName: String? = nil, lastName: String? = nil, by principal: Principal
  ) async throws(UserManagementError) -> User {
    try await updateUser(
      id, with: UserUpdate(firstName: firstName, lastName: lastName), by: principal
    )
    .user
  }

  /// Sets or generates another user's login password (an administrator's reset).
  ///
  /// The user must change it at their next sign-in when
  /// ``Configuration/requirePasswordChangeAfterAdminReset`` is on. The failed sign-in counter
  /// is cleared.
  ///
  /// - Parameters:
  ///   - password: The new password, typed or generated.
  ///   - id: The user.
  ///   - principal: Who acts.
  /// - Returns: The user, and the password if it was generated.
  /// - Throws: ``UserManagementError``, as for ``updateUser(_:with:expectedVersion:by:)``.
  @discardableResult
  public func setPassword(_ password: NewSecret, of id: UserID, by principal: Principal)
    async throws(UserManagementError) -> UserChangeResult
  {
    try await updateUser(id, with: UserUpdate(password: password), by: principal)
  }

  /// Enables or disables direct API access. Disabling removes the API password and revokes
  /// every API key at once; enabling access again revives neither.
  ///
  /// - Parameters:
  ///   - enabled: Whether API access is enabled.
  ///   - id: The user.
  ///   - principal: Who acts; an active administrator or a system principal.
  /// - Returns: The user after the change.
  /// - Throws: ``UserManagementError``, as for ``updateUser(_:with:expectedVersion:by:)``.
  @discardableResult
  public func setAPIAccess(_ enabled: Bool, of id: UserID, by principal: Principal)
    async throws(UserManagementError) -> User
  {
    try await updateUser(id, with: UserUpdate(apiAccessEnabled: enabled), by: principal).user
  }

  /// Creates, generates or resets a user's API password. The previous one stops working at
  /// once. API access must be enabled.
  ///
  /// - Parameters:
  ///   - apiPassword: The new API password, typed (checked against the password policy and
  ///     slow-hashed) or generated (a token, fast-hashed).
  ///   - id: The user.
  ///   - principal: Who acts.
  /// - Returns: The user, and the API password if it was generated.
  /// - Throws: ``UserManagementError``, as for ``updateUser(_:with:expectedVersion:by:)``.
  @discardableResult
  public func setAPIPassword(_ apiPassword: NewSecret, of id: UserID, by principal: Principal)
    async throws(UserManagementError) -> UserChangeResult
  {
    try await updateUser(id, with: UserUpdate(apiPassword: apiPassword), by: principal)
  }

  /// Clears a user's failed sign-in counters, unlocking their credentials.
  ///
  /// - Parameters:
  ///   - id: The user.
  ///   - principal: Who acts; an active administrator or a system principal.
  /// - Throws: ``UserManagementError/Code/notAuthorized`` or
  ///   ``UserManagementError/Code/userNotFound``.
  public func resetLoginThrottle(of id: UserID, by principal: Principal)
    async throws(UserManagementError)
  {
    try await commitWithRetry { () async throws(UserManagementError) in
      let acting = try await acting(principal, requireAdmin: true)
      guard let target = try await fromStore({ try await self.store.user(id: id) }) else {
        throw .userNotFound()
      }
      let now = configuration.now()
      let audit = event(
        .loginThrottleReset, by: principal,
        on: .user(target.id, username: target.user.username.rawValue), [], at: now)
      let changes = ChangeSet(
        preconditions: acting.preconditions + [.userVersion(target.id, target.user.version)],
        auditEvents: [audit],
        throttleUpdates: CredentialKind.allCases.map {
          ThrottleUpdate(user: target.id, kind: $0, operation: .reset)
        })
      return (changes, ())
    }
  }

  // MARK: Self-service

  /// Changes one's own password, proving the current one. Clears "must change password".
  ///
  /// Failed proofs count towards the sign-in throttle. A user with a second factor must also
  /// give a code: the password alone never changes their password, and neither the password
  /// nor a change of it clears the failures that wrong codes counted.
  ///
  /// - Parameters:
  ///   - id: The user, who is also the acting principal.
  ///   - current: The current password.
  ///   - new: The new password; it must satisfy the password policy.
  ///   - code: A code of the user's second factor; required when they have one.
  /// - Returns: The user after the change (with a new security stamp).
  /// - Throws: ``UserManagementError``: ``UserManagementError/Code/invalidCredentials``
  ///   when `current` or `code` is wrong, ``UserManagementError/Code/secondFactorRequired``
  ///   when a code is needed and none was given, ``UserManagementError/Code/throttled``,
  ///   ``UserManagementError/Code/weakPassword``, or
  ///   ``UserManagementError/Code/notAuthorized`` for an inactive user.
  @discardableResult
  public func changeOwnPassword(
    of id: UserID, current: Secret, new: Secret, secondFactor code: SecondFactorCode? = nil
  ) async throws(UserManagementError) -> User {
    // The record's version pins the hash the current password was proven against; if the user
    // changed meanwhile (a rehash at sign-in, a reset), the commit fails and the retry proves
    // the password again.
    // A current password longer than any the policy allows cannot be right; refusing it before
    // any work keeps a huge one from holding a hashing slot (as authenticate does).
    guard current.byteCount <= configuration.passwordPolicy.maximumBytes else {
      throw Self.invalidCredentials()
    }
    return try await commitWithRetry { () async throws(UserManagementError) in
      // Prove the current password first (under the throttle), then look at the account's
      // status: an unknown, inactive or active account costs the same verification, so the
      // answer's timing does not tell them apart.
      guard let record = try await fromStore({ try await self.store.user(id: id) }),
        let stored = record.passwordHash
      else {
        // The same answer as a wrong password, after the same work.
        try await burnVerification(current)
        throw Self.invalidCredentials()
      }
      let twoFactor = record.security.hasSecondFactor
      _ = try await checkCredential(
        current, against: stored, of: record, kind: .password, resettingThrottle: !twoFactor)
      _ = try await acting(
        .user(id), requireAdmin: false, allowingPendingPasswordChange: true,
        allowingPendingEnrollment: true)
      var proven = record
      var events: [AuditEvent] = []
      if twoFactor && code == nil {
        throw UserManagementError(
          .secondFactorRequired,
          "Enter a code from your authenticator app (or a recovery code) to change your "
            + "password.")
      }
      // The new password is judged and hashed before the code is checked, so that no refusal
      // of its own (a weak password, a busy directory) can follow a right code and tell that
      // it was right.
      try configuration.passwordPolicy.validate(new, username: record.user.username)
      let hasher = configuration.passwordHasher
      let newHash = try await runHashing { () throws(UserManagementError) in
        try hasher.hash(new)
      }
      var codeReservation: (previous: LoginThrottleState, time: Date)?
      if twoFactor, let code {
        codeReservation = try await reserveAttempt(for: id, kind: .password) {
          () async throws(UserManagementError) in
        }
        proven = try verifySecondFactor(code, of: record)
        if case .recovery = code {
          events.append(recoveryCodeUsed(proven, by: .user(id), at: configuration.now()))
        }
      }
      // Compared with the API password only after the code: someone with the password alone
      // must not test guesses of the API password.
      do throws(UserManagementError) {
        try await requireDifferent(new, fromAPIPasswordOf: record)
      } catch  where error.code == .overloaded || error.code == .cancelled {
        // The code was right: the attempt it reserved must not stay counted because the
        // directory was too busy to finish (best effort, as for a sign-in).
        if let codeReservation {
          try? await fromStore {
            try await self.store.commit(withdrawing(codeReservation, of: id, kind: .password))
          }
        }
        throw error
      }
      let now = configuration.now()
      var updated = proven
      updated.passwordHash = newHash
      updated.user.mustChangePassword = false
      updated.user.securityStamp = newSecurityStamp()
      updated.user.version += 1
      updated.user.updatedAt = now
      events.append(
        event(
          .passwordChanged, by: .user(id), on: .user(id, username: updated.user.username.rawValue),
          [.secret("password")], at: now))
      return (
        ChangeSet(
          users: [updated], auditEvents: events,
          throttleUpdates: twoFactor ? [Self.resetThrottle(id)] : []),
        updated.user
      )
    }
  }
}

// MARK: - Planning

extension UserDirectory {
  struct PreparedSecret: Sendable {
    var hash: PasswordHash
    var generated: Secret?
  }

  struct PreparedSecrets: Sendable {
    var password: PreparedSecret?
    var apiPassword: PreparedSecret?
  }

  struct Loaded {
    var acting: Acting
    var target: UserRecord
  }

  struct Planned {
    var record: UserRecord
    var event: AuditEvent
    var throttleUpdates: [ThrottleUpdate]
  }

  /// Applies the edit rules to the state read and stamps the result: a new version, the time,
  /// a new security stamp when credentials changed, and the audit event. `nil` when nothing
  /// would change; with `secrets == nil` it only checks the rules.
  func plan(
    _ update: UserUpdate, on target: UserRecord, by acting: Acting, secrets: PreparedSecrets?,
    at now: Date
  ) throws(UserManagementError) -> Planned? {
    let rules = UserEditRules(
      requirePasswordChangeAfterAdminReset: configuration.requirePasswordChangeAfterAdminReset)
    guard
      let outcome = try rules.apply(
        update, to: target, actor: acting.user,
        passwordHash: secrets?.password?.hash, apiPasswordHash: secrets?.apiPassword?.hash)
    else { return nil }
    var record = outcome.record
    var changes = outcome.changes
    if outcome.credentialsChanged { record.user.securityStamp = newSecurityStamp() }
    // Disabling direct API access ends every API credential: the API password (above) and the
    // keys, which are revoked rather than suspended, so enabling access again revives none.
    if !record.user.apiAccessEnabled {
      for index in record.security.apiKeys.indices
      where record.security.apiKeys[index].key.revokedAt == nil {
        record.security.apiKeys[index].key.revokedAt = now
        changes.append(
          FieldChange(
            field: "apiKey", oldValue: record.security.apiKeys[index].key.id.description,
            newValue: nil))
      }
    }
    record.user.version += 1
    record.user.updatedAt = now
    let audit = event(
      outcome.action, by: acting.principal,
      on: .user(target.id, username: record.user.username.rawValue), changes, at: now)
    return Planned(record: record, event: audit, throttleUpdates: outcome.throttleUpdates)
  }

  func loadForUpdate(_ id: UserID, by principal: Principal, expectedVersion: UInt64?)
    async throws(UserManagementError) -> Loaded
  {
    let acting = try await acting(principal, requireAdmin: false)
    if !acting.isAdmin && acting.userID != id {
      throw .notAuthorized()
    }
    guard let target = try await fromStore({ try await self.store.user(id: id) }) else {
      throw .userNotFound()
    }
    if let expectedVersion, target.user.version != expectedVersion {
      throw .conflict(
        "The user is at version \(target.user.version), not \(expectedVersion); reload it.")
    }
    return Loaded(acting: acting, target: target)
  }

  /// Checks, generates and hashes a new login password, off the concurrency pool.
  func prepare(_ secret: NewSecret?, for username: Username, field: String)
    async throws(UserManagementError) -> PreparedSecret?
  {
    guard let secret else { return nil }
    let plaintext: Secret
    let generated: Secret?
    switch secret {
    case .typed(let typed):
      try configuration.passwordPolicy.validate(typed, username: username, field: field)
      plaintext = typed
      generated = nil
    case .generated:
      plaintext = try configuration.passwordGenerator.generatePassword(
        for: username, policy: configuration.passwordPolicy)
      generated = plaintext
    }
    let hasher = configuration.passwordHasher
    let hash = try await runHashing { () throws(UserManagementError) in
      try hasher.hash(plaintext)
    }
    return PreparedSecret(hash: hash, generated: generated)
  }

  /// Refuses an edit that sets the login password and the API password, both typed, to the
  /// same value, so that neither secret opens the other's door.
  ///
  /// A typed value set alone is never compared with the stored credential here: the refusal
  /// would tell whoever edits whether a guess is the user's current password, without the
  /// sign-in throttle. An administrator editing another user is that case (they should
  /// generate API passwords); an administrator editing themself may only generate their own
  /// API password (``UserEditRules``), and their own login password changes only with
  /// ``changeOwnPassword(of:current:new:secondFactor:)``, which compares it with the stored API
  /// password after the proofs. Generated values are random and need no comparison.
  func requireDistinctSecrets(_ update: UserUpdate) throws(UserManagementError) {
    guard case .typed(let login) = update.password, case .typed(let api) = update.apiPassword
    else { return }
    // Normalization costs more than linear time on long runs of combining marks: over the
    // byte cap, the policy refuses the secret next, and it is never normalized here.
    let cap = configuration.passwordPolicy.maximumBytes
    if login.byteCount <= cap, api.byteCount <= cap, login.nfcNormalized() == api.nfcNormalized() {
      throw Self.sameSecrets(field: "apiPassword")
    }
  }

  /// Refuses a new login password equal to the user's stored API password (typed or
  /// generated).
  func requireDifferent(_ login: Secret, fromAPIPasswordOf record: UserRecord)
    async throws(UserManagementError)
  {
    if try await isAPIPassword(login, of: record) { throw Self.sameSecrets(field: "password") }
  }

  /// Whether `login` is the user's stored API password (typed or generated).
  func isAPIPassword(_ login: Secret, of record: UserRecord) async throws(UserManagementError)
    -> Bool
  {
    // Over the byte cap, it is refused by the policy; it is never hashed.
    guard let apiHash = record.apiPasswordHash,
      login.byteCount <= configuration.passwordPolicy.maximumBytes
    else { return false }
    return APIPasswordGenerator.isTokenHash(apiHash)
      ? (try? APIPasswordGenerator.verify(login, against: apiHash)) == true
      : try await verifies(login, against: apiHash)
  }

  /// Whether `secret` verifies against `hash`, a typed API password's hash that the
  /// configured hasher made (it normalizes both sides, so spelling does not matter); a hash it
  /// cannot check counts as no match. A secret over the policy's byte cap is never hashed (it
  /// cannot match a stored password, and the policy refuses it next). Throws
  /// ``UserManagementError/Code/overloaded`` or ``UserManagementError/Code/cancelled`` when
  /// the check could not run: not checked is not "different", which would let an equal secret
  /// through.
  private func verifies(_ secret: Secret, against hash: PasswordHash)
    async throws(UserManagementError) -> Bool
  {
    guard secret.byteCount <= configuration.passwordPolicy.maximumBytes else { return false }
    let hasher = configuration.passwordHasher
    return try await runHashing { () throws(UserManagementError) -> Bool in
      (try? hasher.verify(secret, against: hash).isValid) == true
    }
  }

  static func sameSecrets(field: String) -> UserManagementError {
    UserManagementError(
      .weakPassword, "The login password and the API password must differ.",
      context: [
        "field": field,
        "reasons": field == "password" ? "same_as_api_password" : "same_as_login_password",
      ])
  }

  /// A typed API password is treated like a password (policy and slow hash); a generated one
  /// is a high-entropy token with a fast keyed hash.
  func prepareAPIPassword(_ secret: NewSecret?, for username: Username)
    async throws(UserManagementError) -> PreparedSecret?
  {
    guard let secret else { return nil }
    switch secret {
    case .typed(let typed):
      // A typed API password shaped like a generated token would be checked as a token and
      // could never sign in. (One equal to the login password is refused by
      // requireDistinctSecrets where it compares.)
      if configuration.apiPasswordGenerator.looksLikeToken(typed) {
        throw .invalidField(
          "apiPassword", "token_shaped",
          "A typed API password must not look like a generated token; generate one instead.")
      }
      try configuration.passwordPolicy.validate(typed, username: username, field: "apiPassword")
      return try await prepare(secret, for: username, field: "apiPassword")
    case .generated:
      let token = configuration.apiPasswordGenerator.generate()
      return PreparedSecret(
        hash: configuration.apiPasswordGenerator.hash(token), generated: token)
    }
  }

  func requireUsernameFree(_ username: Username) async throws(UserManagementError) {
    if try await fromStore({ try await self.store.user(usernameKey: username.canonical) }) != nil {
      throw UserManagementError(
        .usernameTaken, "A user named \(username) already exists.",
        context: ["field": "username"])
    }
  }

  func requirePoliciesExist(_ ids: Set<PolicyID>) async throws(UserManagementError) {
    for id in ids.sorted() where try await fromStore({ try await self.store.policy(id: id) }) == nil
    {
      throw UserManagementError(
        .policyNotFound, "No policy has the id \(id).", context: ["policy": id.description])
    }
  }

  static func describe(_ policies: Set<PolicyID>) -> String {
    policies.sorted().map(\.description).joined(separator: ",")
  }
}
