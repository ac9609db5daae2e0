import Foundation
import Testing
import UMKCrypto
import UserManagementKit
import UserManagementKitTesting

/// One test (or one group) per gap the independent security review reproduced (issue 10);
/// each failed before its fix. The item number is in the suite or test name.
@Suite("Security review: the reproduced gaps stay closed")
struct SecurityReviewTests {
  // MARK: 1. Sizes are bounded by bytes, not only by characters

  @Test("1. A name of few characters but megabytes of combining marks is refused")
  func namesAreBoundedByBytes() async throws {
    let h = try await Harness()
    let user = try await h.add("victim@example.com")
    // 100 characters, each carrying 100 combining acute accents: 20 kB of UTF-8.
    let heavy = String(repeating: "e" + String(repeating: "\u{301}", count: 100), count: 100)
    #expect(heavy.count == 100)
    let error = await expectError(.invalidField) {
      _ = try await h.directory.updateProfile(of: user.id, firstName: heavy, by: .user(user.id))
    }
    #expect(error?.reason == "too_long")
    // At the byte cap, a name is accepted.
    let atCap = String(repeating: "é", count: PersonName.maximumBytes / 2)
    #expect(throws: UserManagementError.self) {
      _ = try PersonName.validate(atCap, field: "firstName")  // 200 characters: too many
    }
    #expect(
      try PersonName.validate(String(repeating: "é", count: 100), field: "firstName").count
        == 100)
  }

  struct OversizedPolicy: Sendable, CustomTestStringConvertible {
    var testDescription: String
    var document: PolicyDocument
    var field: String
  }

  static let heavyText = String(
    repeating: "a" + String(repeating: "\u{301}", count: 50), count: 100)

  @Test(
    "1. Policy descriptions, resource types and resource ids are bounded",
    arguments: [
      OversizedPolicy(
        testDescription: "a description of 100 characters and 10 kB",
        document: PolicyDocument(
          name: "P", description: heavyText,
          permissions: [Permission(resourceType: "doc", allowed: [.view], resourceIds: [.any])]),
        field: "description"),
      OversizedPolicy(
        testDescription: "a resource type of 100 characters and 10 kB",
        document: PolicyDocument(
          name: "P",
          permissions: [
            Permission(resourceType: heavyText, allowed: [.view], resourceIds: [.any])
          ]), field: "permissions[0].resourceType"),
      OversizedPolicy(
        testDescription: "a resource id of 10,000 characters",
        document: PolicyDocument(
          name: "P",
          permissions: [
            Permission(
              resourceType: "doc", allowed: [.view],
              resourceIds: [.id(String(repeating: "x", count: 10_000))])
          ]), field: "permissions[0].resourceIds"),
    ])
  func policyTextIsBounded(_ example: OversizedPolicy) {
    #expect {
      _ = try example.document.validated()
    } throws: { error in
      (error as? UserManagementError)?.field == example.field
    }
  }

  // MARK: 2. Every secret that reaches a KDF is capped first

  @Test("2. A huge current password is refused before any hashing")
  func hugeCurrentPasswordCostsNoHashing() async throws {
    let h = try await Harness()
    let user = try await h.add("user@example.com")
    let before = h.hasher.kdfCount
    let huge = Secret(bytes: repeatElement(UInt8(ascii: "a"), count: 1 << 20))
    await expectError(.invalidCredentials) {
      _ = try await h.directory.changeOwnPassword(
        of: user.id, current: huge, new: Secret("another fine passphrase"))
    }
    #expect(h.hasher.kdfCount == before)
  }

  @Test("2. Huge new passwords and API passwords are refused before any hashing")
  func hugeNewSecretsCostNoHashing() async throws {
    let h = try await Harness()
    let user = try await h.add("api@example.com", apiAccess: true)
    try await h.directory.setAPIPassword(
      .typed(Secret("typed token phrase 7")), of: user.id, by: h.asAdmin)
    let huge = Secret(bytes: repeatElement(UInt8(ascii: "a"), count: 1 << 20))
    let before = h.hasher.kdfCount
    for update in [
      UserUpdate(password: .typed(huge)), UserUpdate(apiPassword: .typed(huge)),
    ] {
      let error = await expectError(.weakPassword) {
        _ = try await h.directory.updateUser(user.id, with: update, by: h.asAdmin)
      }
      #expect(error?.passwordViolations == ["too_many_bytes"])
    }
    #expect(h.hasher.kdfCount == before)
  }

  // MARK: 3. The first unknown sign-in costs what every other does

  @Test("3. A fresh directory's first unknown sign-in runs one verification and no hash")
  func firstUnknownSignInCostsOneVerification() async throws {
    let hasher = CountingPasswordHasher(PBKDF2PasswordHasher(insecureIterations: 2))
    let directory = UserDirectory(
      store: InMemoryDirectoryStore(), configuration: .init(passwordHasher: hasher))
    await expectError(.invalidCredentials) {
      _ = try await directory.signInWithPassword(
        username: "nobody@example.com", password: Secret("some password"))
    }
    #expect(hasher.hashCount == 0)
    #expect(hasher.verificationCount == 1)
  }

  @Test("3. Unmatchable hashes are made without a key derivation and match nothing")
  func unmatchableHashes() throws {
    for hasher: any PasswordHasher in [
      Argon2PasswordHasher(), PBKDF2PasswordHasher(), MigratingPasswordHasher(),
    ] {
      let hash = try hasher.unmatchableHash()
      #expect(hasher.canVerify(hash))
      #expect(try hasher.needsRehash(hash) == false)
    }
    let cheap = PBKDF2PasswordHasher(insecureIterations: 2)
    let hash = cheap.unmatchableHash()
    #expect(try cheap.verify(Secret(""), against: hash) == .invalid)
    #expect(try cheap.verify(Secret("password"), against: hash) == .invalid)
  }

  // MARK: 5. changeOwnPassword proves the password before it tells the account's status

  @Test("5. An inactive account's password change costs a verification, like any other")
  func inactiveAccountProvesFirst() async throws {
    let h = try await Harness()
    let user = try await h.add("sleeper@example.com", status: .inactive)
    h.hasher.reset()
    await expectError(.notAuthorized) {
      _ = try await h.directory.changeOwnPassword(
        of: user.id, current: Harness.password, new: Secret("another fine passphrase"))
    }
    #expect(h.hasher.verificationCount == 1)
    // A wrong password on an inactive account says "wrong password", not "inactive".
    await expectError(.invalidCredentials) {
      _ = try await h.directory.changeOwnPassword(
        of: user.id, current: Secret("not the password at all"),
        new: Secret("another fine passphrase"))
    }
  }

  // MARK: 6. The login password never equals the API password

  @Test("6. One edit cannot set the login and API passwords to the same value")
  func oneEditCannotMakeThemEqual() async throws {
    let h = try await Harness()
    let user = try await h.add("api@example.com", apiAccess: true)
    let same = Secret("shared secret phrase 42")
    let error = await expectError(.weakPassword) {
      _ = try await h.directory.updateUser(
        user.id, with: UserUpdate(password: .typed(same), apiPassword: .typed(same)),
        by: h.asAdmin)
    }
    #expect(error?.passwordViolations == ["same_as_login_password"])
  }

  @Test("6. A user's new login password cannot equal their stored API password, typed or generated")
  func loginPasswordCannotEqualStoredAPIPassword() async throws {
    let h = try await Harness()
    let user = try await h.add("api@example.com", apiAccess: true)
    let apiPassword = Secret("typed token phrase 7")
    try await h.directory.setAPIPassword(.typed(apiPassword), of: user.id, by: h.asAdmin)
    let byUser = await expectError(.weakPassword) {
      _ = try await h.directory.changeOwnPassword(
        of: user.id, current: Harness.password, new: apiPassword)
    }
    #expect(byUser?.passwordViolations == ["same_as_api_password"])
    // An administrator's own new login password is compared with their generated one too.
    try await h.directory.setAPIAccess(true, of: h.admin.id, by: h.asAdmin)
    let token = try #require(
      try await h.directory.setAPIPassword(.generated, of: h.admin.id, by: h.asAdmin)
        .generatedAPIPassword)
    let sameAsToken = await expectError(.weakPassword) {
      _ = try await h.directory.changeOwnPassword(
        of: h.admin.id, current: h.adminPassword, new: token)
    }
    #expect(sameAsToken?.passwordViolations == ["same_as_api_password"])
  }

  @Test("6. A reset token buys one answer on the API password, not a free oracle")
  func aResetTokenIsUsedUpByTheEqualityRefusal() async throws {
    let h = try await Harness()
    let user = try await h.add("api@example.com", apiAccess: true)
    let apiPassword = Secret("typed token phrase 7")
    try await h.directory.setAPIPassword(.typed(apiPassword), of: user.id, by: h.asAdmin)
    let token = try #require(try await h.directory.passwordResetToken(for: "api@example.com"))
    let same = await expectError(.weakPassword) {
      _ = try await h.directory.resetPassword(token: token, newPassword: apiPassword)
    }
    #expect(same?.passwordViolations == ["same_as_api_password"])
    // The refusal used the token up: no second guess with it, right or wrong.
    await expectError(.invalidToken) {
      _ = try await h.directory.resetPassword(
        token: token, newPassword: Secret("a different fine passphrase"))
    }
    // A password the policy refuses says nothing about the API password, and keeps the token.
    h.clock.advance(by: 61)
    let next = try #require(try await h.directory.passwordResetToken(for: "api@example.com"))
    await expectError(.weakPassword) {
      _ = try await h.directory.resetPassword(token: next, newPassword: Secret("short"))
    }
    _ = try await h.directory.resetPassword(
      token: next, newPassword: Secret("a different fine passphrase"))
  }

  @Test("6. An administrator cannot test guesses of another user's password against the rule")
  func administratorsLearnNothingFromTheRule() async throws {
    let h = try await Harness()
    let user = try await h.add("api@example.com", apiAccess: true)
    let apiPassword = Secret("typed token phrase 7")
    try await h.directory.setAPIPassword(.typed(apiPassword), of: user.id, by: h.asAdmin)
    // A refusal here would confirm that the guess is the user's current password, without the
    // sign-in throttle and without an audit event; so another user's stored credential is not
    // compared, and each guess is an ordinary, audited change.
    h.hasher.reset()
    try await h.directory.setAPIPassword(.typed(Harness.password), of: user.id, by: h.asAdmin)
    #expect(h.hasher.verificationCount == 0, "the login password was not checked")
    _ = try await h.directory.setPassword(.typed(Harness.password), of: user.id, by: h.asAdmin)
    #expect(h.hasher.verificationCount == 0, "the API password was not checked")
    // Set together in one edit, typed values are still compared: nothing stored is involved.
    await expectError(.weakPassword) {
      _ = try await h.directory.updateUser(
        user.id, with: UserUpdate(password: .typed(apiPassword), apiPassword: .typed(apiPassword)),
        by: h.asAdmin)
    }
  }

  @Test("6. A session cannot test guesses of its own login password by typing API passwords")
  func anAdministratorsOwnAPIPasswordIsGeneratedNeverTyped() async throws {
    let h = try await Harness()
    try await h.directory.setAPIAccess(true, of: h.admin.id, by: h.asAdmin)
    // Were a typed value compared with the login password, a refusal would confirm a guess
    // with no proof of that password, outside the sign-in throttle. Right guess or wrong, the
    // answer is the same refusal, and nothing is hashed, checked or written.
    h.hasher.reset()
    let events = try await h.allEvents().count
    for guess in [h.adminPassword, Secret("a wrong guess of it 12")] {
      let error = await expectError(.invalidOperation) {
        try await h.directory.setAPIPassword(.typed(guess), of: h.admin.id, by: h.asAdmin)
      }
      #expect(error?.context["field"] == "apiPassword")
      #expect(error?.context["reason"] == "typed_own_api_password")
    }
    #expect(h.hasher.verificationCount == 0 && h.hasher.kdfCount == 0)
    #expect(try await h.allEvents().count == events)
    // Their own generated one is fine, and another administrator may still type one for them.
    let generated = try await h.directory.setAPIPassword(
      .generated, of: h.admin.id, by: h.asAdmin)
    #expect(generated.generatedAPIPassword != nil)
    let other = try await h.add("second-admin@example.com", role: .admin)
    let typed = try await h.directory.setAPIPassword(
      .typed(Secret("typed by a colleague 31")), of: h.admin.id, by: .user(other.id))
    #expect(typed.user.hasAPIPassword)
  }

  // MARK: 7. A literal id never widens through JSON

  @Test("7. Ids that read as selectors in JSON are refused", arguments: ["*", "parent:x"])
  func reservedIdsAreRefused(_ id: String) {
    let document = PolicyDocument(
      name: "P",
      permissions: [Permission(resourceType: "doc", allowed: [.view], resourceIds: [.id(id)])])
    #expect {
      _ = try document.validated()
    } throws: { error in
      (error as? UserManagementError)?.reason == "reserved_id"
    }
  }

  // MARK: 9. The PBKDF2 ceiling bounds work, not iterations

  @Test("9. A PBKDF2 hash whose long key multiplies the work past the ceiling is refused")
  func pbkdf2WorkIsBounded() throws {
    let salt = Base64Text.encode(Array(repeating: 1, count: 16))
    let key128 = Base64Text.encode(Array(repeating: 2, count: 128))
    // 3,000,000 iterations are under the 10,000,000 ceiling; four 32-byte blocks are not.
    let native = PasswordHash(encoded: "$pbkdf2-sha256$i=3000000,l=128$\(salt)$\(key128)")
    #expect(throws: UserManagementError.self) {
      _ = try PBKDF2PasswordHasher().needsRehash(native)
    }
    // ASP.NET Core Identity v3: SHA-1 (20-byte blocks), a 64-byte key, 3,000,000 iterations.
    var blob: [UInt8] = [0x01, 0, 0, 0, 0]
    blob += [0x00, 0x2D, 0xC6, 0xC0]  // 3,000,000
    blob += [0, 0, 0, 16] + Array(repeating: 3, count: 16) + Array(repeating: 4, count: 64)
    let aspnet = PasswordHash(encoded: Base64Text.encodePadded(blob))
    #expect(throws: UserManagementError.self) {
      _ = try MigratingPasswordHasher().needsRehash(aspnet)
    }
  }

  // MARK: 10. Only known algorithm identifiers are ever shown

  @Test(
    "10. Hash material in the algorithm slot reads as unknown",
    arguments: ["5f4dcc3b5aa765d61d8327deb882cf99$salt", "$deadbeefcafe$x$y", "abc$def"])
  func unknownAlgorithmsAreNotEchoed(_ encoded: String) {
    let hash = PasswordHash(encoded: encoded)
    #expect(hash.algorithm == "unknown")
    #expect(!hash.description.contains("5f4d"))
    #expect(!hash.description.contains("deadbeef"))
  }

  // MARK: 11. Common phrases with separators are blocked

  @Test(
    "11. Common passwords behind separators or repeats are refused",
    arguments: [
      "correct horse battery staple", "Correct-Horse-Battery-Staple",
      "password password password", "qwertyuiop asdfghjkl", "iloveyou_iloveyou_iloveyou",
    ])
  func foldedPhrasesAreBlocked(_ password: String) {
    let violations = PasswordPolicy().violations(of: Secret(password), username: nil)
    #expect(violations.map(\.code).contains("common_password"))
  }

  @Test("11. A phrase of several uncommon words stays acceptable")
  func uncommonPhrasesPass() {
    #expect(
      PasswordPolicy().violations(of: Secret("violet tangerine orbit fjord"), username: nil)
        .isEmpty)
  }

  // MARK: 14. A pending password change denies authorization when the host opts in

  @Test("14. isAllowed refuses a user who must change their password, when enforced")
  func pendingPasswordChangeDeniesAuthorization() async throws {
    let store = InMemoryDirectoryStore()
    let directory = UserDirectory(
      store: store,
      configuration: .init(
        passwordHasher: PBKDF2PasswordHasher(insecureIterations: 2),
        requirePasswordChangeBeforeActing: true))
    let admin = try await directory.bootstrap(
      NewUser(
        username: "admin@example.com", firstName: "A", lastName: "A",
        password: .typed(Secret("a steady lighthouse 1")))
    ).user
    let readers = try await directory.createPolicy(
      PolicyDocument(
        name: "Readers",
        permissions: [Permission(resourceType: "doc", allowed: [.view], resourceIds: [.any])]),
      by: .user(admin.id))
    let user = try await directory.addUser(
      NewUser(
        username: "reader@example.com", firstName: "R", lastName: "R", password: .generated,
        policies: [readers.id]), by: .user(admin.id)
    ).user
    #expect(user.mustChangePassword)
    let decision = try await directory.explain(
      user.id, to: .view, on: Resource(type: "doc", id: "1"))
    #expect(!decision.isAllowed)
    #expect(decision.reason == .passwordChangeRequired)
  }

  // MARK: 15. Resource ids and usernames match exactly, byte for byte

  @Test("15. A grant on K1 does not allow \\u{212A}1 (KELVIN SIGN), nor a parent's lookalike")
  func resourceIdsMatchByBytes() {
    let permission = Permission(
      resourceType: "doc", allowed: [.view], resourceIds: [.id("K1"), .childrenOf("K2")])
    #expect(permission.grants(.view, on: Resource(type: "doc", id: "K1")))
    #expect(!permission.grants(.view, on: Resource(type: "doc", id: "\u{212A}1")))
    #expect(!permission.grants(.view, on: Resource(type: "doc", id: "c", parentID: "\u{212A}2")))
  }

  @Test("15. A username spelled with a canonically equivalent character finds no account")
  func usernamesMatchByBytes() async throws {
    let h = try await Harness()
    _ = try await h.add("a`b@example.com")
    // U+1FEF GREEK VARIA is canonically equivalent to the backquote.
    let lookalike = "a\u{1FEF}b@example.com"
    #expect(lookalike == "a`b@example.com", "Swift's String == says they are equal")
    await expectError(.userNotFound) {
      _ = try await h.directory.user(named: lookalike, by: h.asAdmin)
    }
    await expectError(.invalidCredentials) {
      _ = try await h.directory.signInWithPassword(username: lookalike, password: Harness.password)
    }
    _ = try await h.directory.signInWithPassword(
      username: "A`B@example.com", password: Harness.password)
  }

  // MARK: 17. Sign-in outcomes are observable

  @Test("17. Every sign-in outcome reaches the observer, with no secret in it")
  func signInsAreObservable() async throws {
    let events = Recorder<SignInEvent>()
    let clock = TestClock()
    let directory = UserDirectory(
      store: InMemoryDirectoryStore(),
      configuration: .init(
        passwordHasher: PBKDF2PasswordHasher(insecureIterations: 2),
        loginThrottle: LoginThrottlePolicy(
          freeAttempts: 1, lockoutThreshold: 2, lockoutDuration: nil),
        now: clock.function, signInObserver: { events.append($0) }))
    let password = Secret("a steady lighthouse 1")
    let admin = try await directory.bootstrap(
      NewUser(
        username: "admin@example.com", firstName: "A", lastName: "A",
        password: .typed(password))
    ).user
    let sleeper = try await directory.addUser(
      NewUser(
        username: "sleeper@example.com", firstName: "S", lastName: "S",
        password: .typed(Secret("quiet morning hours 2")), status: .inactive),
      by: .user(admin.id)
    ).user

    _ = try await directory.signInWithPassword(username: "admin@example.com", password: password)
    _ = try? await directory.signInWithPassword(username: "nobody@example.com", password: password)
    _ = try? await directory.signInWithPassword(
      username: "sleeper@example.com", password: Secret("quiet morning hours 2"))
    _ = try? await directory.signInWithPassword(
      username: "admin@example.com", password: Secret("wrong guess number 1"))
    _ = try? await directory.signInWithPassword(
      username: "admin@example.com", password: Secret("wrong guess number 2"))
    clock.advance(by: 60)
    _ = try? await directory.signInWithPassword(
      username: "admin@example.com", password: Secret("wrong guess number 3"))
    _ = try? await directory.signInWithPassword(username: "admin@example.com", password: password)

    let recorded = events.values
    #expect(
      recorded.map(\.outcome) == [
        .succeeded, .unknownAccount, .accountInactive, .invalidCredentials, .throttled,
        .invalidCredentials, .locked,
      ])
    #expect(
      recorded.map(\.userID) == [
        admin.id, nil, sleeper.id, admin.id, admin.id, admin.id, admin.id,
      ])
    #expect(recorded.allSatisfy { $0.credential == .password })
    for event in recorded {
      #expect(!event.description.contains("lighthouse"))
      #expect(!event.description.contains("example.com"))
    }
  }
}

