import Testing
import UMKCrypto
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// The code an authenticator app shows for `secret` (base32) at `time`, computed with the
/// primitives that are cross-checked against pyotp.
func authenticatorCode(
  _ secret: Secret, at time: Date, offsetSteps: Int64 = 0,
  parameters: OneTimeCodeParameters = .standard
) throws -> String {
  let key = try #require(Base32.decode(secret.revealForDisplay()))
  let step = UInt64(Int64(time.timeIntervalSince1970) / Int64(parameters.period) + offsetSteps)
  let algorithm: OneTimePassword.Algorithm =
    switch parameters.algorithm {
    case .sha1: .sha1
    case .sha256: .sha256
    case .sha512: .sha512
    }
  let code = try OneTimePassword.code(
    key: key, counter: step, digits: parameters.digits, algorithm: algorithm)
  return OneTimePassword.formatted(code, digits: parameters.digits)
}

/// A harness user enrolled with an authenticator, and what enrolment returned.
struct Enrolled {
  let user: User
  let secret: Secret
  let recoveryCodes: [Secret]
}

extension Harness {
  func enroll(_ user: User) async throws -> Enrolled {
    let password = user.id == admin.id ? adminPassword : Harness.password
    let enrollment = try await directory.enrollSecondFactor(
      for: user.id, password: password, by: .user(user.id))
    let codes = try await directory.confirmSecondFactor(
      for: user.id, code: try authenticatorCode(enrollment.secret, at: clock.now),
      by: .user(user.id))
    // The next sign-in must not reuse the confirmation's code.
    clock.advance(by: 30)
    return Enrolled(user: user, secret: enrollment.secret, recoveryCodes: codes)
  }

  /// The password step, expecting a challenge.
  func challenge(_ username: String, password: Secret = Harness.password) async throws
    -> SignInChallenge
  {
    guard
      case .secondFactorRequired(let challenge) = try await directory.authenticate(
        username: username, password: password)
    else {
      Issue.record("the password alone signed in a user with a second factor")
      throw UserManagementError(.invalidOperation, "no challenge")
    }
    return challenge
  }
}

@Suite("Two-factor sign-in (TOTP) and recovery codes")
struct SecondFactorTests {
  @Test func enrolmentReturnsA160BitSecretAndAnOtpauthURIOnce() async throws {
    let h = try await Harness(accountSecurity: .init(issuer: "Example Corp"))
    let grace = try await h.add("grace@example.com")
    let enrollment = try await h.directory.enrollSecondFactor(
      for: grace.id, password: Harness.password, by: .user(grace.id))
    let key = try #require(Base32.decode(enrollment.secret.revealForDisplay()))
    #expect(key.count == 20)
    let uri = enrollment.uri.revealForDisplay()
    #expect(uri.hasPrefix("otpauth://totp/Example%20Corp:grace%40example.com?secret="))
    #expect(uri.contains("&issuer=Example%20Corp&algorithm=SHA1&digits=6&period=30"))
    #expect("\(enrollment.secret)" == "<redacted>")
    // Nothing changes at sign-in until a code confirms the enrolment.
    _ = try await h.directory.signInWithPassword(
      username: "grace@example.com", password: Harness.password)
    await expectError(.invalidCredentials) {
      _ = try await h.directory.confirmSecondFactor(
        for: grace.id, code: "000000", by: .user(grace.id))
    }
    let codes = try await h.directory.confirmSecondFactor(
      for: grace.id, code: try authenticatorCode(enrollment.secret, at: h.clock.now),
      by: .user(grace.id))
    #expect(codes.count == 10)
    #expect(Set(codes.map { $0.revealForDisplay() }).count == 10)
    #expect(codes.allSatisfy { $0.revealForDisplay().utf8.count == 19 })
    let user = try await h.directory.user(grace.id, by: h.asAdmin)
    #expect(user.hasSecondFactor)
    let events = try await h.allEvents().filter { $0.action == .secondFactorEnrolled }
    #expect(events.count == 1)
  }

  @Test func onlyTheUserThemselfEnrols() async throws {
    let h = try await Harness()
    let grace = try await h.add("grace@example.com")
    await expectError(.notAuthorized) {
      _ = try await h.directory.enrollSecondFactor(
        for: grace.id, password: Harness.password, by: h.asAdmin)
    }
    await expectError(.notAuthorized) {
      _ = try await h.directory.enrollSecondFactor(
        for: grace.id, password: Harness.password, by: .system("script"))
    }
  }

