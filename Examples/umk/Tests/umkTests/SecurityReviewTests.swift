import Foundation
import Testing

/// `umk`'s side of the security review (issue 10): what reaches a terminal, the process list
/// and the operator's log.
@Suite("Security review")
struct SecurityReviewTests {
  /// A policy description with a line break cannot forge a line of `policy show`, `policy
  /// list` or `audit` text output (item 13).
  @Test func storedTextCannotForgeOutputLines() throws {
    try UMK.withStore { umk in
      let forged = "2026-01-01T00:00:00.000Z user:ada@example.com user.created user:mallory"
      let policy = """
        {"name": "Sneaky", "description": "harmless\\n\(forged)",
         "permissions": [{"resourceType": "doc", "allowed": ["view"], "resourceIds": ["*"]}]}
        """
      let imported = try umk(["policy", "import", "-"] + UMK.asAda, stdin: policy)
      #expect(imported.status == 0, "\(imported)")
      for arguments in [["policy", "show", "Sneaky"], ["policy", "list"], ["audit"]] {
        let run = try umk(arguments + UMK.asAda)
        #expect(run.status == 0, "\(run)")
        let lines = run.stdout.split(separator: "\n")
        #expect(!lines.contains { $0.hasPrefix(forged) }, "\(arguments): \(run.stdout)")
        #expect(run.stdout.contains("harmless\\n2026-01-01"), "\(arguments)")
      }
    }
  }

  /// `hash verify --hash-stdin` keeps the hash out of the process list (item 16).
  @Test func hashVerifyReadsTheHashFromStandardInput() throws {
    let umk = try UMK()
    defer { umk.cleanUp() }
    let valid = try umk.run(
      ["hash", "verify", "--hash-stdin", "--password-stdin"],
      stdin: UMK.djangoHash + "\ncorrect horse battery staple", store: nil)
    #expect(valid.status == 0, "\(valid)")
    let invalid = try umk.run(
      ["hash", "verify", "--hash-stdin", "--password-stdin"],
      stdin: UMK.djangoHash + "\nwrong", store: nil)
    #expect(invalid.status == 1, "\(invalid)")
    let both = try umk.run(
      ["hash", "verify", UMK.djangoHash, "--hash-stdin", "--password-stdin"], stdin: "x",
      store: nil)
    #expect(both.status == 64, "\(both)")
  }

  /// Sign-in outcomes reach standard error, one line each, with the account's id and never
  /// the password or the username typed (item 17).
  @Test func signInsAreLogged() throws {
    try UMK.withStore { umk in
      let success = try umk(
        "login", "ada@example.com", "--password-stdin", stdin: UMK.adaPassword + "\n")
      #expect(success.status == 0, "\(success)")
      #expect(success.stderr.hasPrefix("umk: sign-in password succeeded user="), "\(success)")
      let unknown = try umk(
        "login", "nobody@example.com", "--password-stdin", stdin: "some guess at all")
      #expect(unknown.status == 1)
      #expect(unknown.stderr.contains("umk: sign-in password unknown_account user=unknown"))
      #expect(!unknown.stderr.contains("nobody@"))
      #expect(!unknown.stderr.contains("some guess"))
    }
  }
}
