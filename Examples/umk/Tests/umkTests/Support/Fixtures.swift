import Foundation
import Testing

/// Stores the tests start from, and the data they share.
extension UMK {
  /// Ada's password.
  static let adaPassword = "analytical engine 1843"
  /// Grace's password.
  static let gracePassword = "first compiler 1952!"
  /// `--as ada@example.com`.
  static let asAda = ["--as", "ada@example.com"]

  /// Two policies in the console's JSON: `Viewers` (view dashboards) and `Editors` (anything
  /// under project 7).
  static let policies = """
    [{"name": "Viewers", "description": "Read dashboards",
      "permissions": [{"resourceType": "dashboard", "allowed": ["view"], "resourceIds": ["*"]}]},
     {"name": "Editors", "description": "Project 7",
      "permissions": [{"resourceType": "task", "allowed": ["*"], "resourceIds": ["parent:7"]}]}]
    """

  /// A Django PBKDF2 hash of "correct horse battery staple", as Django writes it.
  static let djangoHash =
    "pbkdf2_sha256$1000$saltSALT0000xyz$fJ/zO1SieEeI/ROdkYBgJM2Z/qcBjZhi4xbU+FsfLco="

  /// What a store starts with.
  struct Contents: OptionSet, Sendable {
    /// The raw value.
    let rawValue: Int
    /// The two ``UMK/policies``.
    static let policies = Contents(rawValue: 1)
    /// grace@example.com, a General User without policies (``UMK/gracePassword``).
    static let grace = Contents(rawValue: 2)
  }

  /// Runs `body` with a fresh store whose administrator is ada@example.com
  /// (``adaPassword``), and more when asked; removes it afterwards.
  ///
  /// - Parameters:
  ///   - contents: What else the store holds.
  ///   - body: The test.
  /// - Throws: What `body` throws, or when the store cannot be set up.
  static func withStore(_ contents: Contents = [], _ body: (UMK) throws -> Void) throws {
    let umk = try UMK()
    defer { umk.cleanUp() }
    let created = try umk(
      "init", "--admin", "ada@example.com", "--first", "Ada", "--last", "Lovelace",
      "--password-stdin", stdin: adaPassword + "\n")
    try #require(created.status == 0, "\(created)")
    if contents.contains(.policies) {
      let imported = try umk(["policy", "import", "-"] + asAda, stdin: policies)
      try #require(imported.status == 0, "\(imported)")
    }
    if contents.contains(.grace) {
      let added = try umk(
        [
          "user", "add", "grace@example.com", "--first", "Grace", "--last", "Hopper",
          "--password-stdin",
        ] + asAda, stdin: gracePassword)
      try #require(added.status == 0, "\(added)")
    }
    try body(umk)
  }

  /// Runs `umk ARGS --store STORE` with an argument array.
  ///
  /// - Parameters:
  ///   - arguments: The arguments.
  ///   - stdin: Standard input.
  /// - Returns: What the run produced.
  /// - Throws: When the binary cannot be run.
  @discardableResult
  func callAsFunction(_ arguments: [String], stdin: String = "") throws -> Run {
    try run(arguments, stdin: stdin, store: store)
  }
}
