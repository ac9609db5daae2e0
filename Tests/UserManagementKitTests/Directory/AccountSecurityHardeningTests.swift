import Synchronization
import Testing
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Regressions for the independent review of two-factor sign-in, tokens and keys: each test
/// failed before its fix.
@Suite("Account security: review regressions")
struct AccountSecurityHardeningTests {
  /// Four wrong codes, with the delay they earn waited out once.
  /// Bootstraps `admin@example.com` (password `Harness.password`) with a confirmed factor;
  /// returns the administrator and the factor's secret (base32).
  static func enrolledAdministrator(of directory: UserDirectory, at now: Date) async throws
    -> (admin: User, secret: Secret)
  {
    let admin = try await directory.bootstrap(
      NewUser(
        username: "admin@example.com", firstName: "Ada", lastName: "Admin",
        password: .typed(Harness.password))
    ).user
    let enrollment = try await directory.enrollSecondFactor(
      for: admin.id, password: Harness.password, by: .user(admin.id))
    _ = try await directory.confirmSecondFactor(
      for: admin.id, code: try authenticatorCode(enrollment.secret, at: now),
      by: .user(admin.id))
    return (admin, enrollment.secret)
  }

  private func failCodes(_ h: Harness, times: Int = 4) async throws {
    for _ in 0..<times {
      let challenge = try await h.challenge("grace@example.com")
      await expectError(.invalidCredentials) {
        _ = try await h.directory.completeSignIn(challenge.token, with: .authenticator("000000"))
      }
    }
  }

