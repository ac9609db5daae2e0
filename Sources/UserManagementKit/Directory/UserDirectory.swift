#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

/// The user-administration console as a library: every operation, with its rules enforced.
///
/// `UserDirectory` is the only public way to change users and policies. Every operation names
/// the ``Principal`` acting, checks that the principal may perform it, checks the directory's
/// rules against the current state, and commits the change together with its audit event
/// through the ``DirectoryStore``. The store re-checks the state the checks relied on at commit
/// time (see ``ChangeSet``), so concurrent operations can never combine into a state the rules
/// forbid; when a concurrent commit invalidated what an operation read, the directory re-reads
/// and re-checks, up to ``Configuration/maximumCommitAttempts`` times.
///
/// ```swift
/// let directory = UserDirectory(store: InMemoryDirectoryStore())
/// let admin = try await directory.bootstrap(
///   NewUser(username: "ada@example.com", firstName: "Ada", lastName: "Lovelace",
///           password: .typed(Secret("analytical engine 1843"))))
/// ```
public final class UserDirectory: Sendable {
  /// Settings of a directory.
  public struct Configuration: Sendable {
    /// Hashes new login passwords and typed API passwords, and verifies stored ones.
    public var passwordHasher: any PasswordHasher
    /// The rules for new passwords and typed API passwords.
    public var passwordPolicy: PasswordPolicy
    /// Makes passwords for "Auto-Generate Password".
    public var passwordGenerator: any PasswordGenerator
    /// Makes and checks generated API passwords.
    public var apiPasswordGenerator: APIPasswordGenerator
    /// Slows down and locks credentials after failed sign-ins.
    public var loginThrottle: LoginThrottlePolicy
    /// Whether a successful sign-in replaces a stored hash that is weaker than the configured
    /// hasher's (another format or algorithm, or lower parameters).
    public var rehashOnSignIn: Bool
    /// Whether the owner of a resource may act on it regardless of policies.
    public var ownersMayActOnTheirResources: Bool
    /// Whether a password an administrator sets or generates for another user must be
    /// changed at the next sign-in.
    public var requirePasswordChangeAfterAdminReset: Bool
    /// Whether the library itself refuses to let a user act while they must change their
    /// password (``User/mustChangePassword``): every operation but reading their own record and
    /// ``UserDirectory/changeOwnPassword(of:current:new:secondFactor:)`` then fails with
    /// ``UserManagementError/Code/passwordChangeRequired``. Off by default, leaving the
    /// enforcement to the host (``AuthenticatedUser/mustChangePassword`` tells it when).
    public var requirePasswordChangeBeforeActing: Bool
    /// The most password hashes computed at once (default: the number of processors).
    public var maximumConcurrentHashes: Int
    /// The most operations that wait for a turn to hash or verify a password while
    /// ``maximumConcurrentHashes`` run (default: 64 for each of them). One more is refused at
    /// once with ``UserManagementError/Code/overloaded``, so that a flood of sign-ins meets
    /// quick refusals instead of a queue whose wait grows without bound; 0 refuses every
    /// operation that finds all hashing slots busy. A waiting operation whose task is cancelled
    /// leaves the queue with ``UserManagementError/Code/cancelled``.
    public var maximumWaitingHashes: Int
    /// How often an operation re-reads and retries after a concurrent commit invalidated what
    /// it read, before reporting ``UserManagementError/Code/versionConflict``.
    public var maximumCommitAttempts: Int
    /// The current time. Inject a fixed clock in tests.
    public var now: @Sendable () -> Date
    /// Makes identifiers for users, policies and audit events. Inject a sequence in tests.
    public var makeIdentifier: @Sendable () -> UUID
    /// Randomness for security stamps.
    public var random: any RandomSource
    /// Called once per sign-in attempt with its outcome, for the host's security log (see
    /// ``SignInEvent``); `nil` (the default) costs nothing. It runs on the signing-in task
    /// before the sign-in returns, so keep it fast: hand the event to a logger, don't do I/O.
    public var signInObserver: (@Sendable (SignInEvent) -> Void)?
    /// Two-factor sign-in, tokens and API keys (see ``AccountSecuritySettings``).
    public var accountSecurity: AccountSecuritySettings