  @Test func signInTakesAPasswordThenACode() async throws {
    let h = try await Harness()
    let enrolled = try await h.enroll(try await h.add("grace@example.com"))
    let challenge = try await h.challenge("grace@example.com")
    #expect(challenge.token.revealForDisplay().hasPrefix("umk_2fa_"))
    #expect(challenge.expiresAt == h.clock.now.addingTimeInterval(300))
    let code = try authenticatorCode(enrolled.secret, at: h.clock.now)
    let signedIn = try await h.directory.completeSignIn(
      challenge.token, with: .authenticator(code))
    #expect(signedIn.user.id == enrolled.user.id)
    // The challenge is single-use.
    await expectError(.invalidToken) {
      _ = try await h.directory.completeSignIn(challenge.token, with: .authenticator(code))
    }
  }

  @Test func aCodeIsNeverAcceptedTwice() async throws {
    let h = try await Harness()
    let enrolled = try await h.enroll(try await h.add("grace@example.com"))
    let code = try authenticatorCode(enrolled.secret, at: h.clock.now)
    let first = try await h.challenge("grace@example.com")
    _ = try await h.directory.completeSignIn(first.token, with: .authenticator(code))
    let second = try await h.challenge("grace@example.com")
    await expectError(.invalidCredentials) {
      _ = try await h.directory.completeSignIn(second.token, with: .authenticator(code))
    }
    // Nor an earlier step's code, once a later one was used.
    let previous = try authenticatorCode(enrolled.secret, at: h.clock.now, offsetSteps: -1)
    await expectError(.invalidCredentials) {
      _ = try await h.directory.completeSignIn(second.token, with: .authenticator(previous))
    }
    // The next step's code works (clock skew of one step), the one after it does not.
    let tooFar = try authenticatorCode(enrolled.secret, at: h.clock.now, offsetSteps: 2)
    await expectError(.invalidCredentials) {
      _ = try await h.directory.completeSignIn(second.token, with: .authenticator(tooFar))
    }
    let next = try authenticatorCode(enrolled.secret, at: h.clock.now, offsetSteps: 1)
    _ = try await h.directory.completeSignIn(second.token, with: .authenticator(next))
  }

  /// Two servers (two file stores on one directory) complete two sign-ins with the same code
  /// at once: the step is recorded in the commit that completes a sign-in, so one wins.
  @Test func aCodeReusedOnTwoStoresAtOnceIsAcceptedOnce() async throws {
    let temporary = try TemporaryDirectory()
    let clock = TestClock()
    let hasher = PBKDF2PasswordHasher(insecureIterations: 2)
    func directory() throws -> UserDirectory {
      UserDirectory(
        store: try FileDirectoryStore(directory: temporary.store),
        configuration: .init(passwordHasher: hasher, now: clock.function))
    }
    let one = try directory()
    let two = try directory()
    let admin = try await one.bootstrap(
      NewUser(
        username: "admin@example.com", firstName: "Ada", lastName: "Admin",
        password: .typed(Harness.password)))
    let id = admin.user.id
    let enrollment = try await one.enrollSecondFactor(
      for: id, password: Harness.password, by: .user(id))
    _ = try await one.confirmSecondFactor(
      for: id, code: try authenticatorCode(enrollment.secret, at: clock.now), by: .user(id))
    for round in 0..<5 {
      clock.advance(by: 30)
      let code = try authenticatorCode(enrollment.secret, at: clock.now)
      func challenge(_ directory: UserDirectory) async throws -> Secret {
        guard
          case .secondFactorRequired(let challenge) = try await directory.authenticate(
            username: "admin@example.com", password: Harness.password)
        else { throw UserManagementError(.invalidOperation, "no challenge") }
        return challenge.token
      }
      let first = try await challenge(one)
      let second = try await challenge(two)
      async let a = try? one.completeSignIn(first, with: .authenticator(code))
      async let b = try? two.completeSignIn(second, with: .authenticator(code))
      let accepted = [await a, await b].compactMap { $0 }.count
      #expect(accepted == 1, "round \(round): the same code was accepted \(accepted) times")
    }
  }

