import Testing
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Authentication")
struct AuthenticationTests {
  /// Every sign-in outcome costs exactly one verification, so its timing tells nothing; only
  /// an unknown username (which has no stored hash to verify) may also compute a hash.
  @Test(
    arguments: [
      ("nobody@example.com", "a perfectly fine passphrase", .invalidCredentials),
      ("active@example.com", "wrong password but long", .invalidCredentials),
      ("inactive@example.com", "a perfectly fine passphrase", .accountInactive),
      ("inactive@example.com", "wrong password but long", .invalidCredentials),
      ("active@example.com", "a perfectly fine passphrase", nil),
      ("not even an email", "a perfectly fine passphrase", .invalidCredentials),
    ] as [(String, String, UserManagementError.Code?)])
  func everyOutcomeCostsExactlyOneKDFRun(
    username: String, password: String, expected: UserManagementError.Code?
  ) async throws {
    let h = try await Harness()
    try await h.add("active@example.com")
    try await h.add("inactive@example.com", status: .inactive)
    h.hasher.reset()
    do {
      _ = try await h.directory.signInWithPassword(username: username, password: Secret(password))
      #expect(expected == nil, "signed in")
    } catch {
      #expect(error.code == expected, "\(error)")
    }
    #expect(h.hasher.verificationCount == 1)
    let isKnownUser = ["active@example.com", "inactive@example.com"].contains(username)
    if isKnownUser {
      #expect(h.hasher.hashCount == 0)
    }
  }

  @Test func unknownUsersGetTheSameErrorAsWrongPasswords() async throws {
    let h = try await Harness()
    try await h.add("known@example.com")
    let unknown = await expectError(.invalidCredentials) {
      _ = try await h.directory.signInWithPassword(
        username: "unknown@example.com", password: Harness.password)
    }
    let wrong = await expectError(.invalidCredentials) {
      _ = try await h.directory.signInWithPassword(
        username: "known@example.com", password: Secret("nope nope nope nope"))
    }
    #expect(unknown == wrong)
  }

  @Test func failedAttemptsAreThrottledAndLocked() async throws {
    let h = try await Harness(
      throttle: LoginThrottlePolicy(
        freeAttempts: 3, baseDelay: .seconds(10), maximumDelay: .seconds(60), lockoutThreshold: 6,
        lockoutDuration: nil))
    let user = try await h.add("t@example.com")
    let wrong = Secret("definitely the wrong one")
    for _ in 0..<3 {
      await expectError(.invalidCredentials) {
        _ = try await h.directory.signInWithPassword(username: "t@example.com", password: wrong)
      }
    }
    // The fourth attempt must wait, even with the right password; it costs the same one
    // verification as a wrong password, so its timing says nothing more.
    h.hasher.reset()
    let throttled = await expectError(.throttled) {
      _ = try await h.directory.signInWithPassword(
        username: "t@example.com", password: Harness.password)
    }
    #expect(throttled?.context["retryAfterSeconds"] == "10")
    #expect(h.hasher.verificationCount == 1)
    h.clock.advance(by: 10)
    await expectError(.invalidCredentials) {
      _ = try await h.directory.signInWithPassword(username: "t@example.com", password: wrong)
    }
    h.clock.advance(by: 10)
    await expectError(.throttled) {  // the delay doubled to 20 s
      _ = try await h.directory.signInWithPassword(
        username: "t@example.com", password: Harness.password)
    }
    h.clock.advance(by: 10)
    // A success resets the counter.
    _ = try await h.directory.signInWithPassword(
      username: "t@example.com", password: Harness.password)
    #expect(await h.store.loginThrottle(for: user.id, kind: .password) == .clear)
    // Six failures lock the password until an administrator resets it; status stays active.
    for _ in 0..<6 {
      h.clock.advance(by: 3600)
      _ = try? await h.directory.signInWithPassword(username: "t@example.com", password: wrong)
    }
    h.clock.advance(by: 86_400)
    let locked = await expectError(.throttled) {
      _ = try await h.directory.signInWithPassword(
        username: "t@example.com", password: Harness.password)
    }
    #expect(locked?.context["retryAfterSeconds"] == nil)
    #expect(try await h.directory.user(user.id, by: h.asAdmin).status == .active)
    try await h.directory.resetLoginThrottle(of: user.id, by: h.asAdmin)
    _ = try await h.directory.signInWithPassword(
      username: "t@example.com", password: Harness.password)
    let event = try await h.directory.auditEvents(
      AuditQuery(targetUser: user.id, limit: 1), by: h.asAdmin)
    #expect(event.first?.action == .loginThrottleReset)
  }

