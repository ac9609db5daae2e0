import Foundation
import Testing

/// `import` and `export`: JSON Lines, all or nothing.
@Suite("Import and export")
struct TransferTests {
  /// Two good lines (and a blank one): one with a Django hash, one admin without.
  static let good = """
    {"username": "old@example.com", "firstName": "Old", "lastName": "Timer", "policies": ["viewers"], "passwordHash": "\(UMK.djangoHash)"}

    {"username": "boss@example.com", "firstName": "Big", "lastName": "Boss", "role": "admin", "status": "inactive", "apiAccess": true}
    """

  /// A dry run changes nothing; an import commits; the old system's password signs in and is
  /// upgraded.
  @Test func dryRunThenImport() throws {
    try UMK.withStore(.policies) { umk in
      let file = umk.root.appendingPathComponent("users.jsonl")
      try Data(Self.good.utf8).write(to: file)
      let dryRun = try umk(["import", file.path, "--dry-run", "--json"] + UMK.asAda)
      #expect(dryRun.status == 0, "\(dryRun)")
      let dry = try dryRun.output(ImportSummary.self)
      #expect(dry.dryRun)
      #expect(!dry.committed)
      #expect(dry.users == 2)
      #expect(dry.passwordHashCount == 1)
      #expect(try umk(["user", "show", "old@example.com"] + UMK.asAda).status == 1)

      let imported = try umk(["import", file.path] + UMK.asAda)
      #expect(imported.status == 0, "\(imported)")
      #expect(imported.stdout.hasPrefix("Imported 2 users (1 with password hashes)"))
      let login = try umk(
        "login", "old@example.com", "--password-stdin", "--json",
        stdin: "correct horse battery staple\n")
      #expect(login.status == 0, "\(login)")
      #expect(try login.output(LoginDocument.self).rehashed)
    }
  }

  /// One problem line of an import, and how it is reported.
  struct Problem: Sendable {
    /// The line.
    let line: String
    /// The error code.
    let code: String
    /// The `reason` of a line that does not decode.
    var reason: String?
  }

  /// Lines 2–9 of a refused import (line 1 is fine).
  static let problems: [Problem] = [
    .init(
      line: #"{"username": "old@example.com", "firstName": "Old", "lastName": "Again"}"#,
      code: "username_taken"),
    .init(line: "not json", code: "invalid_field", reason: "invalid_json"),
    .init(
      line:
        #"{"username": "h@example.com", "firstName": "H", "lastName": "H", "passwordHash": "md5$x$y"}"#,
      code: "unsupported_hash"),
    .init(
      line: #"{"username": "u@example.com", "firstName": "U", "lastName": "U", "colour": "blue"}"#,
      code: "invalid_field", reason: "unknown_field"),
    .init(
      line:
        #"{"username": "p@example.com", "firstName": "P", "lastName": "P", "policies": ["Nope"]}"#,
      code: "policy_not_found"),
    .init(
      line: #"{"username": "r@example.com", "firstName": "R", "lastName": "R", "role": "root"}"#,
      code: "invalid_field", reason: "invalid_value"),
    .init(
      line:
        #"{"username": "a@example.com", "firstName": "A", "lastName": "A", "apiAccess": "yes"}"#,
      code: "invalid_field", reason: "invalid_value"),
    .init(
      line: #"{"username": "m@example.com", "firstName": "M"}"#, code: "invalid_field",
      reason: "missing_field"),
  ]

  /// Every problem is reported with its line number, and nothing is imported: exit 65 when a
  /// line is malformed, 1 when only rules refuse.
  @Test func problemsAreReportedPerLineAndNothingIsImported() throws {
    try UMK.withStore(.policies) { umk in
      try umk(["import", "-"] + UMK.asAda, stdin: Self.good)
      let lines =
        [#"{"username": "new@example.com", "firstName": "New", "lastName": "User"}"#]
        + Self.problems.map(\.line)
      let refused = try umk(
        ["import", "-", "--json"] + UMK.asAda, stdin: lines.joined(separator: "\n"))
      #expect(refused.status == 65, "\(refused)")
      let error = try refused.error()
      #expect(error.code == "import_refused")
      let details = try #require(error.details)
      #expect(details.map(\.line) == Array(2...9).map(Optional.some))
      #expect(details.map(\.code) == Self.problems.map(\.code))
      #expect(details.map { $0.context?["reason"] } == Self.problems.map(\.reason))
      #expect(try umk(["user", "show", "new@example.com"] + UMK.asAda).status == 1)

      let ruleOnly = try umk(
        ["import", "-"] + UMK.asAda, stdin: lines.prefix(2).joined(separator: "\n"))
      #expect(ruleOnly.status == 1, "\(ruleOnly)")
      #expect(ruleOnly.stderr.contains("line 2: username_taken:"))
      #expect(ruleOnly.stderr.hasSuffix("[import_refused]\n"))
    }
  }

  /// Export: JSON Lines, hashes only when asked, `--json` as one document; the output imports
  /// into another store, where the old password still signs in.
  @Test func exportRoundTrips() throws {
    try UMK.withStore(.policies) { umk in
      try umk(["import", "-"] + UMK.asAda, stdin: Self.good)
      try umk(
        "login", "old@example.com", "--password-stdin", stdin: "correct horse battery staple")
      let plain = try umk(["export"] + UMK.asAda)
      #expect(plain.status == 0)
      let plainLines = try plain.stdout.split(separator: "\n").map {
        try JSONDecoder().decode(PortableUserJSON.self, from: Data($0.utf8))
      }
      #expect(
        plainLines.map(\.username) == ["ada@example.com", "boss@example.com", "old@example.com"])
      #expect(plainLines.allSatisfy { $0.passwordHash == nil })
      let withHashes = try umk(["export", "--include-hashes"] + UMK.asAda)
      let hashed = try withHashes.stdout.split(separator: "\n").map {
        try JSONDecoder().decode(PortableUserJSON.self, from: Data($0.utf8))
      }
      #expect(
        hashed.first { $0.username == "old@example.com" }?.passwordHash?.hasPrefix("$argon2id$")
          == true, "rehashed at sign-in")
      let trail = try umk(["audit", "--user", "old@example.com"] + UMK.asAda)
      #expect(
        trail.stdout.components(separatedBy: "user.password_hash_exported").count == 2,
        "one event for the one export with hashes: \(trail.stdout)")
      let again = try umk(["export", "--include-hashes"] + UMK.asAda)
      #expect(again.stdout == withHashes.stdout, "the same store exports the same bytes")
      let document = try umk(["export", "--json"] + UMK.asAda)
      #expect(try document.output(ExportDocument.self).users.count == 3)

      let other = try UMK()
      defer { other.cleanUp() }
      try other(
        "init", "--admin", "root@example.com", "--first", "R", "--last", "R", "--generate-password")
      try other("policy", "import", "-", "--as", "root@example.com", stdin: UMK.policies)
      let lines = withHashes.stdout.split(separator: "\n").filter { !$0.contains("ada@") }
        .joined(separator: "\n")
      let reimported = try other("import", "-", "--as", "root@example.com", stdin: lines)
      #expect(reimported.status == 0, "\(reimported)")
      let login = try other(
        "login", "old@example.com", "--password-stdin", stdin: "correct horse battery staple")
      #expect(login.status == 0, "\(login)")
    }
  }
}