  @Test func thePasswordAloneNeitherChangesTheirPasswordNorClearsCodeFailures() async throws {
    let h = try await Harness(throttle: LoginThrottlePolicy(freeAttempts: 4))
    let enrolled = try await h.enroll(try await h.add("grace@example.com"))
    try await failCodes(h)
    h.clock.advance(by: 3600)
    let other = Secret("another perfectly fine passphrase")
    await expectError(.secondFactorRequired) {
      _ = try await h.directory.changeOwnPassword(
        of: enrolled.user.id, current: Harness.password, new: other)
    }
    #expect(
      await h.store.loginThrottle(for: enrolled.user.id, kind: .password).consecutiveFailures
        == 4)
    // With a code, the change goes through and clears the failures.
    _ = try await h.directory.changeOwnPassword(
      of: enrolled.user.id, current: Harness.password, new: other,
      secondFactor: .authenticator(try authenticatorCode(enrolled.secret, at: h.clock.now)))
    #expect(
      await h.store.loginThrottle(for: enrolled.user.id, kind: .password).consecutiveFailures
        == 0)
  }

  /// A weak new password is refused before the code is looked at: a right code then earns no
  /// answer that tells it was right, and costs no attempt.
  @Test func aWeakNewPasswordIsRefusedBeforeTheCodeIsChecked() async throws {
    let h = try await Harness(throttle: LoginThrottlePolicy(freeAttempts: 4))
    let enrolled = try await h.enroll(try await h.add("grace@example.com"))
    for code in ["000000", try authenticatorCode(enrolled.secret, at: h.clock.now)] {
      await expectError(.weakPassword) {
        _ = try await h.directory.changeOwnPassword(
          of: enrolled.user.id, current: Harness.password, new: Secret("short"),
          secondFactor: .authenticator(code))
      }
    }
    #expect(
      await h.store.loginThrottle(for: enrolled.user.id, kind: .password).consecutiveFailures
        == 0)
  }

  @Test func aResetTokenDoesNotClearCodeFailuresOfATwoFactorUser() async throws {
    let h = try await Harness(throttle: LoginThrottlePolicy(freeAttempts: 4))
    let enrolled = try await h.enroll(try await h.add("grace@example.com"))
    try await failCodes(h)
    let token = try #require(try await h.directory.passwordResetToken(for: "grace@example.com"))
    _ = try await h.directory.resetPassword(
      token: token, newPassword: Secret("another perfectly fine passphrase"))
    #expect(
      await h.store.loginThrottle(for: enrolled.user.id, kind: .password).consecutiveFailures
        == 4)
  }

  /// With the password alone, whoever knows it could strip the factor (and then change the
  /// password without a code) or take ten fresh recovery codes, a lasting second factor of
  /// their own. Both are refused before the password is even checked, and count nothing.
  @Test func thePasswordAloneNeitherRemovesAFactorNorReplacesItsCodes() async throws {
    let h = try await Harness(throttle: LoginThrottlePolicy(freeAttempts: 4))
    let enrolled = try await h.enroll(try await h.add("grace@example.com"))
    let id = enrolled.user.id
    try await failCodes(h, times: 2)
    h.hasher.reset()
    await expectError(.secondFactorRequired) {
      _ = try await h.directory.regenerateRecoveryCodes(
        for: id, proof: .password(Harness.password), by: .user(id))
    }
    await expectError(.secondFactorRequired) {
      _ = try await h.directory.removeSecondFactor(
        for: id, proof: .password(Harness.password), by: .user(id))
    }
    #expect(h.hasher.verificationCount == 0)
    #expect(await h.store.loginThrottle(for: id, kind: .password).consecutiveFailures == 2)
    #expect(try await h.directory.user(id, by: h.asAdmin).hasSecondFactor)
    await expectError(.secondFactorRequired) {
      _ = try await h.directory.changeOwnPassword(
        of: id, current: Harness.password, new: Secret("another perfectly fine passphrase"))
    }
  }

  /// A session alone (a stolen one) cannot tie the account to someone else's app: enrolling
  /// takes the password, under the throttle, and guesses of the confirmation code count too.
  @Test func enrollingTakesThePasswordAndConfirmingIsThrottled() async throws {
    let h = try await Harness(
      throttle: LoginThrottlePolicy(
        freeAttempts: 3, baseDelay: .seconds(600), lockoutThreshold: 100))
    let grace = try await h.add("grace@example.com")
    let me = Principal.user(grace.id)
    func failures() async -> Int {
      await h.store.loginThrottle(for: grace.id, kind: .password).consecutiveFailures
    }
    await expectError(.invalidCredentials) {
      _ = try await h.directory.enrollSecondFactor(
        for: grace.id, password: Secret("a guess at her password"), by: me)
    }
    #expect(await failures() == 1)
    #expect(await h.store.user(id: grace.id)?.security.secondFactor == nil)
    let enrollment = try await h.directory.enrollSecondFactor(
      for: grace.id, password: Harness.password, by: me)
    for _ in 0..<2 {
      await expectError(.invalidCredentials) {
        _ = try await h.directory.confirmSecondFactor(for: grace.id, code: "000000", by: me)
      }
    }
    #expect(await failures() == 3)
    let right = try authenticatorCode(enrollment.secret, at: h.clock.now)
    await expectError(.throttled) {
      _ = try await h.directory.confirmSecondFactor(for: grace.id, code: right, by: me)
    }
    h.clock.advance(by: 601)
    let codes = try await h.directory.confirmSecondFactor(
      for: grace.id, code: try authenticatorCode(enrollment.secret, at: h.clock.now), by: me)
    #expect(codes.count == 10)
    #expect(await failures() == 0, "a confirmed factor clears the count")
  }

  /// A password proven against one state of the account does not carry over to a commit that
  /// finds its credentials changed (here, the stamp moves right after the password is checked).
  @Test func aProofDoesNotOutliveAChangeOfCredentials() async throws {
    let store = StampChangingStore(InMemoryDirectoryStore())
    let directory = UserDirectory(
      store: store,
      configuration: .init(
        passwordHasher: ArmingHasher(PBKDF2PasswordHasher(insecureIterations: 2), arming: store)))
    let admin = try await directory.bootstrap(
      NewUser(
        username: "admin@example.com", firstName: "Ada", lastName: "Admin",
        password: .typed(Harness.password))
    ).user
    await expectError(.versionConflict) {
      _ = try await directory.enrollSecondFactor(
        for: admin.id, password: Harness.password, by: .user(admin.id))
    }
    #expect(try await store.user(id: admin.id)?.security.secondFactor == nil)
  }

  /// A key is a lasting credential that skips the second factor: a session alone (a stolen
  /// one) cannot mint one. The user proves it is them, with a code once a factor is confirmed;
  /// an administrator creating one for someone else gives no proof.
  @Test func creatingOnesOwnAPIKeyTakesAProof() async throws {
    let h = try await Harness(throttle: LoginThrottlePolicy(freeAttempts: 4))
    let grace = try await h.add("grace@example.com", apiAccess: true)
    let me = Principal.user(grace.id)
    func create(_ proof: Reauthentication?) async throws -> NewAPIKey {
      try await h.directory.createAPIKey(
        for: grace.id, name: "k", scopes: [.everything], proof: proof, by: me)
    }
    let missing = await expectError(.invalidCredentials) { _ = try await create(nil) }
    #expect(missing?.context["reason"] == "reauthentication_required")
    await expectError(.invalidCredentials) {
      _ = try await create(.password(Secret("a guess at her password")))
    }
    #expect(await h.store.loginThrottle(for: grace.id, kind: .password).consecutiveFailures == 1)
    _ = try await create(.password(Harness.password))
    // With a confirmed factor, the password alone is not enough; a code is, and is used up.
    let enrolled = try await h.enroll(try await h.directory.user(grace.id, by: h.asAdmin))
    await expectError(.secondFactorRequired) { _ = try await create(.password(Harness.password)) }
    _ = try await create(.secondFactor(.recovery(enrolled.recoveryCodes[0])))
    await expectError(.invalidCredentials) {
      _ = try await create(.secondFactor(.recovery(enrolled.recoveryCodes[0])))
    }
    #expect(try await h.directory.apiKeys(of: grace.id, by: me).count == 2)
    // An administrator, for someone else, needs none.
    _ = try await h.directory.createAPIKey(
      for: grace.id, name: "ops", scopes: [.everything], by: h.asAdmin)
  }

  /// An enrolment not yet confirmed protects nothing, so the password removes it.
  @Test func anUnconfirmedEnrolmentIsRemovedWithThePassword() async throws {
    let h = try await Harness()
    let grace = try await h.add("grace@example.com")
    _ = try await h.directory.enrollSecondFactor(
      for: grace.id, password: Harness.password, by: .user(grace.id))
    _ = try await h.directory.removeSecondFactor(
      for: grace.id, proof: .password(Harness.password), by: .user(grace.id))
    #expect(await h.store.user(id: grace.id)?.security.secondFactor == nil)
  }

  /// A challenge that is not live (forged with a user's id, expired, used) puts no failure on
  /// that user's record in the sign-in events.
  @Test func aChallengeThatIsNotLiveNamesNoAccount() async throws {
    let events = Recorder<SignInEvent>()
    let clock = TestClock()
    let directory = UserDirectory(
      store: InMemoryDirectoryStore(),
      configuration: .init(
        passwordHasher: PBKDF2PasswordHasher(insecureIterations: 2), now: clock.function,
        signInObserver: { events.append($0) }))
    _ = try await Self.enrolledAdministrator(of: directory, at: clock.now)
    guard
      case .secondFactorRequired(let challenge) = try await directory.authenticate(
        username: "admin@example.com", password: Harness.password)
    else {
      Issue.record("no challenge")
      return
    }
    clock.advance(by: 3600)
    await expectError(.invalidToken) {
      _ = try await directory.completeSignIn(challenge.token, with: .authenticator("000000"))
    }
    let last = try #require(events.values.last)
    #expect(last.outcome == .invalidChallenge)
    #expect(last.userID == nil)
  }

  @Test func anAdministratorWhoMustEnrolCannotReadOthers() async throws {
    let h = try await Harness(accountSecurity: .init(secondFactorRequirement: .administrators))
    let grace = try await h.directory.addUser(
      NewUser(
        username: "grace@example.com", firstName: "Grace", lastName: "Hopper",
        password: .typed(Harness.password)), by: .system("seed")
    ).user
    await expectError(.secondFactorEnrollmentRequired) {
      _ = try await h.directory.user(grace.id, by: h.asAdmin)
    }
    await expectError(.secondFactorEnrollmentRequired) {
      _ = try await h.directory.user(named: "grace@example.com", by: h.asAdmin)
    }
    await expectError(.secondFactorEnrollmentRequired) {
      _ = try await h.directory.remainingRecoveryCodes(of: grace.id, by: h.asAdmin)
    }
    // Their own record stays readable.
    _ = try await h.directory.user(h.admin.id, by: h.asAdmin)
  }

  @Test func codesAndProofsAreNeverShown() {
    let code = SecondFactorCode.authenticator("123456")
    let recovery = SecondFactorCode.recovery(Secret("abcd-efgh-jkmn-pqrs"))
    var dumped = ""
    dump(Reauthentication.secondFactor(code), to: &dumped)
    dump(Reauthentication.password(Secret("hunter2 hunter2")), to: &dumped)
    dump(recovery, to: &dumped)
    for shown in ["\(code)", "\(recovery)", String(reflecting: code), dumped] {
      #expect(!shown.contains("123456") && !shown.contains("abcd") && !shown.contains("hunter2"))
    }
  }

  @Test func usersAndRecordsEncodedBeforeTheNewFieldsStillDecode() async throws {
    let h = try await Harness()
    var json = String(decoding: try JSONEncoder().encode(h.admin), as: UTF8.self)
    for field in ["emailVerified", "hasSecondFactor"] {
      for form in [",\"\(field)\":false", "\"\(field)\":false,"] {
        json = json.replacing(form, with: "")
      }
    }
    #expect(!json.contains("emailVerified") && !json.contains("hasSecondFactor"))
    let decoded = try JSONDecoder().decode(User.self, from: Data(json.utf8))
    #expect(decoded == h.admin)
    // A record's flags come from what it stores, never from the encoded user.
    let record = try #require(await h.store.user(id: h.admin.id))
    let forged = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
      .replacing("\"hasSecondFactor\":false", with: "\"hasSecondFactor\":true")
    #expect(forged.contains("\"hasSecondFactor\":true"))
    let decodedRecord = try JSONDecoder().decode(UserRecord.self, from: Data(forged.utf8))
    #expect(!decodedRecord.user.hasSecondFactor)
  }

  @Test func decodedCodeParametersAreClamped() throws {
    let json = #"{"algorithm":"SHA1","digits":7,"period":0}"#
    let parameters = try JSONDecoder().decode(OneTimeCodeParameters.self, from: Data(json.utf8))
    #expect(parameters.digits == 6 && parameters.period == 15)
  }

  @Test func aCorrectCodeIsNotThrottledByContention() async throws {
    /// Fails the first commit that updates a user with a version conflict, as a concurrent
    /// change of the user would.
    final class ConflictOnce: ForwardingDirectoryStore, Sendable {
      let base: any DirectoryStore
      let armed = Mutex(false)
      init(_ base: any DirectoryStore) { self.base = base }
      func commit(_ changes: ChangeSet) async throws {
        let conflict = armed.withLock { armed in
          defer { if !changes.users.isEmpty { armed = false } }
          return armed && !changes.users.isEmpty
        }
        if conflict { throw UserManagementError(.versionConflict, "injected") }
        try await base.commit(changes)
      }
    }
    let memory = InMemoryDirectoryStore()
    let store = ConflictOnce(memory)
    let clock = TestClock()
    let directory = UserDirectory(
      store: store,
      configuration: .init(
        passwordHasher: PBKDF2PasswordHasher(insecureIterations: 2),
        loginThrottle: LoginThrottlePolicy(freeAttempts: 2), now: clock.function))
    let (_, secret) = try await Self.enrolledAdministrator(of: directory, at: clock.now)
    clock.advance(by: 30)
    func challenge() async throws -> Secret {
      guard
        case .secondFactorRequired(let challenge) = try await directory.authenticate(
          username: "admin@example.com", password: Harness.password)
      else { throw UserManagementError(.invalidOperation, "no challenge") }
      return challenge.token
    }
    let wrong = try await challenge()
    await expectError(.invalidCredentials) {
      _ = try await directory.completeSignIn(wrong, with: .authenticator("000000"))
    }
    // One failure counted; the right code's commit conflicts once and is retried without
    // reserving a second attempt, which would have reached the throttle.
    let right = try await challenge()
    store.armed.withLock { $0 = true }
    _ = try await directory.completeSignIn(
      right, with: .authenticator(try authenticatorCode(secret, at: clock.now)))
  }

  @Test func resetRequestsAreLimitedToOneAMinute() async throws {
    let h = try await Harness()
    try await h.add("grace@example.com")
    let first = try await h.directory.passwordResetToken(for: "grace@example.com")
    #expect(first != nil)
    for _ in 0..<20 {
      #expect(try await h.directory.passwordResetToken(for: "grace@example.com") == nil)
    }
    #expect(try await h.allEvents().filter { $0.action == .passwordResetRequested }.count == 1)
    h.clock.advance(by: 61)
    #expect(try await h.directory.passwordResetToken(for: "grace@example.com") != nil)
    // The first link still works: a flood does not push it out.
    _ = try await h.directory.resetPassword(
      token: try #require(first), newPassword: Secret("another perfectly fine passphrase"))
  }

  @Test func disablingAPIAccessRevokesEveryKey() async throws {
    let h = try await Harness()
    let grace = try await h.add("grace@example.com", apiAccess: true)
    let key = try await h.directory.createAPIKey(
      for: grace.id, name: "k", scopes: [.everything], proof: .password(Harness.password),
      by: .user(grace.id))
    _ = try await h.directory.setAPIAccess(false, of: grace.id, by: h.asAdmin)
    _ = try await h.directory.setAPIAccess(true, of: grace.id, by: h.asAdmin)
    await expectError(.invalidCredentials) {
      _ = try await h.directory.authenticateAPIKey(key.secret)
    }
    let keys = try await h.directory.apiKeys(of: grace.id, by: h.asAdmin)
    #expect(keys.allSatisfy { $0.revokedAt != nil })
  }

  @Test func aRecoveryCodeUsedAsProofIsAudited() async throws {
    let h = try await Harness()
    let enrolled = try await h.enroll(try await h.add("grace@example.com"))
    _ = try await h.directory.regenerateRecoveryCodes(
      for: enrolled.user.id, proof: .secondFactor(.recovery(enrolled.recoveryCodes[0])),
      by: .user(enrolled.user.id))
    #expect(try await h.allEvents().contains { $0.action == .recoveryCodeUsed })
  }
}

