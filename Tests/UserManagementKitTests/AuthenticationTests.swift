import FoundationEssentials
import Testing
import UserManagementKit
import UserManagementKitTesting

@Suite("Authentication")
struct AuthenticationTests {
  @Test func everyOutcomeCostsExactlyOneKDFRun() async throws {
    let h = try await Harness()
    let active = try await h.add("active@example.com")
    try await h.add("inactive@example.com", status: .inactive)
    _ = active
    let cases: [(String, Secret, UserManagementError.Code?)] = [
      ("nobody@example.com", Harness.password, .invalidCredentials),
      ("active@example.com", Secret("wrong password but long"), .invalidCredentials),
      ("inactive@example.com", Harness.password, .accountInactive),
      ("inactive@example.com", Secret("wrong password but long"), .invalidCredentials),
      ("active@example.com", Harness.password, nil),
      ("not even an email", Harness.password, .invalidCredentials),
    ]
    for (username, password, expected) in cases {
      h.hasher.reset()
      do {
        _ = try await h.directory.authenticate(username: username, password: password)
        #expect(expected == nil, "\(username) signed in")
      } catch {
        #expect(error.code == expected, "\(username): \(error)")
      }
      #expect(h.hasher.verificationCount == 1, "\(username): one verification")
      #expect(h.hasher.hashCount == 0 || expected == .invalidCredentials && username.hasPrefix("n"))
    }
  }

  @Test func unknownUsersGetTheSameErrorAsWrongPasswords() async throws {
    let h = try await Harness()
    try await h.add("known@example.com")
    let unknown = await expectError(.invalidCredentials) {
      _ = try await h.directory.authenticate(
        username: "unknown@example.com", password: Harness.password)
    }
    let wrong = await expectError(.invalidCredentials) {
      _ = try await h.directory.authenticate(
        username: "known@example.com", password: Secret("nope nope nope nope"))
    }
    #expect(unknown == wrong)
  }

  @Test func failedAttemptsAreThrottledAndLocked() async throws {
    let h = try await Harness(
      throttle: LoginThrottlePolicy(
        freeAttempts: 3, baseDelay: .seconds(10), maximumDelay: .seconds(60), lockoutThreshold: 6))
    let user = try await h.add("t@example.com")
    let wrong = Secret("definitely the wrong one")
    for _ in 0..<3 {
      await expectError(.invalidCredentials) {
        _ = try await h.directory.authenticate(username: "t@example.com", password: wrong)
      }
    }
    // The fourth attempt must wait, even with the right password, and costs no KDF run.
    h.hasher.reset()
    let throttled = await expectError(.throttled) {
      _ = try await h.directory.authenticate(username: "t@example.com", password: Harness.password)
    }
    #expect(throttled?.context["retryAfterSeconds"] == "10")
    #expect(h.hasher.kdfCount == 0)
    h.clock.advance(by: 10)
    await expectError(.invalidCredentials) {
      _ = try await h.directory.authenticate(username: "t@example.com", password: wrong)
    }
    h.clock.advance(by: 10)
    await expectError(.throttled) {  // the delay doubled to 20 s
      _ = try await h.directory.authenticate(username: "t@example.com", password: Harness.password)
    }
    h.clock.advance(by: 10)
    // A success resets the counter.
    _ = try await h.directory.authenticate(username: "t@example.com", password: Harness.password)
    #expect(await h.store.loginThrottle(for: user.id, kind: .password) == .clear)
    // Six failures lock the password until an administrator resets it; status stays active.
    for _ in 0..<6 {
      h.clock.advance(by: 3600)
      _ = try? await h.directory.authenticate(username: "t@example.com", password: wrong)
    }
    h.clock.advance(by: 86_400)
    let locked = await expectError(.throttled) {
      _ = try await h.directory.authenticate(username: "t@example.com", password: Harness.password)
    }
    #expect(locked?.context["retryAfterSeconds"] == nil)
    #expect(try await h.directory.user(user.id, by: h.asAdmin).status == .active)
    try await h.directory.resetLoginThrottle(of: user.id, by: h.asAdmin)
    _ = try await h.directory.authenticate(username: "t@example.com", password: Harness.password)
    let event = try await h.directory.auditEvents(
      AuditQuery(targetUser: user.id, limit: 1), by: h.asAdmin)
    #expect(event.first?.action == .loginThrottleReset)
  }

  @Test func lockoutThresholdNeverExceedsOneHundred() {
    #expect(LoginThrottlePolicy(lockoutThreshold: 1000).lockoutThreshold == 100)
    #expect(LoginThrottlePolicy().lockoutThreshold == 100)
  }

  @Test func adminPasswordResetUnlocks() async throws {
    let h = try await Harness(throttle: LoginThrottlePolicy(freeAttempts: 0, lockoutThreshold: 1))
    let user = try await h.add("u@example.com")
    _ = try? await h.directory.authenticate(
      username: "u@example.com", password: Secret("wrong wrong wrong!"))
    await expectError(.throttled) {
      _ = try await h.directory.authenticate(username: "u@example.com", password: Harness.password)
    }
    let reset = try await h.directory.setPassword(.generated, of: user.id, by: h.asAdmin)
    let fresh = try #require(reset.generatedPassword)
    #expect(
      try await h.directory.authenticate(username: "u@example.com", password: fresh)
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
    let signedIn = try await directory.authenticate(
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
    let signedIn = try await stronger.authenticate(
      username: "legacy@example.com", password: Harness.password)
    #expect(signedIn.rehashed)
    let after = try #require(await store.user(usernameKey: "legacy@example.com")?.passwordHash)
    #expect(after.encoded.hasPrefix("$pbkdf2-sha512$i=3,"))
    #expect(
      !(try await stronger.authenticate(username: "legacy@example.com", password: Harness.password))
        .rehashed)
    let event = try #require(
      try await stronger.auditEvents(AuditQuery(limit: 1), by: .system("test")).first)
    #expect(event.action == .passwordRehashed)
    #expect(!"\(event)".contains(after.encoded))
  }
}
