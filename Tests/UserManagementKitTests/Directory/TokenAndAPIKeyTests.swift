import Testing
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Password-reset and e-mail-verification tokens")
struct ResetTokenTests {
  let newPassword = Secret("a brand new passphrase 2026")

  @Test func aResetTokenSetsANewPasswordOnce() async throws {
    let h = try await Harness()
    let grace = try await h.add("grace@example.com")
    _ = try await h.directory.setPassword(
      .typed(Secret("admin set this one 77")), of: grace.id, by: h.asAdmin)
    let token = try #require(try await h.directory.passwordResetToken(for: "GRACE@example.com"))
    let text = token.revealForDisplay()
    #expect(text.hasPrefix("umk_reset_") && text.utf8.count == 10 + 22 + 30 + 6)
    let before = try await h.directory.user(grace.id, by: h.asAdmin)
    let after = try await h.directory.resetPassword(token: token, newPassword: newPassword)
    #expect(after.securityStamp != before.securityStamp)
    #expect(!after.mustChangePassword)
    _ = try await h.directory.signInWithPassword(
      username: "grace@example.com", password: newPassword)
    await expectError(.invalidToken) {
      _ = try await h.directory.resetPassword(
        token: token, newPassword: Secret("yet another passphrase 99"))
    }
    let events = try await h.allEvents()
    #expect(events.contains { $0.action == .passwordResetRequested })
    #expect(events.contains { $0.action == .passwordResetWithToken && $0.actor == .user(grace.id) })
    // The token appears nowhere in the trail.
    let trail = events.map { "\($0)" }.joined()
    #expect(!trail.contains(String(text.dropFirst(32))))
  }

  @Test func unknownAndInactiveUsersGetNothingAfterTheSameWork() async throws {
    let h = try await Harness()
    try await h.add("inactive@example.com", status: .inactive)
    #expect(try await h.directory.passwordResetToken(for: "nobody@example.com") == nil)
    #expect(try await h.directory.passwordResetToken(for: "inactive@example.com") == nil)
    #expect(try await h.directory.passwordResetToken(for: "not an address") == nil)
    #expect(try await h.allEvents().allSatisfy { $0.action != .passwordResetRequested })
  }

  @Test func aResetTokenDiesWithAPasswordChangeAndWithTime() async throws {
    let h = try await Harness()
    let grace = try await h.add("grace@example.com")
    let stale = try #require(try await h.directory.passwordResetToken(for: "grace@example.com"))
    _ = try await h.directory.changeOwnPassword(
      of: grace.id, current: Harness.password, new: Secret("changed it myself 2026"))
    await expectError(.invalidToken) {
      _ = try await h.directory.resetPassword(token: stale, newPassword: newPassword)
    }
    let deactivated = try #require(
      try await h.directory.passwordResetToken(for: "grace@example.com"))
    _ = try await h.directory.setStatus(.inactive, of: grace.id, by: h.asAdmin)
    _ = try await h.directory.setStatus(.active, of: grace.id, by: h.asAdmin)
    await expectError(.invalidToken) {
      _ = try await h.directory.resetPassword(token: deactivated, newPassword: newPassword)
    }
    let expired = try #require(try await h.directory.passwordResetToken(for: "grace@example.com"))
    h.clock.advance(by: 1801)
    await expectError(.invalidToken) {
      _ = try await h.directory.resetPassword(token: expired, newPassword: newPassword)
    }
  }

  @Test func theNewPasswordMustPassThePolicy() async throws {
    let h = try await Harness()
    try await h.add("grace@example.com")
    let token = try #require(try await h.directory.passwordResetToken(for: "grace@example.com"))
    await expectError(.weakPassword) {
      _ = try await h.directory.resetPassword(token: token, newPassword: Secret("short"))
    }
    // A refused password leaves the token usable.
    _ = try await h.directory.resetPassword(token: token, newPassword: newPassword)
  }

  @Test func forgedTokensAreRefusedBeforeAnyLookup() async throws {
    let h = try await Harness()
    try await h.add("grace@example.com")
    let token = try #require(try await h.directory.passwordResetToken(for: "grace@example.com"))
    var bytes = Array(token.revealForDisplay().utf8)
    bytes[40] = bytes[40] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
    for forged in [Secret(bytes: bytes), Secret("umk_reset_"), Secret("")] {
      await expectError(.invalidToken) {
        _ = try await h.directory.resetPassword(token: forged, newPassword: newPassword)
      }
    }
    // A verification token is not a reset token.
    let grace = try await h.directory.user(named: "grace@example.com", by: h.asAdmin)
    let verification = try await h.directory.emailVerificationToken(for: grace.id, by: h.asAdmin)
    await expectError(.invalidToken) {
      _ = try await h.directory.resetPassword(token: verification, newPassword: newPassword)
    }
  }

  @Test func emailVerificationSetsTheFlagOnce() async throws {
    let h = try await Harness()
    let grace = try await h.add("grace@example.com")
    #expect(!grace.emailVerified)
    let other = try await h.add("other@example.com")
    await expectError(.notAuthorized) {
      _ = try await h.directory.emailVerificationToken(for: grace.id, by: .user(other.id))
    }
    let token = try await h.directory.emailVerificationToken(for: grace.id, by: .user(grace.id))
    #expect(token.revealForDisplay().hasPrefix("umk_verify_"))
    let verified = try await h.directory.verifyEmail(token: token)
    #expect(verified.emailVerified)
    await expectError(.invalidToken) { _ = try await h.directory.verifyEmail(token: token) }
    #expect(try await h.allEvents().contains { $0.action == .emailVerified })
  }
}

