import Foundation
import Testing

/// End-to-end tests: each runs the built `umk` binary against its own store.
@Suite("umk end to end")
struct UMKTests {
  let ada = ["--as", "ada@example.com"]

  // MARK: Users

  @Test func initAddShowListAndEditUsers() throws {
    try UMK.withStore { umk in
      // init again: refused by a rule.
      let again = try umk(
        "init", "--admin", "eve@example.com", "--first", "Eve", "--last", "E",
        "--generate-password", "--json")
      #expect(again.status == 1, "\(again)")
      #expect(try again.jsonError()["code"] as? String == "already_bootstrapped")

      try umk("policy", "import", "-", "--as", "ada@example.com", stdin: Self.policies)
      let added = try umk(
        "user", "add", "grace@example.com", "--first", "Grace", "--last", "Hopper",
        "--generate-password", "--policy", "Viewers", "--json", "--as", "ada@example.com")
      #expect(added.status == 0, "\(added)")
      let addedJSON = try added.json()
      let generated = try #require(addedJSON["generatedPassword"] as? String)
      #expect(generated.count >= 15)
      let user = try #require(addedJSON["user"] as? [String: Any])
      #expect(
        Set(user.keys) == [
          "id", "username", "firstName", "lastName", "status", "role", "policies", "apiAccess",
          "hasPassword", "hasAPIPassword", "mustChangePassword", "version", "createdAt",
          "updatedAt", "createdBy",
        ])
      #expect(user["policies"] as? [String] == ["Viewers"])
      #expect(user["role"] as? String == "general" && user["mustChangePassword"] as? Bool == true)

      let alan = try umk(
        "user", "add", "alan@example.com", "--first", "Alan", "--last", "Turing", "--admin",
        "--inactive", "--password-stdin", "--as", "ada@example.com",
        stdin: "a long enough passphrase\r\n")
      #expect(alan.status == 0, "\(alan)")
      #expect(!alan.stdout.contains("passphrase"))

      let shown = try umk("user", "show", "GRACE@example.com", "--json", "--as", "ada@example.com")
      #expect(
        try (shown.json()["user"] as? [String: Any])?["username"] as? String
          == "grace@example.com")
      let text = try umk("user", "show", "alan@example.com", "--as", "ada@example.com")
      #expect(text.stdout.contains("alan@example.com — Alan Turing, inactive, admin"), "\(text)")