  @Test func wrongCodesCountTowardsThePasswordThrottle() async throws {
    let h = try await Harness(throttle: LoginThrottlePolicy(freeAttempts: 4))
    let enrolled = try await h.enroll(try await h.add("grace@example.com"))
    // Knowing the password does not buy unlimited guesses: a right password neither counts
    // nor clears, and each wrong code counts.
    for _ in 0..<4 {
      let challenge = try await h.challenge("grace@example.com")
      await expectError(.invalidCredentials) {
        _ = try await h.directory.completeSignIn(challenge.token, with: .authenticator("000000"))
      }
    }
    await expectError(.throttled) {
      _ = try await h.directory.authenticate(
        username: "grace@example.com", password: Harness.password)
    }
    // A completed sign-in clears the counter.
    h.clock.advance(by: 3600)
    let challenge = try await h.challenge("grace@example.com")
    _ = try await h.directory.completeSignIn(
      challenge.token,
      with: .authenticator(try authenticatorCode(enrolled.secret, at: h.clock.now)))
    let state = await h.store.loginThrottle(for: enrolled.user.id, kind: .password)
    #expect(state.consecutiveFailures == 0)
  }

  @Test func challengesExpireAndDieWithTheSecurityStamp() async throws {
    let h = try await Harness()
    let enrolled = try await h.enroll(try await h.add("grace@example.com"))
    let expired = try await h.challenge("grace@example.com")
    h.clock.advance(by: 301)
    await expectError(.invalidToken) {
      _ = try await h.directory.completeSignIn(
        expired.token,
        with: .authenticator(try authenticatorCode(enrolled.secret, at: h.clock.now)))
    }
    let stale = try await h.challenge("grace@example.com")
    _ = try await h.directory.setRole(.admin, of: enrolled.user.id, by: h.asAdmin)
    await expectError(.invalidToken) {
      _ = try await h.directory.completeSignIn(
        stale.token,
        with: .authenticator(try authenticatorCode(enrolled.secret, at: h.clock.now)))
    }
    // Forged and malformed challenges are refused the same way.
    for forged in ["umk_2fa_", "nonsense", String(repeating: "a", count: 80)] {
      await expectError(.invalidToken) {
        _ = try await h.directory.completeSignIn(Secret(forged), with: .authenticator("123456"))
      }
    }
  }