@Suite("Scoped API keys")
struct APIKeyTests {
  struct Fixture {
    let h: Harness
    let grace: User
    let policy: Policy

    init(apiAccess: Bool = true) async throws {
      h = try await Harness()
      policy = try await h.directory.createPolicy(
        PolicyDocument(
          name: "Dashboards",
          permissions: [
            Permission(resourceType: "dashboard", allowed: [.view, .edit], resourceIds: [.any])
          ]), by: h.asAdmin)
      grace = try await h.add("grace@example.com", policies: [policy.id], apiAccess: apiAccess)
    }
  }

  let dashboard = Resource(type: "dashboard", id: "sales")

  @Test func aKeyNeverGrantsBeyondItsUserOrItsScopes() async throws {
    let f = try await Fixture()
    let created = try await f.h.directory.createAPIKey(
      for: f.grace.id, name: "CI",
      scopes: [APIKeyScope(resourceType: "dashboard", actions: [.view])],
      proof: .password(Harness.password), by: .user(f.grace.id))
    let secret = created.secret.revealForDisplay()
    #expect(secret.hasPrefix("umk_key_") && secret.utf8.count == 8 + 44 + 36)
    let auth = try await f.h.directory.authenticateAPIKey(created.secret)
    #expect(auth.user.id == f.grace.id && auth.key.id == created.key.id)
    #expect(try await f.h.directory.isAllowed(auth, to: .view, on: dashboard))
    // The user may edit, the key may not.
    #expect(try await f.h.directory.isAllowed(f.grace.id, to: .edit, on: dashboard))
    let edit = try await f.h.directory.explain(auth, to: .edit, on: dashboard)
    #expect(!edit.isAllowed && edit.reason == .outsideAPIKeyScopes)
    // A key scoped to everything still cannot do what the user may not.
    let wide = try await f.h.directory.createAPIKey(
      for: f.grace.id, name: "wide", scopes: [.everything], by: f.h.asAdmin)
    let wideAuth = try await f.h.directory.authenticateAPIKey(wide.secret)
    #expect(try await f.h.directory.isAllowed(wideAuth, to: .edit, on: dashboard))
    #expect(!(try await f.h.directory.isAllowed(wideAuth, to: .delete, on: dashboard)))
    #expect(
      !(try await f.h.directory.isAllowed(
        wideAuth, to: .view, on: Resource(type: "report", id: "1"))))
  }

  @Test func revokedExpiredAndIneligibleKeysFailLikeAWrongKey() async throws {
    let f = try await Fixture()
    let scopes = [APIKeyScope.everything]
    let revoked = try await f.h.directory.createAPIKey(
      for: f.grace.id, name: "old", scopes: scopes, proof: .password(Harness.password),
      by: .user(f.grace.id))
    let auth = try await f.h.directory.authenticateAPIKey(revoked.secret)
    _ = try await f.h.directory.revokeAPIKey(revoked.key.id, of: f.grace.id, by: .user(f.grace.id))
    await expectError(.invalidCredentials) {
      _ = try await f.h.directory.authenticateAPIKey(revoked.secret)
    }
    // A request already authenticated loses its rights at once.
    #expect(
      try await f.h.directory.explain(auth, to: .view, on: dashboard).reason == .apiKeyUnusable)

    let expiring = try await f.h.directory.createAPIKey(
      for: f.grace.id, name: "temp", scopes: scopes,
      expiresAt: f.h.clock.now.addingTimeInterval(60), by: f.h.asAdmin)
    _ = try await f.h.directory.authenticateAPIKey(expiring.secret)
    f.h.clock.advance(by: 61)
    await expectError(.invalidCredentials) {
      _ = try await f.h.directory.authenticateAPIKey(expiring.secret)
    }

    let live = try await f.h.directory.createAPIKey(
      for: f.grace.id, name: "live", scopes: scopes, by: f.h.asAdmin)
    _ = try await f.h.directory.setAPIAccess(false, of: f.grace.id, by: f.h.asAdmin)
    await expectError(.invalidCredentials) {
      _ = try await f.h.directory.authenticateAPIKey(live.secret)
    }
    _ = try await f.h.directory.setAPIAccess(true, of: f.grace.id, by: f.h.asAdmin)
    let fresh = try await f.h.directory.createAPIKey(
      for: f.grace.id, name: "fresh", scopes: scopes, by: f.h.asAdmin)
    _ = try await f.h.directory.authenticateAPIKey(fresh.secret)
    _ = try await f.h.directory.setStatus(.inactive, of: f.grace.id, by: f.h.asAdmin)
    await expectError(.invalidCredentials) {
      _ = try await f.h.directory.authenticateAPIKey(fresh.secret)
    }
    // A key of one user presented with another user's id in it fails its checksum.
    var bytes = Array(live.secret.revealForDisplay().utf8)
    bytes[9] = bytes[9] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
    await expectError(.invalidCredentials) {
      _ = try await f.h.directory.authenticateAPIKey(Secret(bytes: bytes))
    }
  }

  @Test func onlyTheUserOrAnAdminManagesKeysAndOnlyWithAPIAccess() async throws {
    let f = try await Fixture(apiAccess: false)
    await expectError(.apiAccessDisabled) {
      _ = try await f.h.directory.createAPIKey(
        for: f.grace.id, name: "k", scopes: [.everything], proof: .password(Harness.password),
        by: .user(f.grace.id))
    }
    _ = try await f.h.directory.setAPIAccess(true, of: f.grace.id, by: f.h.asAdmin)
    let other = try await f.h.add("other@example.com", apiAccess: true)
    await expectError(.notAuthorized) {
      _ = try await f.h.directory.createAPIKey(
        for: f.grace.id, name: "k", scopes: [.everything], by: .user(other.id))
    }
    await expectError(.notAuthorized) {
      _ = try await f.h.directory.apiKeys(of: f.grace.id, by: .user(other.id))
    }
    await expectError(.invalidField) {
      _ = try await f.h.directory.createAPIKey(
        for: f.grace.id, name: "k", scopes: [], proof: .password(Harness.password),
        by: .user(f.grace.id))
    }
    await expectError(.invalidField) {
      _ = try await f.h.directory.createAPIKey(
        for: f.grace.id, name: "k", scopes: [APIKeyScope(resourceType: "a b", actions: [.view])],
        proof: .password(Harness.password), by: .user(f.grace.id))
    }
    await expectError(.invalidField) {
      _ = try await f.h.directory.createAPIKey(
        for: f.grace.id, name: "k", scopes: [.everything],
        expiresAt: f.h.clock.now.addingTimeInterval(-1), proof: .password(Harness.password),
        by: .user(f.grace.id))
    }
    for index in 0..<10 {
      _ = try await f.h.directory.createAPIKey(
        for: f.grace.id, name: "k\(index)", scopes: [.everything],
        proof: .password(Harness.password), by: .user(f.grace.id))
    }
    await expectError(.invalidOperation) {
      _ = try await f.h.directory.createAPIKey(
        for: f.grace.id, name: "eleventh", scopes: [.everything],
        proof: .password(Harness.password), by: .user(f.grace.id))
    }
    let keys = try await f.h.directory.apiKeys(of: f.grace.id, by: .user(f.grace.id))
    _ = try await f.h.directory.revokeAPIKey(keys[0].id, of: f.grace.id, by: f.h.asAdmin)
    _ = try await f.h.directory.createAPIKey(
      for: f.grace.id, name: "rotated", scopes: [.everything], proof: .password(Harness.password),
      by: .user(f.grace.id))
    let events = try await f.h.allEvents()
    #expect(events.filter { $0.action == .apiKeyCreated }.count == 11)
    #expect(events.filter { $0.action == .apiKeyRevoked }.count == 1)
  }

  @Test func lastUseIsWrittenAtMostOncePerResolution() async throws {
    let f = try await Fixture()
    let created = try await f.h.directory.createAPIKey(
      for: f.grace.id, name: "k", scopes: [.everything], proof: .password(Harness.password),
      by: .user(f.grace.id))
    let version = try await f.h.directory.user(f.grace.id, by: f.h.asAdmin).version
    let first = try await f.h.directory.authenticateAPIKey(created.secret)
    #expect(first.key.lastUsedAt == f.h.clock.now)
    for _ in 0..<20 { _ = try await f.h.directory.authenticateAPIKey(created.secret) }
    #expect(try await f.h.directory.user(f.grace.id, by: f.h.asAdmin).version == version + 1)
    f.h.clock.advance(by: 301)
    _ = try await f.h.directory.authenticateAPIKey(created.secret)
    let keys = try await f.h.directory.apiKeys(of: f.grace.id, by: f.h.asAdmin)
    #expect(keys[0].lastUsedAt == f.h.clock.now)
  }
}

