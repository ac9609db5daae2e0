import Foundation
import Testing

/// `import --from`: another system's export, all or nothing, problems by record.
@Suite("Import from other systems")
struct MigrationTests {
  /// The library's Keycloak sample (made by `Scripts/generate-migration-samples.py`), read by
  /// path.
  static let keycloakSample = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("../../Tests/UserManagementKitTests/Migration/Samples")
    .appendingPathComponent("keycloak-realm-export.json").standardizedFileURL

  /// The sample's realm with only the users at `indices`.
  static func realm(keeping indices: Set<Int>) throws -> Data {
    let data = try Data(contentsOf: keycloakSample)
    var realm = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let users = try #require(realm["users"] as? [Any])
    realm["users"] = users.enumerated().filter { indices.contains($0.offset) }.map(\.element)
    return try JSONSerialization.data(withJSONObject: realm)
  }

  /// The sample as Keycloak wrote it: Ada's address is taken in the store (record 0) and the
  /// kiosk has no address (record 4); both are reported by record and nothing is imported.
  /// Without them, the import commits, and Björn signs in with his Keycloak password.
  @Test func importsAKeycloakRealmExport() throws {
    try UMK.withStore(.policies) { umk in
      let refused = try umk(
        ["import", "--from", "keycloak", Self.keycloakSample.path, "--json"] + UMK.asAda)
      #expect(refused.status == 65, "\(refused)")
      let error = try refused.error()
      #expect(error.code == "import_refused")
      let details = try #require(error.details)
      #expect(details.map(\.record) == [0, 4])
      #expect(details.map(\.code) == ["username_taken", "invalid_username"])
      #expect(details.allSatisfy { $0.line == nil })
      let text = try umk(["import", "--from", "keycloak", Self.keycloakSample.path] + UMK.asAda)
      #expect(text.stderr.contains("record 4: invalid_username:"), "\(text)")
      #expect(text.stderr.contains("2 of 5 records have problems"), "\(text)")

      let file = umk.root.appendingPathComponent("realm.json")
      try Self.realm(keeping: [1, 2, 3]).write(to: file)
      let dryRun = try umk(
        ["import", "--from", "keycloak", file.path, "--dry-run", "--policy-role", "Editors"]
          + UMK.asAda)
      #expect(dryRun.status == 0, "\(dryRun)")
      #expect(
        dryRun.stdout.hasPrefix(
          "Dry run: 3 users would be imported from keycloak (0 admins, 1 inactive, 3 with "
            + "password hashes)"), "\(dryRun)")
      #expect(
        dryRun.stdout.contains(
          "Hash formats: argon2id 1, pbkdf2-sha1 1, pbkdf2-sha512 1; 3 will be rehashed"))

      let imported = try umk(["import", "--from", "keycloak", file.path, "--json"] + UMK.asAda)
      #expect(imported.status == 0, "\(imported)")
      let summary = try imported.output(MigrationSummaryDocument.self)
      #expect(summary.committed)
      #expect(summary.users == 3)
      #expect(summary.inactive == 1)
      #expect(summary.formats == ["argon2id": 1, "pbkdf2-sha1": 1, "pbkdf2-sha512": 1])
      let login = try umk(
        "login", "bjorn.lindqvist@example.com", "--password-stdin", "--json",
        stdin: "Grüße aus Köln, 2024!\n")
      #expect(login.status == 0, "\(login)")
    }
  }

  /// Firebase users import and sign in only with the project's hash parameters, which come
  /// from the environment (the signer key is a secret: never an argument).
  @Test func importsAFirebaseExportWithTheProjectsHashParameters() throws {
    let sample = Self.keycloakSample.deletingLastPathComponent()
      .appendingPathComponent("firebase-users.json")
    var export = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: sample)) as? [String: Any])
    let users = try #require(export["users"] as? [Any])
    // Ada is the store's administrator already, and the fourth has no valid address.
    export["users"] = Array(users[1..<3])
    let firebase = [
      "UMK_FIREBASE_SIGNER_KEY":
        "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
      "UMK_FIREBASE_SALT_SEPARATOR": "Bw==", "UMK_FIREBASE_ROUNDS": "8",
      "UMK_FIREBASE_MEM_COST": "14",
    ]
    try UMK.withStore { umk in
      let file = umk.root.appendingPathComponent("firebase.json")
      try JSONSerialization.data(withJSONObject: export).write(to: file)
      let without = try umk(["import", "--from", "firebase", file.path, "--json"] + UMK.asAda)
      #expect(without.status == 65, "\(without)")
      let imported = try umk.run(
        ["import", "--from", "firebase", file.path, "--json"] + UMK.asAda, store: umk.store,
        environment: firebase)
      #expect(imported.status == 0, "\(imported)")
      let login = try umk.run(
        ["login", "kenji@example.jp", "--password-stdin"], stdin: "日本語のパスワード123\n",
        store: umk.store, environment: firebase)
      #expect(login.status == 0, "\(login)")
    }
  }

  /// The options that only make sense with `--from` are refused without it.
  @Test func migrationOptionsNeedFrom() throws {
    try UMK.withStore { umk in
      let run = try umk(["import", "-", "--admin-role", "admin"] + UMK.asAda)
      #expect(run.status == 64, "\(run)")
      let auth0Only = try umk(
        ["import", "--from", "django", "-", "--password-export", "x"] + UMK.asAda)
      #expect(auth0Only.status == 64, "\(auth0Only)")
    }
  }
}

/// `import --from --json`'s summary.
struct MigrationSummaryDocument: Decodable {
  /// The `committed` field.
  let committed: Bool
  /// The `users` field.
  let users: Int
  /// The `inactive` field.
  let inactive: Int
  /// The `formats` field.
  let formats: [String: Int]
}
