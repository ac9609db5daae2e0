import Foundation
import Testing
import UMKCrypto

/// `2fa …`, two-step `login`, `password reset-token`/`reset`, `user verify-email …` and
/// `api-key …`, and that none of their secrets reaches the audit trail.
@Suite("Account security")
struct AccountSecurityTests {
  /// `--as grace@example.com`.
  static let asGrace = ["--as", "grace@example.com"]

  /// The code an authenticator app shows for a base32 secret, `offset` seconds from now.
  ///
  /// - Parameters:
  ///   - secret: The secret `2fa enroll` printed.
  ///   - offset: Seconds from now.
  /// - Returns: Six digits.
  /// - Throws: When the secret is not base32.
  static func code(_ secret: String, offset: TimeInterval = 0) throws -> String {
    let key = try #require(Base32.decode(secret))
    let code = try OneTimePassword.timeBasedCode(
      key: key, at: Int64(Date().addingTimeInterval(offset).timeIntervalSince1970))
    return OneTimePassword.formatted(code, digits: 6)
  }

  /// Enrols and confirms grace's authenticator.
  ///
  /// - Parameter umk: The store.
  /// - Returns: The secret and the recovery codes.
  /// - Throws: When a step fails.
  static func enrollGrace(_ umk: UMK) throws -> (secret: String, recoveryCodes: [String]) {
    let enrolled = try umk(
      ["2fa", "enroll", "--password-stdin", "--json"] + asGrace, stdin: UMK.gracePassword)
    try #require(enrolled.status == 0, "\(enrolled)")
    let enrollment = try enrolled.output(EnrollmentDocument.self)
    #expect(enrollment.uri.hasPrefix("otpauth://totp/"))
    #expect(enrollment.uri.contains("secret=\(enrollment.secret)"))
    #expect(enrollment.algorithm == "SHA1" && enrollment.digits == 6 && enrollment.period == 30)
    let confirmed = try umk(
      ["2fa", "confirm", "--code-stdin", "--json"] + asGrace,
      stdin: try code(enrollment.secret) + "\n")
    try #require(confirmed.status == 0, "\(confirmed)")
    let codes = try confirmed.output(RecoveryCodesDocument.self).recoveryCodes
    #expect(codes.count == 10)
    #expect(Set(codes).count == 10)
    return (enrollment.secret, codes)
  }

  /// No secret appears in `audit` output, text or JSON.
  ///
  /// - Parameters:
  ///   - umk: The store.
  ///   - secrets: What must not appear.
  ///   - sourceLocation: Where to report a leak.
  /// - Throws: When `audit` cannot be run.
  static func expectNoSecretInTheAuditTrail(
    _ umk: UMK, _ secrets: [String], sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    for format in [["--json"], []] {
      let audit = try umk(["audit", "--limit", "1000"] + format + UMK.asAda)
      #expect(audit.status == 0, "\(audit)", sourceLocation: sourceLocation)
      for secret in secrets + [UMK.adaPassword, UMK.gracePassword, "umk_2fa_", "$argon2id$"] {
        #expect(!audit.stdout.contains(secret), "\(secret)", sourceLocation: sourceLocation)
      }
    }
  }