  @Test func recoveryCodesAreSingleUseAuditedAndReplaceable() async throws {
    let h = try await Harness()
    let enrolled = try await h.enroll(try await h.add("grace@example.com"))
    let code = enrolled.recoveryCodes[3]
    // Typed in capitals, without hyphens.
    let typed = Secret(String(code.revealForDisplay().uppercased().filter { $0 != "-" }))
    let challenge = try await h.challenge("grace@example.com")
    _ = try await h.directory.completeSignIn(challenge.token, with: .recovery(typed))
    #expect(
      try await h.directory.remainingRecoveryCodes(of: enrolled.user.id, by: h.asAdmin) == 9)
    let again = try await h.challenge("grace@example.com")
    await expectError(.invalidCredentials) {
      _ = try await h.directory.completeSignIn(again.token, with: .recovery(code))
    }
    let used = try await h.allEvents().filter { $0.action == .recoveryCodeUsed }
    #expect(used.count == 1)
    // Regenerating takes a code of the factor, not the password, and invalidates the old set.
    await expectError(.secondFactorRequired) {
      _ = try await h.directory.regenerateRecoveryCodes(
        for: enrolled.user.id, proof: .password(Harness.password), by: .user(enrolled.user.id))
    }
    let fresh = try await h.directory.regenerateRecoveryCodes(
      for: enrolled.user.id, proof: .secondFactor(.recovery(enrolled.recoveryCodes[5])),
      by: .user(enrolled.user.id))
    #expect(fresh.count == 10)
    await expectError(.invalidCredentials) {
      _ = try await h.directory.completeSignIn(
        again.token, with: .recovery(enrolled.recoveryCodes[0]))
    }
    _ = try await h.directory.completeSignIn(again.token, with: .recovery(fresh[0]))
  }

  @Test func usersRemoveTheirOwnFactorWithProofAndAdminsResetOthers() async throws {
    let h = try await Harness()
    let enrolled = try await h.enroll(try await h.add("grace@example.com"))
    let id = enrolled.user.id
    // The password, right or wrong, never removes a confirmed factor; a wrong code is wrong.
    for password in [Harness.password, Secret("wrong password here")] {
      await expectError(.secondFactorRequired) {
        _ = try await h.directory.removeSecondFactor(
          for: id, proof: .password(password), by: .user(id))
      }
    }
    await expectError(.invalidCredentials) {
      _ = try await h.directory.removeSecondFactor(
        for: id, proof: .secondFactor(.authenticator("000000")), by: .user(id))
    }
    await expectError(.notAuthorized) {
      _ = try await h.directory.removeSecondFactor(
        for: id, proof: .password(Harness.password), by: h.asAdmin)
    }
    let before = try await h.directory.user(id, by: h.asAdmin)
    let removed = try await h.directory.removeSecondFactor(
      for: id,
      proof: .secondFactor(.authenticator(try authenticatorCode(enrolled.secret, at: h.clock.now))),
      by: .user(id))
    #expect(!removed.hasSecondFactor)
    #expect(removed.securityStamp != before.securityStamp)
    _ = try await h.directory.signInWithPassword(
      username: "grace@example.com", password: Harness.password)

    // An administrator resets a lost factor, audited, but never their own.
    _ = try await h.enroll(try await h.directory.user(id, by: h.asAdmin))
    await expectError(.notAuthorized) {
      _ = try await h.directory.resetSecondFactor(of: h.admin.id, by: .user(id))
    }
    let reset = try await h.directory.resetSecondFactor(of: id, by: h.asAdmin)
    #expect(!reset.hasSecondFactor)
    let resets = try await h.allEvents().filter { $0.action == .secondFactorReset }
    #expect(resets.count == 1 && resets[0].actor == h.asAdmin)
    _ = try await h.enroll(h.admin)
    await expectError(.selfModificationForbidden) {
      _ = try await h.directory.resetSecondFactor(of: h.admin.id, by: h.asAdmin)
    }
  }

  @Test func administratorsMustEnrolBeforeDoingAnythingElse() async throws {
    let h = try await Harness(accountSecurity: .init(secondFactorRequirement: .administrators))
    // The bootstrap administrator signs in, and is told to enrol.
    let session = try await h.directory.signInWithPassword(
      username: "admin@example.com", password: h.adminPassword)
    #expect(session.mustEnrollSecondFactor)
    await expectError(.secondFactorEnrollmentRequired) {
      _ = try await h.directory.users(by: h.asAdmin)
    }
    #expect(
      try await h.directory.explain(h.admin.id, to: .view, on: Resource(type: "x", id: "1")).reason
        == .secondFactorEnrollmentRequired)
    _ = try await h.enroll(h.admin)
    _ = try await h.directory.users(by: h.asAdmin)
    // General Users are not asked.
    let grace = try await h.add("grace@example.com")
    let graceSession = try await h.directory.signInWithPassword(
      username: "grace@example.com", password: Harness.password)
    #expect(!graceSession.mustEnrollSecondFactor)
    _ = try await h.directory.user(grace.id, by: .user(grace.id))
  }

  @Test func everyoneMustEnrolWhenConfigured() async throws {
    let h = try await Harness(accountSecurity: .init(secondFactorRequirement: .everyone))
    _ = try await h.enroll(h.admin)
    let grace = try await h.add("grace@example.com")
    await expectError(.secondFactorEnrollmentRequired) {
      _ = try await h.directory.updateUser(
        grace.id, with: UserUpdate(firstName: "G"), by: .user(grace.id))
    }
    #expect(
      !(try await h.directory.isAllowed(grace.id, to: .view, on: Resource(type: "x", id: "1"))))
  }

  @Test func secretsAreSealedWithTheHostKeyAndResealedAfterRotation() async throws {
    let old = try SecretKey(id: "2026-01", bytes: [UInt8](repeating: 7, count: 32))
    let new = try SecretKey(id: "2026-12", bytes: [UInt8](repeating: 9, count: 32))
    let h = try await Harness(accountSecurity: .init(keyring: try SecretKeyring(current: old)))
    let enrolled = try await h.enroll(try await h.add("grace@example.com"))
    let stored = try #require(await h.store.user(id: enrolled.user.id)?.security.secondFactor)
    #expect(stored.secret.isEncrypted && stored.secret.keyID == "2026-01")
    let base32 = enrolled.secret.revealForDisplay()
    #expect(!stored.secret.encoded.contains(base32))
    #expect("\(stored.secret)" == "SealedSecret(chacha20poly1305, key 2026-01)")

    // The same store under a keyring without the old key cannot use the secret.
    let withoutKey = UserDirectory(
      store: h.store,
      configuration: .init(
        passwordHasher: h.hasher, now: h.clock.function,
        accountSecurity: .init(keyring: try SecretKeyring(current: new))))
    let challenge = try await h.challenge("grace@example.com")
    await expectError(.encryptionKeyUnavailable) {
      _ = try await withoutKey.completeSignIn(
        challenge.token,
        with: .authenticator(try authenticatorCode(enrolled.secret, at: h.clock.now)))
    }
    // After a rotation, a sign-in seals the secret again under the new key.
    let rotated = UserDirectory(
      store: h.store,
      configuration: .init(
        passwordHasher: h.hasher, now: h.clock.function,
        accountSecurity: .init(keyring: try SecretKeyring(current: new, previous: [old]))))
    _ = try await rotated.completeSignIn(
      challenge.token,
      with: .authenticator(try authenticatorCode(enrolled.secret, at: h.clock.now)))
    let resealed = try #require(await h.store.user(id: enrolled.user.id)?.security.secondFactor)
    #expect(resealed.secret.keyID == "2026-12")
  }

  @Test func aKeyringComesFromTheEnvironment() throws {
    let current = Data((0..<32).map { UInt8($0) }).base64EncodedString()
    let earlier = Data([UInt8](repeating: 0xA5, count: 32)).base64EncodedString()
    #expect(try SecretKeyring(environment: ["PATH": "/bin"]) == nil)
    let keyring = try #require(
      try SecretKeyring(environment: [
        "UMK_SECRET_KEY": "2026-12:" + current,
        "UMK_PREVIOUS_SECRET_KEYS": "2026-01:\(earlier),,2025-07:\(earlier)",
      ]))
    #expect(keyring.current.id == "2026-12")
    #expect(keyring.current.base64ForStorage().revealForDisplay() == current)
    #expect(keyring.previous.map(\.id) == ["2026-01", "2025-07"])
    #expect(keyring.previous[0].base64ForStorage().revealForDisplay() == earlier)

    // Malformed values name their variable and never echo a key.
    for (environment, variable) in [
      (["UMK_SECRET_KEY": current], "UMK_SECRET_KEY"),
      // Set but empty (a failed lookup), or earlier keys alone: refused, never "no key".
      (["UMK_SECRET_KEY": ""], "UMK_SECRET_KEY"),
      (["UMK_PREVIOUS_SECRET_KEYS": "2026-01:" + earlier], "UMK_SECRET_KEY"),
      (["UMK_SECRET_KEY": "2026-12:" + current.dropLast(4)], "UMK_SECRET_KEY"),
      (["UMK_SECRET_KEY": "bad id:" + current], "UMK_SECRET_KEY"),
      (
        ["UMK_SECRET_KEY": "2026-12:" + current, "UMK_PREVIOUS_SECRET_KEYS": "x:" + "%" + earlier],
        "UMK_PREVIOUS_SECRET_KEYS"
      ),
    ] {
      do {
        _ = try SecretKeyring(environment: environment)
        Issue.record("expected \(variable) to be refused")
      } catch {
        #expect(error.code == .invalidField)
        #expect(error.context["field"] == variable, "\(error)")
        #expect(error.message.hasPrefix(variable), "\(error.message)")
        #expect(
          !error.message.contains(current.prefix(12)) && !error.message.contains(earlier.prefix(12))
        )
      }
    }
    // Two keys with one id would make sealed values ambiguous.
    #expect(throws: UserManagementError.self) {
      try SecretKeyring(environment: [
        "UMK_SECRET_KEY": "k:" + current, "UMK_PREVIOUS_SECRET_KEYS": "k:" + earlier,
      ])
    }
  }

  @Test func eightDigitSHA512CodesWork() async throws {
    let parameters = OneTimeCodeParameters(algorithm: .sha512, digits: 8, period: 60)
    let h = try await Harness(accountSecurity: .init(oneTimeCodes: parameters))
    let grace = try await h.add("grace@example.com")
    let enrollment = try await h.directory.enrollSecondFactor(
      for: grace.id, password: Harness.password, by: .user(grace.id))
    #expect(enrollment.uri.revealForDisplay().contains("algorithm=SHA512&digits=8&period=60"))
    let code = try authenticatorCode(enrollment.secret, at: h.clock.now, parameters: parameters)
    #expect(code.count == 8)
    _ = try await h.directory.confirmSecondFactor(for: grace.id, code: code, by: .user(grace.id))
  }
}
