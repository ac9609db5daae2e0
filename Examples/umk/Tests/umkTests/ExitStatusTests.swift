import Foundation
import Testing

/// One row of the exit-status table: a command line, what it exits with, and the error code
/// it reports with `--json`.
struct ExitCase: Sendable, CustomTestStringConvertible {
  /// The arguments (the store is added).
  let arguments: [String]
  /// Standard input.
  var stdin = ""
  /// The exit status.
  let status: Int32
  /// The error's code on standard error, with `--json`.
  let code: String

  /// The command line.
  var testDescription: String { "umk \(arguments.joined(separator: " ")) → \(status) \(code)" }
}

/// Every exit status, as a table: each row runs against a fresh store holding ada (an
/// administrator), grace (a General User) and the two policies.
@Suite("Exit statuses")
struct ExitStatusTests {
  /// `--as ada@example.com`.
  static let ada = UMK.asAda
  /// `--as grace@example.com`.
  static let grace = ["--as", "grace@example.com"]
  /// `user add x@example.com --first X --last Y`.
  static let addX = ["user", "add", "x@example.com", "--first", "X", "--last", "Y"]

  /// Refused by a rule: exit 1 with the library's code.
  static let refusals: [ExitCase] = [
    .init(
      arguments: ["user", "deactivate", "ada@example.com"] + ada, status: 1,
      code: "self_modification_forbidden"),
    .init(
      arguments: ["user", "set-role", "ada@example.com", "general"] + ada, status: 1,
      code: "self_modification_forbidden"),
    .init(arguments: addX + ["--generate-password"] + grace, status: 1, code: "not_authorized"),
    .init(
      arguments: ["user", "show", "ada@example.com"] + grace, status: 1, code: "not_authorized"),
    .init(arguments: ["user", "list"] + grace, status: 1, code: "not_authorized"),
    .init(arguments: ["audit"] + grace, status: 1, code: "not_authorized"),
    .init(arguments: ["export"] + grace, status: 1, code: "not_authorized"),
    .init(arguments: ["hash", "census"] + grace, status: 1, code: "not_authorized"),
    .init(
      arguments: ["user", "edit", "grace@example.com", "--generate-password"] + grace, status: 1,
      code: "not_authorized"),
    .init(
      arguments: ["user", "show", "ada@example.com", "--as", "nobody@example.com"], status: 1,
      code: "not_authorized"),
    .init(
      arguments: addX + ["--generate-password", "--policy", "Nope"] + ada, status: 1,
      code: "policy_not_found"),
    .init(
      arguments: [
        "user", "add", "GRACE@EXAMPLE.COM", "--first", "G", "--last", "H", "--generate-password",
      ] + ada, status: 1, code: "username_taken"),
    .init(
      arguments: [
        "user", "add", "not an address", "--first", "G", "--last", "H", "--generate-password",
      ] + ada, status: 1, code: "invalid_username"),
    .init(
      arguments: addX + ["--password-stdin"] + ada, stdin: "password\n", status: 1,
      code: "weak_password"),
    .init(
      arguments: ["user", "show", "nobody@example.com"] + ada, status: 1, code: "user_not_found"),
    .init(
      arguments: [
        "init", "--admin", "eve@example.com", "--first", "Eve", "--last", "E",
        "--generate-password",
      ], status: 1, code: "already_bootstrapped"),
    .init(
      arguments: ["login", "ada@example.com", "--password-stdin"], stdin: "wrong\n", status: 1,
      code: "invalid_credentials"),
    .init(
      arguments: ["login", "nobody@example.com", "--password-stdin"], stdin: "x", status: 1,
      code: "invalid_credentials"),
    .init(
      arguments: ["passwd", "ada@example.com", "--password-stdin"],
      stdin: "nope\nanother fine passphrase\n", status: 1, code: "invalid_credentials"),
    .init(
      arguments: ["api", "login", "ada@example.com", "--password-stdin"], stdin: "umk_nope",
      status: 1, code: "invalid_credentials"),
    .init(
      arguments: ["password", "reset", "--token-stdin"],
      stdin: "umk_reset_nope\nanother fine passphrase", status: 1, code: "invalid_token"),
    .init(
      arguments: ["user", "verify-email", "confirm", "--token-stdin"], stdin: "umk_verify_nope",
      status: 1, code: "invalid_token"),
    .init(
      arguments: ["password", "reset-token", "ada@example.com"] + grace, status: 1,
      code: "not_authorized"),
    .init(
      arguments: ["2fa", "confirm", "--code-stdin"] + grace, stdin: "123456", status: 1,
      code: "invalid_operation"),
    .init(
      arguments: ["2fa", "remove", "--password-stdin"] + grace, stdin: UMK.gracePassword,
      status: 1, code: "invalid_operation"),
    .init(
      arguments: ["2fa", "reset", "ada@example.com"] + grace, status: 1, code: "not_authorized"),
    .init(
      arguments: ["api-key", "create", "ada@example.com", "--name", "CI", "--scope", "*:*"] + ada,
      status: 1, code: "invalid_credentials"),
    .init(
      arguments: [
        "api-key", "create", "ada@example.com", "--name", "CI", "--scope", "*:*",
        "--password-stdin",
      ] + ada, stdin: UMK.adaPassword, status: 1, code: "api_access_disabled"),
    .init(
      arguments: ["api-key", "list", "ada@example.com"] + grace, status: 1,
      code: "not_authorized"),
    .init(
      arguments: ["api-key", "check", "--key-stdin", "view", "dashboard", "sales"],
      stdin: "umk_key_nope", status: 1, code: "invalid_credentials"),
  ]