  @Test func aBurstOfParallelGuessesIsJudgedOneAtATime() async throws {
    let h = try await Harness(
      throttle: LoginThrottlePolicy(freeAttempts: 3, baseDelay: .seconds(10)),
      interleaving: true)
    let user = try await h.add("burst@example.com")
    let directory = h.directory
    let codes = await withTaskGroup(of: UserManagementError.Code?.self) { group in
      for _ in 0..<20 {
        group.addTask {
          do {
            _ = try await directory.signInWithPassword(
              username: "burst@example.com", password: Secret("not the password at all"))
            return nil
          } catch {
            return (error as? UserManagementError)?.code
          }
        }
      }
      var codes: [UserManagementError.Code?] = []
      for await code in group { codes.append(code) }
      return codes
    }
    // Only the free attempts were judged as guesses; the rest had to wait.
    #expect(codes.filter { $0 == .invalidCredentials }.count == 3)
    #expect(codes.filter { $0 == .throttled }.count == 17)
    #expect(await h.store.loginThrottle(for: user.id, kind: .password).consecutiveFailures == 3)
  }

  @Test func lockoutsExpireByDefault() async throws {
    let h = try await Harness(
      throttle: LoginThrottlePolicy(freeAttempts: 0, lockoutThreshold: 2))
    try await h.add("lock@example.com")
    for _ in 0..<2 {
      h.clock.advance(by: 3600)
      _ = try? await h.directory.signInWithPassword(
        username: "lock@example.com", password: Secret("wrong wrong wrong!"))
    }
    let locked = await expectError(.throttled) {
      _ = try await h.directory.signInWithPassword(
        username: "lock@example.com", password: Harness.password)
    }
    #expect(locked?.context["retryAfterSeconds"] == "3600")
    h.clock.advance(by: 3600)
    _ = try await h.directory.signInWithPassword(
      username: "lock@example.com", password: Harness.password)
  }