    /// Creates a configuration.
    ///
    /// - Parameters:
    ///   - passwordHasher: The password hasher (default ``MigratingPasswordHasher``: Argon2id
    ///     with m = 19,456 KiB, t = 2, p = 1 for new hashes; every known format verifies).
    ///   - passwordPolicy: The password policy.
    ///   - passwordGenerator: The password generator.
    ///   - apiPasswordGenerator: The API password generator.
    ///   - loginThrottle: The failed sign-in policy.
    ///   - rehashOnSignIn: Whether sign-in upgrades weak hashes (default on).
    ///   - ownersMayActOnTheirResources: Whether owners may act on their resources.
    ///   - requirePasswordChangeAfterAdminReset: Whether admin-set passwords must be changed.
    ///   - requirePasswordChangeBeforeActing: Whether users who must change their password are
    ///     refused everything else (default off).
    ///   - maximumConcurrentHashes: The most hashes at once.
    ///   - maximumWaitingHashes: The most operations waiting to hash (default 64 for each
    ///     concurrent hash).
    ///   - maximumCommitAttempts: The most attempts per operation under contention.
    ///   - now: The clock.
    ///   - makeIdentifier: The identifier source (default: random version 4 UUIDs from the
    ///     system CSPRNG).
    ///   - random: The randomness source.
    ///   - signInObserver: Called with every sign-in's outcome (default none).
    ///   - accountSecurity: Two-factor sign-in, tokens and API keys.
    public init(
      passwordHasher: (any PasswordHasher)? = nil,
      passwordPolicy: PasswordPolicy = PasswordPolicy(),
      passwordGenerator: any PasswordGenerator = RandomPasswordGenerator(),
      apiPasswordGenerator: APIPasswordGenerator = APIPasswordGenerator(),
      loginThrottle: LoginThrottlePolicy = LoginThrottlePolicy(),
      rehashOnSignIn: Bool = true,
      ownersMayActOnTheirResources: Bool = true,
      requirePasswordChangeAfterAdminReset: Bool = true,
      requirePasswordChangeBeforeActing: Bool = false,
      maximumConcurrentHashes: Int? = nil,
      maximumWaitingHashes: Int? = nil,
      maximumCommitAttempts: Int = 16,
      now: @escaping @Sendable () -> Date = { Date() },
      makeIdentifier: (@Sendable () -> UUID)? = nil,
      random: any RandomSource = SystemRandomSource(),
      signInObserver: (@Sendable (SignInEvent) -> Void)? = nil,
      accountSecurity: AccountSecuritySettings = AccountSecuritySettings()
    ) {
      self.passwordHasher = passwordHasher ?? MigratingPasswordHasher()
      self.passwordPolicy = passwordPolicy
      self.passwordGenerator = passwordGenerator
      self.apiPasswordGenerator = apiPasswordGenerator
      self.loginThrottle = loginThrottle
      self.rehashOnSignIn = rehashOnSignIn
      self.ownersMayActOnTheirResources = ownersMayActOnTheirResources
      self.requirePasswordChangeAfterAdminReset = requirePasswordChangeAfterAdminReset
      self.requirePasswordChangeBeforeActing = requirePasswordChangeBeforeActing
      self.maximumConcurrentHashes = max(
        1, maximumConcurrentHashes ?? Platform.activeProcessorCount)
      let (perSlot, overflow) = self.maximumConcurrentHashes.multipliedReportingOverflow(by: 64)
      self.maximumWaitingHashes = max(0, maximumWaitingHashes ?? (overflow ? Int.max : perSlot))
      self.maximumCommitAttempts = max(1, maximumCommitAttempts)
      self.now = now
      self.makeIdentifier = makeIdentifier ?? { UUID.randomV4() }
      self.random = random
      self.signInObserver = signInObserver
      self.accountSecurity = accountSecurity
    }
  }

  /// The store behind the directory. Not public: every change must go through the
  /// directory's rules.
  let store: any DirectoryStore
  /// The directory's settings.
  public let configuration: Configuration
  let scheduler: HashingScheduler
  let dummyHash: DummyHash