  /// Wrong command lines: exit 64.
  static let usageErrors: [ExitCase] = [
    .init(arguments: addX + ["--generate-password"], status: 64, code: "usage"),
    .init(arguments: ["user", "frobnicate"], status: 64, code: "usage"),
    .init(arguments: addX + ["--password", "hunter2"] + ada, status: 64, code: "usage"),
    .init(arguments: addX + ada, status: 64, code: "usage"),
    .init(
      arguments: addX + ["--password-stdin", "--generate-password"] + ada, status: 64,
      code: "usage"),
    .init(
      arguments: addX + ["--admin", "--policy", "Viewers", "--generate-password"] + ada,
      status: 64, code: "usage"),
    .init(arguments: ["user", "list", "--status", "sleeping"] + ada, status: 64, code: "usage"),
    .init(
      arguments: ["user", "list", "--after", "not-a-cursor"] + ada, status: 64,
      code: "invalid_cursor"),
    .init(arguments: ["user", "list", "--limit", "0"] + ada, status: 64, code: "usage"),
    .init(arguments: ["audit", "--limit", "20000"] + ada, status: 64, code: "usage"),
    .init(arguments: ["audit", "--since", "yesterday"] + ada, status: 64, code: "usage"),
    .init(arguments: ["login", "ada@example.com"], status: 64, code: "usage"),
    .init(arguments: ["api", "password", "ada@example.com"] + ada, status: 64, code: "usage"),
    .init(arguments: ["user", "edit", "ada@example.com"] + ada, status: 64, code: "usage"),
    .init(
      arguments: [
        "login", "ada@example.com", "--password-stdin", "--code-stdin",
        "--recovery-code-stdin",
      ], status: 64, code: "usage"),
    .init(arguments: ["2fa", "confirm"] + ada, status: 64, code: "usage"),
    .init(arguments: ["2fa", "remove"] + ada, status: 64, code: "usage"),
    .init(
      arguments: ["2fa", "remove", "--password-stdin", "--code-stdin"] + ada, status: 64,
      code: "usage"),
    .init(arguments: ["password", "reset"], status: 64, code: "usage"),
    .init(
      arguments: ["api-key", "create", "ada@example.com", "--name", "CI", "--scope", "dashboard"]
        + ada, status: 64, code: "usage"),
    .init(
      arguments: ["api-key", "create", "ada@example.com", "--name", "CI"] + ada, status: 64,
      code: "usage"),
    .init(
      arguments: [
        "api-key", "create", "ada@example.com", "--name", "CI", "--scope", "*:*", "--expires-in",
        "60", "--expires-at", "2030-01-01",
      ] + ada, status: 64, code: "usage"),
    .init(
      arguments: ["api-key", "revoke", "ada@example.com", "not-a-uuid"] + ada, status: 64,
      code: "usage"),
    .init(arguments: ["api-key", "check", "view", "dashboard", "x"], status: 64, code: "usage"),
  ]

  /// Malformed input: exit 65.
  static let malformedInput: [ExitCase] = [
    .init(
      arguments: ["policy", "import", "-"] + ada,
      stdin: #"{"name": "X", "permissions": [{"resourceType": 3}]}"#, status: 65,
      code: "invalid_policy"),
    .init(
      arguments: ["policy", "import", "/nonexistent/file.json"] + ada, status: 65,
      code: "unreadable_input"),
    .init(
      arguments: ["hash", "verify", "md5$salt$hash", "--password-stdin"], stdin: "x", status: 65,
      code: "unsupported_hash"),
    .init(
      arguments: [
        "hash", "verify", "$2b$31$..CA.uOD/eaGAOmJB.yMBuaOWmnNUFfwORoH..MfuhEhaBiFsYEfG",
        "--password-stdin",
      ], stdin: "x", status: 65, code: "unsupported_hash"),
  ]

