import Foundation
import Testing

/// `login`, `passwd`, `api …`, and that no secret reaches the audit trail.
@Suite("Credentials")
struct CredentialTests {
  /// Sign-in (any case), a password change, and a wrong current password.
  @Test func signInAndChangePassword() throws {
    try UMK.withStore { umk in
      let valid = try umk(
        "login", "ADA@example.com", "--password-stdin", "--json", stdin: UMK.adaPassword + "\n")
      #expect(valid.status == 0, "\(valid)")
      let login = try valid.output(LoginDocument.self)
      #expect(login.user.username == "ada@example.com")
      #expect(!login.mustChangePassword)
      #expect(!login.rehashed)
      let changed = try umk(
        "passwd", "ada@example.com", "--password-stdin",
        stdin: UMK.adaPassword + "\nthe difference engine 1822\n")
      #expect(changed.status == 0, "\(changed)")
      let again = try umk(
        "login", "ada@example.com", "--password-stdin", stdin: "the difference engine 1822")
      #expect(again.status == 0, "\(again)")
      #expect(again.stdout == "Signed in: ada@example.com\n")
    }
  }

  /// A generated API password works for `api login`, not for `login`, and stops working when
  /// access is disabled; no secret reaches the audit trail.
  @Test func apiAccessAndNoSecretInTheAuditTrail() throws {
    try UMK.withStore { umk in
      let enabled = try umk(["api", "enable", "ada@example.com", "--json"] + UMK.asAda)
      #expect(try enabled.output(UserDocument.self).user.apiAccess)
      let token = try umk(
        ["api", "password", "ada@example.com", "--generate", "--json"] + UMK.asAda)
      let document = try token.output(UserDocument.self)
      let secret = try #require(document.generatedAPIPassword)
      #expect(secret.hasPrefix("umk_"))
      #expect(document.generatedPassword == nil)
      #expect(document.user.hasAPIPassword)
      let apiLogin = try umk(
        "api", "login", "ada@example.com", "--password-stdin", "--json", stdin: secret)
      #expect(apiLogin.status == 0, "\(apiLogin)")
      #expect(try apiLogin.output(UserDocument.self).user.username == "ada@example.com")
      let loginWithToken = try umk("login", "ada@example.com", "--password-stdin", stdin: secret)
      #expect(loginWithToken.status == 1)
      let disabled = try umk(["api", "disable", "ada@example.com", "--json"] + UMK.asAda)
      #expect(try !disabled.output(UserDocument.self).user.hasAPIPassword)
      let refused = try umk(
        "api", "login", "ada@example.com", "--password-stdin", "--json", stdin: secret)
      #expect(refused.status == 1, "\(refused)")

      let audit = try umk(["audit", "--json", "--limit", "1000"] + UMK.asAda)
      #expect(audit.status == 0)
      for leaked in [UMK.adaPassword, secret, "$argon2id$"] {
        #expect(!audit.stdout.contains(leaked))
      }
    }
  }
}