  /// Creates a directory over a store.
  ///
  /// - Parameters:
  ///   - store: The storage.
  ///   - configuration: The settings.
  public init(store: any DirectoryStore, configuration: Configuration = Configuration()) {
    self.store = store
    self.configuration = configuration
    self.scheduler = HashingScheduler(
      limit: configuration.maximumConcurrentHashes,
      maximumWaiting: configuration.maximumWaitingHashes)
    self.dummyHash = DummyHash()
  }
}

// MARK: - Shared machinery

extension UserDirectory {
  /// The acting principal, resolved against the current state.
  struct Acting {
    var principal: Principal
    /// The actor when the principal is a user.
    var user: User?

    var isAdmin: Bool { user.map { $0.role == .admin } ?? true }
    var userID: UserID? { user?.id }

    /// Pins the actor's state for the commit, so a concurrent demotion or deactivation of the
    /// actor invalidates the operation.
    var preconditions: [CommitPrecondition] {
      user.map { [.userVersion($0.id, $0.version)] } ?? []
    }
  }

  /// Reads the acting principal. Users must exist and be active; `requireAdmin` also demands
  /// the administrator role.
  func acting(
    _ principal: Principal, requireAdmin: Bool, allowingPendingPasswordChange: Bool = false,
    allowingPendingEnrollment: Bool = false
  ) async throws(UserManagementError) -> Acting {
    switch principal {
    case .system(let name):
      // Recorded in every audit event it causes: held to the rules of a person's name (1–100
      // characters, 400 bytes, no control or format characters), exactly as given.
      guard
        (try? PersonName.validate(name, field: "principal"))?.utf8.elementsEqual(name.utf8)
          == true
      else {
        throw .invalidField(
          "principal", "invalid",
          "A system principal needs a name of 1–100 printable characters without surrounding "
            + "spaces.")
      }
      return Acting(principal: principal, user: nil)
    case .user(let id):
      guard let user = try await fromStore({ try await self.store.profile(id: id) }),
        user.status == .active
      else {
        throw .notAuthorized("Only active users may act.")
      }
      if requireAdmin && user.role != .admin {
        throw .notAuthorized()
      }
      try requireNothingPending(
        user, exceptPasswordChange: allowingPendingPasswordChange,
        exceptEnrollment: allowingPendingEnrollment)
      return Acting(principal: principal, user: user)
    }
  }

  /// Refuses a user who may act only on themself for now: one who must change their password
  /// first, or enrol a second factor first (unless the operation is that very step).
  func requireNothingPending(
    _ user: User, exceptPasswordChange: Bool = false, exceptEnrollment: Bool = false
  ) throws(UserManagementError) {
    if configuration.requirePasswordChangeBeforeActing && user.mustChangePassword
      && !exceptPasswordChange
    {
      throw UserManagementError(
        .passwordChangeRequired, "Change your password before doing anything else.")
    }
    if !exceptEnrollment && !user.hasSecondFactor
      && configuration.accountSecurity.requiresSecondFactor(user)
    {
      throw UserManagementError(
        .secondFactorEnrollmentRequired,
        "Set up an authenticator app for two-factor sign-in before doing anything else.")
    }
  }

  /// Calls the store, turning foreign errors into ``UserManagementError/Code/storageFailure``.
  @inline(__always)
  func fromStore<T>(_ body: () async throws -> T) async throws(UserManagementError) -> T {
    do {
      return try await body()
    } catch let error as UserManagementError {
      throw error
    } catch {
      // The underlying error is kept for the host's logs but never echoed in the message: a
      // host store's errors may quote stored values.
      throw UserManagementError(
        .storageFailure, "The store failed (\(type(of: error))); nothing was changed.",
        underlyingError: error)
    }
  }