  @Test func oversizedAndUncheckableCredentialsAreWrongCredentials() async throws {
    let h = try await Harness()
    let user = try await h.add("big@example.com")
    h.hasher.reset()
    await expectError(.invalidCredentials) {
      _ = try await h.directory.signInWithPassword(
        username: "big@example.com", password: Secret(String(repeating: "x", count: 5000)))
    }
    #expect(h.hasher.kdfCount == 0, "refused before any lookup or hashing")
    var record = try #require(await h.store.user(id: user.id))
    record.passwordHash = PasswordHash(
      encoded: "$pbkdf2-sha256$i=99999999999,l=32$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
    record.user.version += 1
    try await h.store.commit(ChangeSet(users: [record]))
    h.hasher.reset()
    let error = await expectError(.invalidCredentials) {
      _ = try await h.directory.signInWithPassword(
        username: "big@example.com", password: Harness.password)
    }
    #expect(error?.message.contains("99999999999") == false)
    // The stored hash is refused before any work (the first verification counted), then a
    // dummy verification costs what a wrong password's does: the account answers no faster
    // than another.
    #expect(h.hasher.verificationCount == 2)
  }

  /// A wrong password against a legacy hash (here `{SSHA}`, one SHA-1) costs a verification
  /// with the configured hasher too, as an unknown username does; a native hash costs one.
  @Test func aWrongPasswordAgainstALegacyHashCostsWhatAMissingAccountCosts() async throws {
    let h = try await Harness(
      hasher: MigratingPasswordHasher(preferred: PBKDF2PasswordHasher(insecureIterations: 2)))
    let legacy = try #require(passwordHashVectors.first { $0.format == "ldap-ssha" })
    let imported = try await h.directory.importUsers(
      [
        PortableUser(
          username: "old@example.com", firstName: "O", lastName: "O",
          passwordHash: PasswordHash(encoded: legacy.hash))
      ], by: h.asAdmin)
    #expect(imported.committed)
    func verifications(_ username: String, _ password: String) async -> Int {
      h.hasher.reset()
      await expectError(.invalidCredentials) {
        _ = try await h.directory.signInWithPassword(username: username, password: Secret(password))
      }
      return h.hasher.verificationCount
    }
    #expect(await verifications("nobody@example.com", "wrong") == 1, "the dummy")
    #expect(await verifications("Admin@Example.com", "wrong") == 1, "its own hash")
    #expect(await verifications("old@example.com", "wrong") == 2, "the legacy hash, then the dummy")
    // The right password is checked once, then replaced (no dummy).
    h.hasher.reset()
    _ = try await h.directory.signInWithPassword(
      username: "old@example.com", password: Secret(legacy.password))
    #expect(h.hasher.verificationCount == 1)
    #expect(h.hasher.hashCount == 1)
    #expect(await verifications("old@example.com", "wrong") == 1, "rehashed: a native hash now")
  }

  /// A directory with a user holding a generated token and one holding a typed API password.
  private func apiUsers() async throws -> (h: Harness, tokenUser: User, token: Secret) {
    let h = try await Harness()
    let tokenUser = try await h.add("token@example.com", apiAccess: true)
    let typedUser = try await h.add("manual@example.com", apiAccess: true)
    let token = try #require(
      try await h.directory.setAPIPassword(.generated, of: tokenUser.id, by: h.asAdmin)
        .generatedAPIPassword)
    try await h.directory.setAPIPassword(
      .typed(Secret("a typed api passphrase")), of: typedUser.id, by: h.asAdmin)
    return (h, tokenUser, token)
  }

  /// A token-shaped guess costs no slow hash, whoever it is aimed at.
  @Test(arguments: ["token@example.com", "manual@example.com", "nobody@example.com"])
  func aTokenShapedAPIGuessCostsNoSlowHash(username: String) async throws {
    let (h, _, _) = try await apiUsers()
    h.hasher.reset()
    await expectError(.invalidCredentials) {
      _ = try await h.directory.authenticateAPI(
        username: username, apiPassword: APIPasswordGenerator().generate())
    }
    #expect(h.hasher.verificationCount == 0)
  }

  /// Any other guess costs exactly one slow verification, whoever it is aimed at.
  @Test(arguments: ["token@example.com", "manual@example.com", "nobody@example.com"])
  func anyOtherAPIGuessCostsOneSlowVerification(username: String) async throws {
    let (h, _, _) = try await apiUsers()
    h.hasher.reset()
    await expectError(.invalidCredentials) {
      _ = try await h.directory.authenticateAPI(
        username: username, apiPassword: Secret("some typed guess here"))
    }
    #expect(h.hasher.verificationCount == 1)
  }