/// The second review's findings on the fixes above, each with the probe that failed.
@Suite("Security review: the fixes' own gaps")
struct SecurityReviewFollowUpTests {
  static func document(_ selectors: [ResourceSelector], name: String = "P") -> PolicyDocument {
    PolicyDocument(
      name: name,
      permissions: [Permission(resourceType: "doc", allowed: [.view], resourceIds: selectors)])
  }

  @Test("A grant moved to a canonically equivalent spelling really moves")
  func byteChangesToAPolicyAreChanges() async throws {
    let h = try await Harness()
    let policy = try await h.directory.createPolicy(
      Self.document([.id("\u{212A}1")]), by: h.asAdmin)
    let user = try await h.add("reader@example.com", policies: [policy.id])
    let updated = try await h.directory.updatePolicy(
      policy.id, with: Self.document([.id("K1")]), by: h.asAdmin)
    #expect(updated.version == 2)
    #expect(
      try await h.directory.isAllowed(user.id, to: .view, on: Resource(type: "doc", id: "K1")))
    #expect(
      try await !h.directory.isAllowed(
        user.id, to: .view, on: Resource(type: "doc", id: "\u{212A}1")))
  }

  @Test("Messages never quote raw control characters or unbounded text from a request")
  func messagesQuoteSafely() async throws {
    let hostile = "\u{1B}]0;owned\u{07}" + String(repeating: "x", count: 100_000)
    let json =
      #"[{"name":"\#(hostile.replacingOccurrences(of: "\u{1B}", with: "\\u001b").replacingOccurrences(of: "\u{07}", with: "\\u0007"))","permissions":[]}]"#
    #expect {
      _ = try PolicyDocument.decodeList(from: Array(json.utf8))
    } throws: { error in
      guard let error = error as? UserManagementError else { return false }
      return !error.message.unicodeScalars.contains("\u{1B}") && error.message.utf8.count < 1000
    }
    let h = try await Harness()
    let result = try await h.directory.importUsers(
      [PortableUser(username: "a@example.com", firstName: "A", lastName: "A", policies: [hostile])],
      by: h.asAdmin)
    let issue = try #require(result.issues.first)
    #expect(!issue.error.message.unicodeScalars.contains("\u{1B}"))
    #expect(issue.error.message.utf8.count < 1000)
    #expect {
      _ = try PortableUser(
        jsonLine: Array(
          #"{"username":"a@example.com","firstName":"A","lastName":"B","\u001b[2J":1}"#.utf8))
    } throws: { error in
      guard let error = error as? UserManagementError else { return false }
      return !error.message.unicodeScalars.contains("\u{1B}")
    }
  }

  @Test(
    "A system principal's name is held to the rules of a name",
    arguments: [
      "\u{1B}[2Jjob", String(repeating: "j", count: 1_000), " padded ", "",
    ])
  func systemPrincipalNamesAreBounded(_ name: String) async throws {
    let h = try await Harness()
    await expectError(.invalidField) {
      _ = try await h.directory.createPolicy(Self.document([.any]), by: .system(name))
    }
  }

  @Test("A policy's size is bounded as a whole, not only per string")
  func policySizeIsBounded() {
    let many = (0..<2_000).map { ResourceSelector.id("r\($0)") }
    #expect {
      _ = try Self.document(many).validated()
    } throws: { error in
      (error as? UserManagementError)?.reason == "too_many"
    }
  }

  @Test("A migrated user's NFD login password cannot be made equal to their API password")
  func legacyHashAndNFDSecretStayDistinct() async throws {
    let h = try await Harness(
      hasher: MigratingPasswordHasher(preferred: PBKDF2PasswordHasher(insecureIterations: 2)))
    let login = "Grüße aus Köln am Rhein 1848"
    let salt = "saltsaltsalt"
    let key = try PBKDF2.deriveKey(
      password: Array(login.utf8), salt: Array(salt.utf8), iterations: 1_000, keyByteCount: 32,
      hashFunction: SHA256.self)
    let django = "pbkdf2_sha256$1000$\(salt)$\(Data(key).base64EncodedString())"
    let imported = try await h.directory.importUsers(
      [
        PortableUser(
          username: "migrated@example.com", firstName: "M", lastName: "M",
          apiAccessEnabled: true, passwordHash: PasswordHash(encoded: django))
      ], by: h.asAdmin)
    let user = try #require(imported.users.first)
    let api = "Über die Brücke nach Süden 1999"
    let nfd = api.decomposedStringWithCanonicalMapping
    #expect(Array(api.utf8) != Array(nfd.utf8))
    try await h.directory.setAPIPassword(.typed(Secret(api)), of: user.id, by: h.asAdmin)
    // The new login password, spelled decomposed, is still the API password.
    let error = await expectError(.weakPassword) {
      _ = try await h.directory.changeOwnPassword(
        of: user.id, current: Secret(login), new: Secret(nfd))
    }
    #expect(error?.passwordViolations == ["same_as_api_password"])
  }

  @Test("Ids and parents that start with a combining mark are refused")
  func combiningMarksCannotHideAPrefix() {
    for selector in [ResourceSelector.id("parent:\u{301}x"), .childrenOf("\u{301}x")] {
      #expect(throws: UserManagementError.self) {
        _ = try Self.document([selector]).validated()
      }
    }
    #expect(ResourceSelector("parent:\u{301}x") == .childrenOf("\u{301}x"))
  }

  @Test("changeOwnPassword answers an unknown account as it answers a wrong password")
  func unknownAccountLooksLikeAWrongPassword() async throws {
    let h = try await Harness()
    await expectError(.invalidCredentials) {
      _ = try await h.directory.changeOwnPassword(
        of: UserID(rawValue: UUID()), current: Secret("a guess at it"),
        new: Secret("another fine passphrase"))
    }
  }

  @Test("A token-shaped guess at an account with a typed API password names the account")
  func tokenGuessNamesTheAccount() async throws {
    let events = Recorder<SignInEvent>()
    let directory = UserDirectory(
      store: InMemoryDirectoryStore(),
      configuration: .init(
        passwordHasher: PBKDF2PasswordHasher(insecureIterations: 2),
        signInObserver: { events.append($0) }))
    let admin = try await directory.bootstrap(
      NewUser(
        username: "admin@example.com", firstName: "A", lastName: "A",
        password: .typed(Secret("a steady lighthouse 1")), apiAccessEnabled: true)
    ).user
    try await directory.setAPIPassword(
      .typed(Secret("typed token phrase 7")), of: admin.id, by: .system("setup"))
    let token = APIPasswordGenerator().generate()
    _ = try? await directory.authenticateAPI(username: "admin@example.com", apiPassword: token)
    let event = try #require(events.values.last)
    #expect(event.outcome == .invalidCredentials)
    #expect(event.userID == admin.id)
  }
}

/// Collects values from a `@Sendable` callback.
final class Recorder<Value: Sendable>: Sendable {
  private let storage = Locked<[Value]>([])

  func append(_ value: Value) { storage.withLock { $0.append(value) } }

  var values: [Value] { storage.withLock { $0 } }
}

/// Base64 for building hashes in tests, without reaching into the library's encoder.
enum Base64Text {
  /// Standard alphabet, unpadded (PHC strings).
  static func encode(_ bytes: [UInt8]) -> String {
    var text = Data(bytes).base64EncodedString()
    while text.hasSuffix("=") { text.removeLast() }
    return text
  }

  /// Standard alphabet, padded.
  static func encodePadded(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
}