  /// Runs read-check-commit until the commit succeeds, a rule refuses, or attempts run out:
  /// the one retry loop of the directory.
  ///
  /// `attempt` reads the state it needs, checks the rules, and returns the change set (whose
  /// preconditions pin what it read) and the operation's result, or no change set when there
  /// is nothing to commit. A commit refused with one of `codes` means another commit changed
  /// that state meanwhile, so the whole attempt is repeated against the new state. Errors
  /// thrown by `attempt` itself (a rule's refusal) are never retried.
  ///
  /// - Parameters:
  ///   - codes: The commit errors that mean "the state moved; read it again" (by default a
  ///     version conflict).
  ///   - maximumAttempts: The most attempts (default
  ///     ``Configuration/maximumCommitAttempts``).
  ///   - attempt: One read-check-plan pass.
  /// - Returns: The result of the attempt that committed (or had nothing to commit).
  /// - Throws: What `attempt` throws, or the commit's error once retries are spent.
  func commitWithRetry<R>(
    retryingOn codes: Set<UserManagementError.Code> = [.versionConflict],
    maximumAttempts: Int? = nil,
    _ attempt: () async throws(UserManagementError) -> (ChangeSet?, R)
  ) async throws(UserManagementError) -> R {
    let limit = maximumAttempts ?? configuration.maximumCommitAttempts
    var attempts = 0
    while true {
      attempts += 1
      let (changes, result) = try await attempt()
      guard let changes else { return result }
      do {
        try await fromStore { try await self.store.commit(changes) }
        return result
      } catch  where codes.contains(error.code) && attempts < limit {
        await Task.yield()
        continue
      }
    }
  }

  func event(
    _ action: AuditAction, by principal: Principal, on target: AuditTarget,
    _ changes: [FieldChange], at time: Date
  ) -> AuditEvent {
    AuditEvent(
      id: configuration.makeIdentifier(), time: time, actor: principal, target: target,
      action: action, changes: changes)
  }

  /// Runs password hashing work: off the concurrency pool for real KDFs, inline for a
  /// hasher that says it is cheap.
  func runHashing<T: Sendable>(
    _ work: @escaping @Sendable () throws(UserManagementError) -> T
  ) async throws(UserManagementError) -> T {
    try await scheduler.run(
      inline: !configuration.passwordHasher.isComputationallyExpensive, work)
  }

  /// Runs `body` in one turn of the hashing scheduler (see ``HashingScheduler/withTurn(inline:_:)``):
  /// it runs its hashing with the turn's `run`, never with ``runHashing(_:)``.
  func withHashingTurn<T>(_ body: (HashingScheduler.Turn) async throws(UserManagementError) -> T)
    async throws(UserManagementError) -> T
  {
    try await scheduler.withTurn(
      inline: !configuration.passwordHasher.isComputationallyExpensive, body)
  }

  /// Refuses a sign-in with ``UserManagementError/Code/overloaded`` before it reads the store
  /// when its verification would be refused anyway, so that every username gets that answer
  /// alike and a refused sign-in costs the store nothing.
  func requireHashingRoom() throws(UserManagementError) {
    if configuration.passwordHasher.isComputationallyExpensive { try scheduler.requireRoom() }
  }

  func newSecurityStamp() -> SecurityStamp {
    SecurityStamp.random(using: configuration.random)
  }
}

/// A hash of a random password, computed once with the configured hasher, that sign-ins
/// verify against when the account does not exist or has no password, so that they cost the
/// same KDF work as a wrong password (no account enumeration by timing).
///
/// It is the hasher's ``PasswordHasher/unmatchableHash()``, which the library's hashers make
/// without running their key derivation, so the first sign-in for an unknown account costs
/// one verification like every other, not a derivation and a verification.
final class DummyHash: Sendable {
  private let cached = Locked<(password: PasswordHash?, token: PasswordHash?)>((nil, nil))
  /// A keyed hash that API keys with no stored key are checked against, so a missing key
  /// costs the same as a wrong one.
  let keyHash = SecurityToken.hash(
    SecurityToken.make(
      .apiKey, user: UserID(rawValue: UUID.randomV4()), key: APIKeyID(rawValue: UUID.randomV4()),
      random: SystemRandomSource()), random: SystemRandomSource())

  func get(_ hasher: any PasswordHasher) throws(UserManagementError) -> PasswordHash {
    if let hash = cached.withLock({ $0.password }) { return hash }
    let hash = try hasher.unmatchableHash()
    cached.withLock { $0.password = hash }
    return hash
  }

  /// A token hash to check token-shaped API passwords against when there is no real one, so
  /// they cost the same keyed hash either way.
  func token(_ generator: APIPasswordGenerator) -> PasswordHash {
    if let hash = cached.withLock({ $0.token }) { return hash }
    let hash = generator.hash(generator.generate())
    cached.withLock { $0.token = hash }
    return hash
  }
}