  /// Wrong tokens are never throttled: they cannot be guessed, and counting them would only
  /// let an attacker lock the account.
  @Test func wrongAPITokensAreNeverThrottled() async throws {
    let (h, tokenUser, token) = try await apiUsers()
    for _ in 0..<10 {
      _ = try? await h.directory.authenticateAPI(
        username: "token@example.com", apiPassword: APIPasswordGenerator().generate())
    }
    #expect(
      try await h.directory.authenticateAPI(username: "token@example.com", apiPassword: token).id
        == tokenUser.id)
  }

  @Test func typedAPIPasswordsMustDifferFromTheLoginPasswordAndFromTokens() async throws {
    let h = try await Harness()
    let user = try await h.add("same@example.com", apiAccess: true)
    // Set together with the login password, they are compared directly. (A typed value alone is
    // never compared with a stored one; see SecurityReviewTests.)
    let same = await expectError(.weakPassword) {
      try await h.directory.updateUser(
        user.id,
        with: UserUpdate(password: .typed(Harness.password), apiPassword: .typed(Harness.password)),
        by: h.asAdmin)
    }
    #expect(same?.context["reasons"] == "same_as_login_password")
    let tokenShaped = await expectError(.invalidField) {
      try await h.directory.setAPIPassword(
        .typed(APIPasswordGenerator().generate()), of: user.id, by: h.asAdmin)
    }
    #expect(tokenShaped?.context["reason"] == "token_shaped")
  }

  @Test func lockoutThresholdNeverExceedsOneHundred() {
    #expect(LoginThrottlePolicy(lockoutThreshold: 1000).lockoutThreshold == 100)
    #expect(LoginThrottlePolicy().lockoutThreshold == 100)
  }

  @Test func adminPasswordResetUnlocks() async throws {
    let h = try await Harness(throttle: LoginThrottlePolicy(freeAttempts: 0, lockoutThreshold: 1))
    let user = try await h.add("u@example.com")
    _ = try? await h.directory.signInWithPassword(
      username: "u@example.com", password: Secret("wrong wrong wrong!"))
    await expectError(.throttled) {
      _ = try await h.directory.signInWithPassword(
        username: "u@example.com", password: Harness.password)
    }
    let reset = try await h.directory.setPassword(.generated, of: user.id, by: h.asAdmin)
    let fresh = try #require(reset.generatedPassword)
    #expect(
      try await h.directory.signInWithPassword(username: "u@example.com", password: fresh)
        .mustChangePassword)
  }

  @Test func rehashingCanBeTurnedOff() async throws {
    let store = InMemoryDirectoryStore()
    let old = try await Harness(hasher: PBKDF2PasswordHasher(insecureIterations: 2), store: store)
    try await old.add("kept@example.com")
    let before = try #require(await store.user(usernameKey: "kept@example.com")?.passwordHash)
    let directory = UserDirectory(
      store: store,
      configuration: .init(
        passwordHasher: PBKDF2PasswordHasher(insecureIterations: 3), rehashOnSignIn: false))
    let signedIn = try await directory.signInWithPassword(
      username: "kept@example.com", password: Harness.password)
    #expect(!signedIn.rehashed)
    #expect(await store.user(usernameKey: "kept@example.com")?.passwordHash == before)
  }

  @Test func weakHashesAreUpgradedAtSignIn() async throws {
    let store = InMemoryDirectoryStore()
    let old = try await Harness(
      hasher: PBKDF2PasswordHasher(insecureIterations: 2, variant: .sha256), store: store)
    try await old.add("legacy@example.com")
    let before = try #require(await store.user(usernameKey: "legacy@example.com")?.passwordHash)
    #expect(before.encoded.hasPrefix("$pbkdf2-sha256$i=2,"))
    let stronger = UserDirectory(
      store: store,
      configuration: .init(
        passwordHasher: PBKDF2PasswordHasher(insecureIterations: 3, variant: .sha512)))
    let signedIn = try await stronger.signInWithPassword(
      username: "legacy@example.com", password: Harness.password)
    #expect(signedIn.rehashed)
    let after = try #require(await store.user(usernameKey: "legacy@example.com")?.passwordHash)
    #expect(after.encoded.hasPrefix("$pbkdf2-sha512$i=3,"))
    #expect(
      !(try await stronger.signInWithPassword(
        username: "legacy@example.com", password: Harness.password))
        .rehashed)
    let event = try #require(
      try await stronger.auditEvents(AuditQuery(limit: 1), by: .system("test")).first)
    #expect(event.action == .passwordRehashed)
    #expect(!"\(event)".contains(after.encoded))
  }
}