      // Listing: filters and a cursor.
      let page = try umk("user", "list", "--limit", "2", "--json", "--as", "ada@example.com")
      let pageJSON = try page.json()
      #expect((pageJSON["users"] as? [Any])?.count == 2)
      let cursor = try #require(pageJSON["nextCursor"] as? String)
      let next = try umk(
        "user", "list", "--limit", "2", "--after", cursor, "--json", "--as", "ada@example.com")
      #expect(
        (try next.json()["users"] as? [[String: Any]])?.map { $0["username"] as? String }
          == ["grace@example.com"])
      #expect(try next.json()["nextCursor"] is NSNull)
      let filtered = try umk(
        "user", "list", "--status", "inactive", "--role", "admin", "--json", "--as",
        "ada@example.com")
      #expect((try filtered.json()["users"] as? [[String: Any]])?.count == 1)
      let byPolicy = try umk(
        "user", "list", "--policy", "viewers", "--search", "HOP", "--api-access", "off", "--as",
        "ada@example.com")
      #expect(byPolicy.stdout.contains("grace@example.com"), "\(byPolicy)")

      // Edit, activate, roles and policies.
      #expect(
        try umk(
          "user", "edit", "grace@example.com", "--last", "Hopper-Murray", "--as",
          "ada@example.com"
        ).status == 0)
      #expect(
        try umk("user", "activate", "alan@example.com", "--as", "ada@example.com").status == 0)
      let demoted = try umk(
        "user", "set-role", "alan@example.com", "general", "--policy", "Editors", "--json",
        "--as", "ada@example.com")
      #expect(
        ((try demoted.json()["user"]) as? [String: Any])?["policies"] as? [String]
          == ["Editors"], "\(demoted)")
      let policies = try umk(
        "user", "set-policies", "alan@example.com", "Viewers", "editors", "--json", "--as",
        "ada@example.com")
      #expect(
        ((try policies.json()["user"]) as? [String: Any])?["policies"] as? [String]
          == ["Editors", "Viewers"], "\(policies)")
      #expect(
        try umk("user", "set-policies", "alan@example.com", "--as", "ada@example.com").status == 0)
      #expect(
        try umk("user", "deactivate", "alan@example.com", "--as", "ada@example.com").status == 0)
    }
  }

  @Test func refusalsExitOneWithTheLibrarysError() throws {
    try UMK.withStore { umk in
      try umk(
        "user", "add", "grace@example.com", "--first", "Grace", "--last", "Hopper",
        "--password-stdin", "--as", "ada@example.com", stdin: "first compiler 1952!")
      let cases: [([String], String)] = [
        (["user", "deactivate", "ada@example.com"] + ada, "self_modification_forbidden"),
        (["user", "set-role", "ada@example.com", "general"] + ada, "self_modification_forbidden"),
        (
          [
            "user", "add", "x@example.com", "--first", "X", "--last", "Y", "--generate-password",
            "--as", "grace@example.com",
          ], "not_authorized"
        ),
        (["user", "show", "ada@example.com", "--as", "grace@example.com"], "not_authorized"),
        (["user", "list", "--as", "grace@example.com"], "not_authorized"),
        (["audit", "--as", "grace@example.com"], "not_authorized"),
        (["export", "--as", "grace@example.com"], "not_authorized"),
        (["user", "show", "ada@example.com", "--as", "nobody@example.com"], "not_authorized"),
        (
          [
            "user", "add", "y@example.com", "--first", "Y", "--last", "Y", "--generate-password",
            "--policy", "Nope",
          ] + ada, "policy_not_found"
        ),
        (
          [
            "user", "add", "GRACE@EXAMPLE.COM", "--first", "G", "--last", "H",
            "--generate-password",
          ] + ada, "username_taken"
        ),
        (
          [
            "user", "add", "not an address", "--first", "G", "--last", "H",
            "--generate-password",
          ] + ada, "invalid_username"
        ),
        (["user", "show", "nobody@example.com"] + ada, "user_not_found"),
      ]
      for (arguments, code) in cases {
        let run = try umk.run(arguments + ["--json"], store: umk.store)
        #expect(run.status == 1, "\(arguments): \(run)")
        #expect(run.stdout.isEmpty, "\(arguments): \(run)")
        let error = try run.jsonError()
        #expect(error["code"] as? String == code, "\(arguments): \(run)")
        #expect((error["message"] as? String)?.isEmpty == false)
      }
      // A weak password, in text mode: the message names the rule.
      let weak = try umk(
        "user", "add", "w@example.com", "--first", "W", "--last", "P", "--password-stdin",
        "--as", "ada@example.com", stdin: "password\n")
      #expect(weak.status == 1)
      #expect(weak.stderr.hasPrefix("umk: error: ") && weak.stderr.contains("[weak_password]"))
      // The General User may edit their own name, and nothing else.
      #expect(
        try umk(
          "user", "edit", "grace@example.com", "--first", "Amazing Grace", "--as",
          "grace@example.com"
        ).status == 0)
      let own = try umk(
        "user", "edit", "grace@example.com", "--generate-password", "--as", "grace@example.com")
      #expect(own.status == 1, "\(own)")
    }
  }

  @Test func usageErrorsExit64() throws {
    try UMK.withStore { umk in
      let cases: [[String]] = [
        ["user", "add", "x@example.com", "--first", "X", "--last", "Y", "--generate-password"],
        ["user", "frobnicate"],
        ["user", "add", "x@example.com", "--first", "X", "--last", "Y", "--password", "hunter2"]
          + ada,
        ["user", "add", "x@example.com", "--first", "X", "--last", "Y"] + ada,
        [
          "user", "add", "x@example.com", "--first", "X", "--last", "Y", "--password-stdin",
          "--generate-password",
        ] + ada,
        [
          "user", "add", "x@example.com", "--first", "X", "--last", "Y", "--admin", "--policy",
          "P", "--generate-password",
        ] + ada,
        ["user", "list", "--status", "sleeping"] + ada,
        ["user", "list", "--after", "not-a-cursor"] + ada,
        ["user", "list", "--limit", "0"] + ada,
        ["audit", "--limit", "20000"] + ada,
        ["audit", "--since", "yesterday"] + ada,
        ["login", "ada@example.com"],
        ["api", "password", "ada@example.com"] + ada,
        ["user", "edit", "ada@example.com"] + ada,
      ]
      for arguments in cases {
        let run = try umk.run(arguments, store: umk.store)
        #expect(run.status == 64, "\(arguments): \(run)")
        let json = try umk.run(arguments + ["--json"], store: umk.store)
        #expect(json.status == 64, "\(arguments): \(json)")
        #expect((try? json.jsonError()["message"] as? String) != nil, "\(arguments): \(json)")
      }
      let help = try umk("--help")
      #expect(help.status == 0 && help.stdout.contains("security boundary"))
    }
  }

  @Test func storeErrorsExit74() throws {
    let umk = try UMK()
    defer { umk.cleanUp() }
    let missing = try umk("user", "list", "--json", "--as", "ada@example.com")
    #expect(missing.status == 74, "\(missing)")
    #expect(try missing.jsonError()["code"] as? String == "storage_failure")
    let file = umk.root.appendingPathComponent("plain-file").path
    _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
    let notADirectory = try umk("user", "list", "--as", "ada@example.com", store: file)
    #expect(notADirectory.status == 74, "\(notADirectory)")
    // The store comes from $UMK_STORE when --store is absent.
    let fromEnvironment = try umk.run(
      ["user", "list", "--as", "ada@example.com"], store: nil, environment: ["UMK_STORE": file])
    #expect(fromEnvironment.status == 74 && fromEnvironment.stderr.contains("plain-file"))
  }

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
      let error = try run.jsonError()
      #expect(error["code"] as? String == "corrupt_store")
      #expect((error["context"] as? [String: Any])?["file"] as? String == snapshot)
    }
  }

  // MARK: Credentials

  @Test func signInPasswordChangeAndAPIAccess() throws {
    try UMK.withStore { umk in
      let valid = try umk(
        "login", "ADA@example.com", "--password-stdin", "--json",
        stdin: UMK.adaPassword + "\n")
      #expect(valid.status == 0, "\(valid)")
      #expect(try valid.json()["mustChangePassword"] as? Bool == false)
      let invalid = try umk(
        "login", "ada@example.com", "--password-stdin", "--json",
        stdin: "wrong\n")
      #expect(invalid.status == 1)
      #expect(try invalid.jsonError()["code"] as? String == "invalid_credentials")
      let unknown = try umk("login", "nobody@example.com", "--password-stdin", stdin: "x")
      #expect(unknown.status == 1 && unknown.stderr.contains("[invalid_credentials]"))

      // passwd: current, then new, one per line.
      let changed = try umk(
        "passwd", "ada@example.com", "--password-stdin",
        stdin: UMK.adaPassword + "\nthe difference engine 1822\n")
      #expect(changed.status == 0, "\(changed)")
      #expect(
        try umk(
          "login", "ada@example.com", "--password-stdin",
          stdin: "the difference engine 1822"
        ).status == 0)
      let wrongCurrent = try umk(
        "passwd", "ada@example.com", "--password-stdin", stdin: "nope\nanother fine passphrase\n")
      #expect(wrongCurrent.status == 1)

      // API access: a generated token works for `api login`, not for `login`, and stops
      // working when access is disabled.
      #expect(try umk("api", "enable", "ada@example.com", "--as", "ada@example.com").status == 0)
      let token = try umk(
        "api", "password", "ada@example.com", "--generate", "--json", "--as", "ada@example.com")
      let secret = try #require(try token.json()["generatedAPIPassword"] as? String)
      #expect(secret.hasPrefix("umk_"))
      #expect(
        try umk("api", "login", "ada@example.com", "--password-stdin", stdin: secret).status == 0)
      #expect(try umk("login", "ada@example.com", "--password-stdin", stdin: secret).status == 1)
      #expect(try umk("api", "disable", "ada@example.com", "--as", "ada@example.com").status == 0)
      let disabled = try umk(
        "api", "login", "ada@example.com", "--password-stdin", "--json", stdin: secret)
      #expect(disabled.status == 1, "\(disabled)")

      // Secrets never reach the audit trail.
      let audit = try umk("audit", "--json", "--limit", "1000", "--as", "ada@example.com")
      #expect(audit.status == 0)
      for leaked in [UMK.adaPassword, "the difference engine", secret, "$argon2id$"] {
        #expect(!audit.stdout.contains(leaked))
      }
    }
  }

  // MARK: Policies, authorization, audit

  static let policies = """
    [{"name": "Viewers", "description": "Read dashboards",
      "permissions": [{"resourceType": "dashboard", "allowed": ["view"], "resourceIds": ["*"]}]},
     {"name": "Editors", "description": "Project 7",
      "permissions": [{"resourceType": "task", "allowed": ["*"], "resourceIds": ["parent:7"]}]}]
    """

  @Test func policiesAuthorizationAndAudit() throws {
    try UMK.withStore { umk in
      let file = umk.root.appendingPathComponent("policies.json")
      try Data(Self.policies.utf8).write(to: file)
      let imported = try umk("policy", "import", file.path, "--json", "--as", "ada@example.com")
      #expect(imported.status == 0, "\(imported)")
      #expect((try imported.json()["policies"] as? [Any])?.count == 2)

      let broken = umk.root.appendingPathComponent("broken.json")
      try Data(#"{"name": "X", "permissions": [{"resourceType": 3}]}"#.utf8).write(to: broken)
      let malformed = try umk("policy", "import", broken.path, "--json", "--as", "ada@example.com")
      #expect(malformed.status == 65, "\(malformed)")
      #expect(try malformed.jsonError()["code"] as? String == "invalid_policy")
      let absent = try umk("policy", "import", "/nonexistent/file.json", "--as", "ada@example.com")
      #expect(absent.status == 65, "\(absent)")

      let list = try umk("policy", "list", "--json", "--as", "ada@example.com")
      let names = (try list.json()["policies"] as? [[String: Any]])?.map { $0["name"] as? String }
      #expect(names == ["Editors", "Viewers"])
      let show = try umk("policy", "show", "viewers", "--json", "--as", "ada@example.com")
      let policy = try #require(try show.json()["policy"] as? [String: Any])
      #expect(Set(policy.keys) == ["id", "name", "description", "permissions", "version"])
      let exported = try umk("policy", "export", "--as", "ada@example.com")
      let documents = try JSONSerialization.jsonObject(with: Data(exported.stdout.utf8))
      #expect((documents as? [Any])?.count == 2)
      let one = try umk("policy", "export", "Editors", "--as", "ada@example.com")
      #expect(
        (try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any])?["name"]
          as? String == "Editors")

      try umk(
        "user", "add", "grace@example.com", "--first", "Grace", "--last", "Hopper",
        "--generate-password", "--policy", "Viewers", "--policy", "Editors", "--as",
        "ada@example.com")
      let inUse = try umk("policy", "remove", "Viewers", "--json", "--as", "ada@example.com")
      #expect(inUse.status == 1)
      #expect(try inUse.jsonError()["code"] as? String == "policy_in_use")

      // authorize: exit 0 when allowed, 1 when denied.
      let allowed = try umk(
        "authorize", "grace@example.com", "view", "dashboard", "sales", "--json")
      #expect(allowed.status == 0, "\(allowed)")
      let decision = try allowed.json()
      #expect(decision["allowed"] as? Bool == true && decision["reason"] as? String == "policy")
      #expect((decision["policy"] as? [String: Any])?["name"] as? String == "Viewers")
      let denied = try umk("authorize", "grace@example.com", "edit", "dashboard", "sales")
      #expect(denied.status == 1 && denied.stdout == "denied\n", "\(denied)")
      let explained = try umk(
        "authorize", "grace@example.com", "delete", "task", "t-19", "--parent", "7", "--explain")
      #expect(explained.status == 0)
      #expect(explained.stdout.contains("allowed by policy \"Editors\" (permission #1)"))
      let owner = try umk(
        "authorize", "grace@example.com", "edit", "doc", "d1", "--owner", "grace@example.com",
        "--json")
      #expect(try owner.json()["reason"] as? String == "owner")
      let nobody = try umk("authorize", "nobody@example.com", "view", "dashboard", "x", "--json")
      #expect(nobody.status == 1)
      #expect(try nobody.json()["reason"] as? String == "unknown_user")
      let admin = try umk("authorize", "ada@example.com", "delete", "anything", "1")
      #expect(admin.status == 0 && admin.stdout == "allowed\n")

      // The audit trail, filtered.
      let audit = try umk(
        "audit", "--user", "grace@example.com", "--json", "--as", "ada@example.com")
      let events = try #require(try audit.json()["events"] as? [[String: Any]])
      #expect(events.count == 1)
      #expect(events.first?["action"] as? String == "user.created")
      #expect(
        Set(events.first?.keys.map { $0 } ?? [])
          == ["id", "time", "actor", "actorUsername", "action", "target", "changes"])
      #expect(events.first?["actorUsername"] as? String == "ada@example.com")
      let byActor = try umk(
        "audit", "--actor", "system:bootstrap", "--since", "2000-01-01T00:00:00Z", "--json",
        "--as", "ada@example.com")
      #expect((try byActor.json()["events"] as? [Any])?.count == 1, "\(byActor)")
      let text = try umk("audit", "--limit", "2", "--as", "ada@example.com")
      #expect(text.stdout.split(separator: "\n").count == 2, "\(text)")

      // Unused policies can be removed.
      try umk("user", "set-policies", "grace@example.com", "--as", "ada@example.com")
      let removed = try umk("policy", "remove", "viewers", "--json", "--as", "ada@example.com")
      #expect(removed.status == 0, "\(removed)")
    }
  }

  // MARK: Import, export, hashes

  /// A Django PBKDF2 hash of "correct horse battery staple", as Django writes it.
  static let djangoHash =
    "pbkdf2_sha256$1000$saltSALT0000xyz$fJ/zO1SieEeI/ROdkYBgJM2Z/qcBjZhi4xbU+FsfLco="

  @Test func importAndExportJSONLines() throws {
    try UMK.withStore { umk in
      try umk("policy", "import", "-", "--as", "ada@example.com", stdin: Self.policies)
      let good = """
        {"username": "old@example.com", "firstName": "Old", "lastName": "Timer", "policies": ["viewers"], "passwordHash": "\(Self.djangoHash)"}

        {"username": "boss@example.com", "firstName": "Big", "lastName": "Boss", "role": "admin", "status": "inactive", "apiAccess": true}
        """
      let file = umk.root.appendingPathComponent("users.jsonl")
      try Data(good.utf8).write(to: file)

      let dryRun = try umk("import", file.path, "--dry-run", "--json", "--as", "ada@example.com")
      #expect(dryRun.status == 0, "\(dryRun)")
      let dry = try dryRun.json()
      #expect(dry["dryRun"] as? Bool == true && dry["committed"] as? Bool == false)
      #expect(dry["users"] as? Int == 2 && dry["withPasswordHash"] as? Int == 1)
      #expect(try umk("user", "show", "old@example.com", "--as", "ada@example.com").status == 1)

      let imported = try umk("import", file.path, "--as", "ada@example.com")
      #expect(imported.status == 0, "\(imported)")
      #expect(imported.stdout.hasPrefix("Imported 2 users (1 with password hashes)"))
      // The user signs in with the password of the old system.
      let login = try umk(
        "login", "old@example.com", "--password-stdin", "--json",
        stdin: "correct horse battery staple\n")
      #expect(login.status == 0, "\(login)")
      #expect(try login.json()["rehashed"] as? Bool == true)

      // Problems: every one with its line number, and nothing imported.
      let bad = """
        {"username": "new@example.com", "firstName": "New", "lastName": "User"}
        {"username": "old@example.com", "firstName": "Old", "lastName": "Again"}
        not json
        {"username": "h@example.com", "firstName": "H", "lastName": "H", "passwordHash": "md5$x$y"}
        {"username": "u@example.com", "firstName": "U", "lastName": "U", "colour": "blue"}
        {"username": "p@example.com", "firstName": "P", "lastName": "P", "policies": ["Nope"]}
        {"username": "r@example.com", "firstName": "R", "lastName": "R", "role": "root"}
        {"username": "a@example.com", "firstName": "A", "lastName": "A", "apiAccess": "yes"}
        {"username": "m@example.com", "firstName": "M"}
        """
      try Data(bad.utf8).write(to: file)
      let refused = try umk("import", file.path, "--json", "--as", "ada@example.com")
      #expect(refused.status == 65, "\(refused)")
      let error = try refused.jsonError()
      #expect(error["code"] as? String == "import_refused")
      let details = try #require(error["details"] as? [[String: Any]])
      #expect(details.map { $0["line"] as? Int } == [2, 3, 4, 5, 6, 7, 8, 9])
      #expect(
        details.map { $0["code"] as? String } == [
          "username_taken", "invalid_json", "unsupported_hash", "unknown_field",
          "policy_not_found", "invalid_value", "invalid_value", "missing_field",
        ])
      #expect(try umk("user", "show", "new@example.com", "--as", "ada@example.com").status == 1)
      // Only rule refusals: exit 1; text mode lists the lines on stderr.
      try Data(bad.split(separator: "\n").prefix(2).joined(separator: "\n").utf8).write(to: file)
      let ruleOnly = try umk("import", file.path, "--as", "ada@example.com")
      #expect(ruleOnly.status == 1, "\(ruleOnly)")
      #expect(ruleOnly.stderr.contains("line 2: username_taken:"))
      #expect(ruleOnly.stderr.contains("[import_refused]"))

      // Export: JSON Lines, hashes only when asked; the output imports again.
      let plain = try umk("export", "--as", "ada@example.com")
      #expect(plain.status == 0)
      #expect(
        plain.stdout.split(separator: "\n").count == 3 && !plain.stdout.contains("passwordHash"))
      let withHashes = try umk("export", "--include-hashes", "--as", "ada@example.com")
      #expect(withHashes.stdout.contains("\"passwordHash\":\"$argon2id$"), "rehashed at sign-in")
      let document = try umk("export", "--json", "--as", "ada@example.com")
      #expect((try document.json()["users"] as? [Any])?.count == 3)

      let other = try UMK()
      defer { other.cleanUp() }
      try other(
        "init", "--admin", "root@example.com", "--first", "R", "--last", "R", "--generate-password")
      try other("policy", "import", "-", "--as", "root@example.com", stdin: Self.policies)
      let lines = withHashes.stdout.split(separator: "\n").filter { !$0.contains("ada@") }
        .joined(separator: "\n")
      let reimported = try other("import", "-", "--as", "root@example.com", stdin: lines)
      #expect(reimported.status == 0, "\(reimported)")
      #expect(
        try other(
          "login", "old@example.com", "--password-stdin",
          stdin: "correct horse battery staple"
        ).status == 0)
    }
  }

  @Test func hashMakeVerifyAndCensus() throws {
    let umk = try UMK()
    defer { umk.cleanUp() }
    for algorithm in ["argon2id", "pbkdf2-sha256"] {
      let made = try umk.run(
        ["hash", "make", "--algorithm", algorithm, "--password-stdin", "--json"],
        stdin: "tr0ub4dor&3\n", store: nil)
      #expect(made.status == 0, "\(made)")
      let hash = try #require(try made.json()["hash"] as? String)
      #expect(hash.hasPrefix("$\(algorithm)$"))
      let valid = try umk.run(
        ["hash", "verify", hash, "--password-stdin"], stdin: "tr0ub4dor&3", store: nil)
      #expect(valid.status == 0 && valid.stdout.hasPrefix("valid"), "\(valid)")
      // Only the preferred algorithm (Argon2id) is current; PBKDF2 would be upgraded.
      #expect(valid.stdout.contains("rehashed") == (algorithm != "argon2id"))
      let invalid = try umk.run(
        ["hash", "verify", hash, "--password-stdin"], stdin: "tr0ub4dor&4", store: nil)
      #expect(invalid.status == 1 && invalid.stdout == "invalid\n")
    }
    let legacy = try umk.run(
      ["hash", "verify", Self.djangoHash, "--password-stdin", "--json"],
      stdin: "correct horse battery staple", store: nil)
    #expect(legacy.status == 0)
    #expect(try legacy.json()["needsRehash"] as? Bool == true)
    let malformed = try umk.run(
      ["hash", "verify", "md5$salt$hash", "--password-stdin", "--json"], stdin: "x", store: nil)
    #expect(malformed.status == 65, "\(malformed)")
    #expect(try malformed.jsonError()["code"] as? String == "unsupported_hash")
    let costly = try umk.run(
      [
        "hash", "verify", "$2b$31$..CA.uOD/eaGAOmJB.yMBuaOWmnNUFfwORoH..MfuhEhaBiFsYEfG",
        "--password-stdin",
      ], stdin: "x", store: nil)
    #expect(costly.status == 65)

    try UMK.withStore { umk in
      try umk(
        "import", "-", "--as", "ada@example.com",
        stdin:
          #"{"username": "d@example.com", "firstName": "D", "lastName": "D", "passwordHash": "\#(Self.djangoHash)"}"#
          + "\n" + #"{"username": "n@example.com", "firstName": "N", "lastName": "N"}"#)
      let census = try umk("hash", "census", "--json", "--as", "ada@example.com")
      #expect(census.status == 0, "\(census)")
      let json = try census.json()
      #expect(json["total"] as? Int == 3 && json["withoutPassword"] as? Int == 1)
      #expect(json["needingRehash"] as? Int == 1)
    }
  }

  // MARK: Demo

  @Test func demoWalksTheWholeScenario() throws {
    let umk = try UMK()
    defer { umk.cleanUp() }
    let demo = try umk.run(["demo"], store: nil)
    #expect(demo.status == 0, "\(demo)")
    let lines = demo.stdout.split(separator: "\n")
    #expect(lines.last?.hasPrefix("Demo complete") == true, "\(demo)")
    for refusal in [
      "[self_modification_forbidden]", "[not_authorized]", "[policy_not_found]",
      "[last_active_administrator]", "[weak_password]", "[username_taken]",
    ] {
      #expect(demo.stdout.contains(refusal), "\(refusal)")
    }
    let json = try umk.run(["demo", "--json"], store: nil)
    #expect(json.status == 0, "\(json)")
    let document = try json.json()
    #expect(document["complete"] as? Bool == true)
    #expect((document["refusals"] as? Int ?? 0) >= 10)
    // With --store, the store is kept; a second demo on it is refused (already bootstrapped).
    let kept = umk.root.appendingPathComponent("demo-store").path
    #expect(try umk.run(["demo"], store: kept).status == 0)
    #expect(try umk("user", "list", "--as", "ada@example.com", store: kept).status == 0)
    #expect(try umk.run(["demo"], store: kept).status == 1)
  }
}