  /// With `--json`: the status, nothing on standard output, and one error document with the
  /// code and a message on standard error.
  @Test(arguments: refusals + usageErrors + malformedInput)
  func jsonMode(_ row: ExitCase) throws {
    try UMK.withStore([.policies, .grace]) { umk in
      let run = try umk(row.arguments + ["--json"], stdin: row.stdin)
      #expect(run.status == row.status, "\(run)")
      #expect(run.stdout.isEmpty, "\(run)")
      let error = try run.error()
      #expect(error.code == row.code, "\(run)")
      #expect(!error.message.isEmpty)
    }
  }

  /// Without `--json`: the same status, nothing on standard output, and a message on standard
  /// error — `umk: error: MESSAGE [CODE]` for what the library or `umk` refused, the parser's
  /// `Error: …` and usage for a command line that does not parse.
  @Test(arguments: refusals + usageErrors + malformedInput)
  func textMode(_ row: ExitCase) throws {
    try UMK.withStore([.policies, .grace]) { umk in
      let run = try umk(row.arguments, stdin: row.stdin)
      #expect(run.status == row.status, "\(run)")
      #expect(run.stdout.isEmpty, "\(run)")
      // A refused sign-in is logged on standard error before the error itself.
      let stderr = run.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        .filter { !$0.hasPrefix("umk: sign-in ") }.joined(separator: "\n")
      if row.code == "usage" {
        #expect(stderr.hasPrefix("Error: "), "\(run)")
      } else {
        #expect(stderr.hasPrefix("umk: error: "), "\(run)")
        #expect(stderr.hasSuffix(" [\(row.code)]\n"), "\(run)")
      }
    }
  }

  /// `--json` is read from the command line as the parser reads it, even when the command
  /// line does not parse: after `--` it is an argument, not the flag.
  @Test func parseErrorsAreJSONOnlyWhenTheParserSeesJSON() throws {
    let umk = try UMK()
    defer { umk.cleanUp() }
    let flag = try umk.run(
      ["user", "show", "a@example.com", "extra", "--json", "--as", "a@example.com"], store: nil)
    #expect(flag.status == 64)
    #expect(try flag.error().code == "usage")
    let argument = try umk.run(
      ["user", "show", "a@example.com", "--as", "a@example.com", "--", "extra", "--json"],
      store: nil)
    #expect(argument.status == 64)
    #expect(argument.stderr.hasPrefix("Error: "), "\(argument)")
  }

  /// Store errors exit 74: no store at the path (never created by mistake), a plain file,
  /// `$UMK_STORE` used when `--store` is absent.
  @Test func storeErrorsExit74() throws {
    let umk = try UMK()
    defer { umk.cleanUp() }
    let missing = try umk("user", "list", "--json", "--as", "ada@example.com")
    #expect(missing.status == 74, "\(missing)")
    #expect(try missing.error().code == "storage_failure")
    #expect(!FileManager.default.fileExists(atPath: umk.store))
    let file = umk.root.appendingPathComponent("plain-file").path
    _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
    let notADirectory = try umk("user", "list", "--as", "ada@example.com", store: file)
    #expect(notADirectory.status == 74, "\(notADirectory)")
    let fromEnvironment = try umk.run(
      ["user", "list", "--as", "ada@example.com"], store: nil, environment: ["UMK_STORE": file])
    #expect(fromEnvironment.status == 74)
    #expect(fromEnvironment.stderr.contains("plain-file"), "\(fromEnvironment)")
  }

  /// A damaged snapshot exits 74 with `corrupt_store`, naming the file.
  @Test func aCorruptStoreExits74AndNamesTheFile() throws {
    try UMK.withStore { umk in
      let files = try FileManager.default.contentsOfDirectory(atPath: umk.store)
      let snapshot = try #require(files.first { $0.hasPrefix("snapshot-") })
      let path = umk.store + "/" + snapshot
      var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
      bytes[bytes.count / 2] ^= 0xFF
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      let run = try umk("user", "list", "--json", "--as", "ada@example.com")
      #expect(run.status == 74, "\(run)")
      let error = try run.error()
      #expect(error.code == "corrupt_store")
      #expect(error.context?["file"] == snapshot)
    }
  }
}