  /// Enrol, confirm, sign in with a code (never the same code twice) and with a recovery code
  /// (once), replace the codes, remove the factor.
  @Test func twoFactorSignIn() throws {
    try UMK.withStore([.grace]) { umk in
      let (secret, recoveryCodes) = try Self.enrollGrace(umk)
      let login = ["login", "grace@example.com", "--password-stdin", "--json"]

      // The password alone no longer signs in (off a terminal, without a code flag).
      let passwordOnly = try umk(login, stdin: UMK.gracePassword)
      #expect(passwordOnly.status == 1, "\(passwordOnly)")
      #expect(try passwordOnly.error().code == "second_factor_required")
      #expect(passwordOnly.stdout.isEmpty)

      // The confirmation used the current step's code, so sign in with the next step's (one
      // step of clock skew is accepted).
      let code = try Self.code(secret, offset: 30)
      let signedIn = try umk(
        login + ["--code-stdin"], stdin: UMK.gracePassword + "\n" + code + "\n")
      #expect(signedIn.status == 0, "\(signedIn)")
      let document = try signedIn.output(LoginDocument.self)
      #expect(document.user.username == "grace@example.com")
      #expect(document.secondFactor == "authenticator")
      #expect(!document.mustEnrollSecondFactor)
      let reused = try umk(login + ["--code-stdin"], stdin: UMK.gracePassword + "\n" + code)
      #expect(reused.status == 1, "\(reused)")
      #expect(try reused.error().code == "invalid_credentials")
      let wrongPassword = try umk(login + ["--code-stdin"], stdin: "not her password\n" + code)
      #expect(try wrongPassword.error().code == "invalid_credentials")

      // A recovery code works once, in any case.
      let recovery = try umk(
        ["login", "grace@example.com", "--password-stdin", "--recovery-code-stdin"],
        stdin: UMK.gracePassword + "\n" + recoveryCodes[0].uppercased())
      #expect(recovery.status == 0, "\(recovery)")
      #expect(
        recovery.stdout.hasPrefix(
          "Signed in: grace@example.com (with a recovery code; 9 left)\n"), "\(recovery)")
      let again = try umk(
        login + ["--recovery-code-stdin"], stdin: UMK.gracePassword + "\n" + recoveryCodes[0])
      #expect(try again.error().code == "invalid_credentials", "\(again)")
      let status = try umk(["2fa", "recovery-codes", "status", "--json"] + Self.asGrace)
      #expect(try status.output(SecondFactorStatusDocument.self).remainingRecoveryCodes == 9)
      let asAdmin = try umk(
        ["2fa", "recovery-codes", "status", "grace@example.com", "--json"] + UMK.asAda)
      #expect(try asAdmin.output(SecondFactorStatusDocument.self).secondFactor)

      // New codes replace the old ones; one of them then proves it is her, to remove the
      // factor.
      // Her password alone is refused; a recovery code does it.
      let byPassword = try umk(
        ["2fa", "recovery-codes", "regenerate", "--password-stdin", "--json"] + Self.asGrace,
        stdin: UMK.gracePassword)
      #expect(try byPassword.error().code == "second_factor_required", "\(byPassword)")
      let regenerated = try umk(
        ["2fa", "recovery-codes", "regenerate", "--recovery-code-stdin", "--json"] + Self.asGrace,
        stdin: recoveryCodes[7])
      #expect(regenerated.status == 0, "\(regenerated)")
      let fresh = try regenerated.output(RecoveryCodesDocument.self).recoveryCodes
      #expect(fresh.count == 10 && Set(fresh).isDisjoint(with: recoveryCodes))
      let old = try umk(
        login + ["--recovery-code-stdin"], stdin: UMK.gracePassword + "\n" + recoveryCodes[1])
      #expect(try old.error().code == "invalid_credentials", "\(old)")
      // Her password changes only with a code as well.
      let changed = "a different long passphrase 42"
      let passwd = ["passwd", "grace@example.com", "--password-stdin", "--json"]
      let passwordOnlyChange = try umk(passwd, stdin: UMK.gracePassword + "\n" + changed)
      #expect(try passwordOnlyChange.error().code == "second_factor_required")
      let withCode = try umk(
        passwd + ["--recovery-code-stdin"],
        stdin: UMK.gracePassword + "\n" + changed + "\n" + fresh[1])
      #expect(withCode.status == 0, "\(withCode)")
      let back = try umk(
        passwd + ["--recovery-code-stdin"],
        stdin: changed + "\n" + UMK.gracePassword + "\n" + fresh[2])
      #expect(back.status == 0, "\(back)")
      let removed = try umk(
        ["2fa", "remove", "--recovery-code-stdin"] + Self.asGrace, stdin: fresh[0])
      #expect(removed.status == 0, "\(removed)")
      #expect(removed.stdout.hasPrefix("Removed the second factor of grace@example.com\n"))
      let plain = try umk(login, stdin: UMK.gracePassword)
      #expect(plain.status == 0, "\(plain)")
      #expect(try plain.output(LoginDocument.self).secondFactor == nil)

      try Self.expectNoSecretInTheAuditTrail(umk, [secret] + recoveryCodes + fresh)
    }
  }

  /// An administrator resets a lost factor; the user then signs in with the password alone.
  @Test func anAdministratorResetsALostFactor() throws {
    try UMK.withStore([.grace]) { umk in
      let (secret, codes) = try Self.enrollGrace(umk)
      let byGrace = try umk(["2fa", "reset", "ada@example.com", "--json"] + Self.asGrace)
      #expect(try byGrace.error().code == "not_authorized", "\(byGrace)")
      let reset = try umk(["2fa", "reset", "grace@example.com", "--json"] + UMK.asAda)
      #expect(reset.status == 0, "\(reset)")
      #expect(try reset.output(UserDocument.self).user.username == "grace@example.com")
      let show = try umk(["user", "show", "grace@example.com"] + UMK.asAda)
      #expect(show.stdout.contains("  second factor: off\n"), "\(show)")
      let login = try umk(
        "login", "grace@example.com", "--password-stdin", stdin: UMK.gracePassword)
      #expect(login.status == 0, "\(login)")
      #expect(login.stdout.hasPrefix("Signed in: grace@example.com\n"), "\(login)")
      try Self.expectNoSecretInTheAuditTrail(umk, [secret] + codes)
    }
  }

  /// A reset token sets a new password once; a verification token verifies the address once.
  @Test func resetAndVerificationTokens() throws {
    try UMK.withStore([.grace]) { umk in
      let issued = try umk(["password", "reset-token", "grace@example.com", "--json"] + UMK.asAda)
      #expect(issued.status == 0, "\(issued)")
      let token = try issued.output(TokenDocument.self).token
      #expect(token.hasPrefix("umk_reset_"))
      let newPassword = "a new passphrase for 2026 rain"
      let reset = try umk(
        ["password", "reset", "--token-stdin", "--json"], stdin: token + "\n" + newPassword)
      #expect(reset.status == 0, "\(reset)")
      #expect(try reset.output(UserDocument.self).user.username == "grace@example.com")
      let login = try umk("login", "grace@example.com", "--password-stdin", stdin: newPassword)
      #expect(login.status == 0, "\(login)")
      let reused = try umk(
        ["password", "reset", "--token-stdin", "--json"], stdin: token + "\nyet another one 2027")
      #expect(reused.status == 1, "\(reused)")
      #expect(try reused.error().code == "invalid_token")

      let text = try umk(["user", "verify-email", "issue", "grace@example.com"] + Self.asGrace)
      #expect(text.status == 0, "\(text)")
      let lines = text.stdout.split(separator: "\n")
      let verification = try #require(lines.first { $0.hasPrefix("umk_verify_") })
      let verified = try umk(
        ["user", "verify-email", "confirm", "--token-stdin"], stdin: String(verification))
      #expect(verified.status == 0, "\(verified)")
      #expect(verified.stdout.hasPrefix("Verified the e-mail address of grace@example.com\n"))
      let show = try umk(["user", "show", "grace@example.com"] + UMK.asAda)
      #expect(show.stdout.contains("  e-mail: verified\n"), "\(show)")
      let twice = try umk(
        ["user", "verify-email", "confirm", "--token-stdin", "--json"],
        stdin: String(verification))
      #expect(try twice.error().code == "invalid_token", "\(twice)")

      try Self.expectNoSecretInTheAuditTrail(umk, [token, String(verification), newPassword])
    }
  }

  /// With `UMK_SECRET_KEY` set, the authenticator secret is sealed under it: no file of the
  /// store holds it unsealed, and a run without the key cannot use it (exit 74).
  @Test func theKeyInTheEnvironmentSealsAuthenticatorSecrets() throws {
    try UMK.withStore([.grace]) { umk in
      let material = Data([UInt8](repeating: 3, count: 32)).base64EncodedString()
      let key = ["UMK_SECRET_KEY": "cli-test:" + material]
      let enrolled = try umk.run(
        ["2fa", "enroll", "--password-stdin", "--json"] + Self.asGrace,
        stdin: UMK.gracePassword, store: umk.store, environment: key)
      try #require(enrolled.status == 0, "\(enrolled)")
      let secret = try enrolled.output(EnrollmentDocument.self).secret
      let confirmed = try umk.run(
        ["2fa", "confirm", "--code-stdin", "--json"] + Self.asGrace,
        stdin: try Self.code(secret) + "\n", store: umk.store, environment: key)
      try #require(confirmed.status == 0, "\(confirmed)")

      var files = Data()
      for name in try FileManager.default.contentsOfDirectory(atPath: umk.store) {
        files += try Data(contentsOf: URL(fileURLWithPath: umk.store + "/" + name))
      }
      #expect(files.range(of: Data("umk-sealed-chacha20poly1305$cli-test$".utf8)) != nil)
      #expect(files.range(of: Data("$umk-plain$".utf8)) == nil)

      let withKey = try umk.run(
        ["login", "grace@example.com", "--password-stdin", "--code-stdin", "--json"],
        stdin: UMK.gracePassword + "\n" + (try Self.code(secret, offset: 30)) + "\n",
        store: umk.store, environment: key)
      #expect(withKey.status == 0, "\(withKey)")
      let withoutKey = try umk(
        ["login", "grace@example.com", "--password-stdin", "--code-stdin", "--json"],
        stdin: UMK.gracePassword + "\n" + (try Self.code(secret, offset: 60)) + "\n")
      #expect(withoutKey.status == 74, "\(withoutKey)")
      #expect(try withoutKey.error().code == "encryption_key_unavailable")

      // A malformed key is a usage error that never shows the key.
      let malformed = try umk.run(
        ["user", "show", "grace@example.com", "--json"] + UMK.asAda, store: umk.store,
        environment: ["UMK_SECRET_KEY": material])
      #expect(malformed.status == 64, "\(malformed)")
      #expect(!malformed.stderr.contains(material.prefix(16)))
    }
  }

  /// At most one reset token a minute: a second request says so, not that the account is
  /// inactive; an inactive account is refused as such.
  @Test func aSecondResetTokenWithinAMinuteIsRefusedAsTooSoon() throws {
    try UMK.withStore([.grace]) { umk in
      let first = try umk(["password", "reset-token", "grace@example.com", "--json"] + UMK.asAda)
      #expect(first.status == 0, "\(first)")
      let second = try umk(["password", "reset-token", "grace@example.com", "--json"] + UMK.asAda)
      #expect(second.status == 1, "\(second)")
      #expect(try second.error().code == "invalid_operation", "\(second)")
      #expect(second.stderr.contains("less than a minute ago"), "\(second)")
      // The first token still works: the refused request wrote nothing.
      let reset = try umk(
        ["password", "reset", "--token-stdin", "--json"],
        stdin: try first.output(TokenDocument.self).token + "\na new passphrase for 2026 rain")
      #expect(reset.status == 0, "\(reset)")

      let deactivated = try umk(["user", "deactivate", "grace@example.com"] + UMK.asAda)
      #expect(deactivated.status == 0, "\(deactivated)")
      let inactive = try umk(
        ["password", "reset-token", "grace@example.com", "--json"] + UMK.asAda)
      #expect(inactive.status == 1, "\(inactive)")
      #expect(try inactive.error().code == "account_inactive", "\(inactive)")
    }
  }

  /// A key's scope narrows what its user may do; list never shows the secret; a revoked key
  /// stops working.
  @Test func apiKeys() throws {
    try UMK.withStore([.policies, .grace]) { umk in
      let policies = try umk(
        ["user", "set-policies", "grace@example.com", "Viewers", "Editors"] + UMK.asAda)
      #expect(policies.status == 0, "\(policies)")
      // A key of her own takes her password (a session alone cannot mint one).
      let noProof = try umk(
        ["api-key", "create", "grace@example.com", "--name", "CI", "--scope", "*:*", "--json"]
          + Self.asGrace)
      #expect(try noProof.error().code == "invalid_credentials", "\(noProof)")
      let noAccess = try umk(
        [
          "api-key", "create", "grace@example.com", "--name", "CI", "--scope", "*:*",
          "--password-stdin", "--json",
        ] + Self.asGrace, stdin: UMK.gracePassword)
      #expect(try noAccess.error().code == "api_access_disabled", "\(noAccess)")
      #expect(try umk(["api", "enable", "grace@example.com"] + UMK.asAda).status == 0)

      let created = try umk(
        [
          "api-key", "create", "grace@example.com", "--name", "Dashboards", "--scope",
          "dashboard:view", "--expires-in", "3600", "--password-stdin", "--json",
        ] + Self.asGrace, stdin: UMK.gracePassword)
      #expect(created.status == 0, "\(created)")
      let document = try created.output(APIKeyDocument.self)
      let secret = try #require(document.secret)
      #expect(secret.hasPrefix("umk_key_"))
      #expect(document.key.scopes == ["dashboard:view"])
      #expect(document.key.expiresAt != nil && document.key.revokedAt == nil)

      // The user may edit tasks of project 7 (Editors), the key only view dashboards.
      let view = try umk(
        ["api-key", "check", "--key-stdin", "view", "dashboard", "sales", "--json"],
        stdin: secret)
      #expect(view.status == 0, "\(view)")
      let allowed = try view.output(APIKeyDecisionDocument.self)
      #expect(allowed.decision.allowed && allowed.decision.reason == "policy")
      #expect(allowed.key.id == document.key.id)
      let user = try umk("authorize", "grace@example.com", "edit", "task", "t-1", "--parent", "7")
      #expect(user.status == 0, "\(user)")
      let edit = try umk(
        ["api-key", "check", "--key-stdin", "edit", "task", "t-1", "--parent", "7"], stdin: secret)
      #expect(edit.status == 1, "\(edit)")
      #expect(edit.stdout == "denied: no scope of the API key covers it [outside_api_key_scopes]\n")

      let list = try umk(["api-key", "list", "grace@example.com", "--json"] + UMK.asAda)
      #expect(list.status == 0, "\(list)")
      #expect(!list.stdout.contains(secret))
      #expect(try list.output(APIKeyListKeys.self).keys.map(\.keys) == [APIKeyJSON.keys])
      let listed = try #require(try list.output(APIKeyListDocument.self).keys.first)
      #expect(listed.name == "Dashboards" && listed.lastUsedAt != nil)
      let textList = try umk(["api-key", "list", "grace@example.com"] + UMK.asAda)
      #expect(textList.stdout.contains("  scopes: dashboard:view\n"), "\(textList)")
      #expect(!textList.stdout.contains(secret))

      let revoked = try umk(
        ["api-key", "revoke", "grace@example.com", document.key.id, "--json"] + UMK.asAda)
      #expect(revoked.status == 0, "\(revoked)")
      #expect(try revoked.output(APIKeyDocument.self).key.revokedAt != nil)
      let refused = try umk(
        ["api-key", "check", "--key-stdin", "view", "dashboard", "sales", "--json"],
        stdin: secret)
      #expect(refused.status == 1, "\(refused)")
      #expect(try refused.error().code == "invalid_credentials")

      try Self.expectNoSecretInTheAuditTrail(umk, [secret, String(secret.dropFirst(8))])
    }
  }
}