@Suite("Account-security secrets are never shown")
struct AccountSecurityRedactionTests {
  @Test func noSecretReachesADescriptionADumpOrAnError() async throws {
    let h = try await Harness()
    let grace = try await h.add("grace@example.com", apiAccess: true)
    let enrollment = try await h.directory.enrollSecondFactor(
      for: grace.id, password: Harness.password, by: .user(grace.id))
    let codes = try await h.directory.confirmSecondFactor(
      for: grace.id, code: try authenticatorCode(enrollment.secret, at: h.clock.now),
      by: .user(grace.id))
    let key = try await h.directory.createAPIKey(
      for: grace.id, name: "k", scopes: [.everything], proof: .secondFactor(.recovery(codes[9])),
      by: .user(grace.id))
    let reset = try #require(try await h.directory.passwordResetToken(for: "grace@example.com"))
    h.clock.advance(by: 30)
    let challenge = try await h.challenge("grace@example.com")
    let record = try #require(await h.store.user(id: grace.id))
    let secrets =
      [enrollment.secret, key.secret, reset, challenge.token] + codes
    var texts: [String] = [
      "\(enrollment)", "\(key)", "\(challenge)", "\(record)", "\(record.security)",
      String(reflecting: record), "\(h.store)",
    ]
    var dumped = ""
    dump(record, to: &dumped)
    dump(enrollment, to: &dumped)
    dump(key, to: &dumped)
    texts.append(dumped)
    texts.append(contentsOf: try await h.allEvents().map { "\($0)" })
    for secret in secrets {
      let text = secret.revealForDisplay()
      let core = String(text.suffix(16))
      for shown in texts {
        #expect(!shown.contains(core), "a secret appears in: \(shown.prefix(200))")
      }
    }
    // The stored authenticator secret is never shown by a description or a dump either.
    let stored = try #require(record.security.secondFactor?.secret.encoded)
    let payload = String(stored.dropFirst("$umk-plain$".count))
    for shown in texts { #expect(!shown.contains(payload)) }
    // The base32 secret in the record is sealed or plain, never shown by description.
    let sealedDescription = record.security.secondFactor.map { "\($0.secret)" } ?? ""
    #expect(sealedDescription == "SealedSecret(plain)")
    let sealedKey = try SecretKey(id: "k1", bytes: [UInt8](repeating: 3, count: 32))
    #expect("\(sealedKey)" == "SecretKey(k1, <redacted>)")
  }
}