/// Moves a user's security stamp (as a password reset elsewhere would) at the first read of a
/// user after ``arm()``.
final class StampChangingStore: ForwardingDirectoryStore {
  let base: any DirectoryStore
  private let armed = Mutex(false)

  init(_ base: any DirectoryStore) { self.base = base }

  func arm() { armed.withLock { $0 = true } }

  func user(id: UserID) async throws -> UserRecord? {
    let fire = armed.withLock { armed in
      defer { armed = false }
      return armed
    }
    if fire, var record = try await base.user(id: id) {
      record.user.securityStamp = SecurityStamp(rawValue: "changed meanwhile")
      record.user.version += 1
      try await base.commit(ChangeSet(users: [record]))
    }
    return try await base.user(id: id)
  }
}

/// Arms a ``StampChangingStore`` whenever it has checked a password.
struct ArmingHasher: PasswordHasher {
  let base: any PasswordHasher
  let store: StampChangingStore

  init(_ base: any PasswordHasher, arming store: StampChangingStore) {
    self.base = base
    self.store = store
  }

  func hash(_ password: Secret) throws(UserManagementError) -> PasswordHash {
    try base.hash(password)
  }

  func verify(_ password: Secret, against hash: PasswordHash) throws(UserManagementError)
    -> PasswordVerification
  {
    defer { store.arm() }
    return try base.verify(password, against: hash)
  }

  func canVerify(_ hash: PasswordHash) -> Bool { base.canVerify(hash) }
  func needsRehash(_ hash: PasswordHash) throws(UserManagementError) -> Bool {
    try base.needsRehash(hash)
  }
}
