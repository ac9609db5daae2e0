import Testing
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Directory rules")
struct DirectoryRulesTests {
  @Test func bootstrapOnlyOnAnEmptyDirectory() async throws {
    let h = try await Harness()
    #expect(h.admin.role == .admin && h.admin.status == .active)
    #expect(!h.admin.mustChangePassword)
    let before = h.hasher.kdfCount
    await expectError(.alreadyBootstrapped) {
      try await h.directory.bootstrap(
        NewUser(
          username: "second@example.com", firstName: "S", lastName: "S",
          password: .typed(Harness.password)))
    }
    #expect(h.hasher.kdfCount == before, "a refused bootstrap costs no hashing")
    let events = try await h.allEvents()
    #expect(events.map(\.action) == [.userBootstrapped])
    #expect(events[0].actor == .system("bootstrap"))
  }

  @Test func bootstrapForcesAnActiveAdministrator() async throws {
    let directory = UserDirectory(
      store: InMemoryDirectoryStore(),
      configuration: .init(passwordHasher: PBKDF2PasswordHasher(insecureIterations: 1)))
    let result = try await directory.bootstrap(
      NewUser(
        username: "root@example.com", firstName: "R", lastName: "R", password: .generated,
        status: .inactive, role: .generalUser))
    #expect(result.user.isActiveAdmin)
    let generated = try #require(result.generatedPassword)
    #expect(generated.byteCount >= 15)
    let signedIn = try await directory.authenticate(
      username: "ROOT@example.com", password: generated)
    #expect(signedIn.user.id == result.user.id)
  }

  @Test func generalUsersAreRefusedEveryAdminOperation() async throws {
    let h = try await Harness()
    let policy = try await h.directory.createPolicy(
      PolicyDocument(
        name: "P",
        permissions: [Permission(resourceType: "t", allowed: [.view], resourceIds: [.any])]),
      by: h.asAdmin)
    let general = try await h.add("general@example.com", policies: [policy.id])
    let other = try await h.add("other@example.com")
    let me = Principal.user(general.id)
    let d = h.directory
    let doc = PolicyDocument(
      name: "Q", permissions: [Permission(resourceType: "t", allowed: [.view], resourceIds: [.any])]
    )
    let operations: [(String, () async throws -> Void)] = [
      (
        "addUser",
        {
          try await d.addUser(
            NewUser(username: "x@example.com", firstName: "X", lastName: "X", password: .generated),
            by: me)
        }
      ),
      ("deactivate other", { try await d.setStatus(.inactive, of: other.id, by: me) }),
      ("deactivate self", { try await d.setStatus(.inactive, of: general.id, by: me) }),
      ("promote self", { try await d.setRole(.admin, of: general.id, by: me) }),
      ("promote other", { try await d.setRole(.admin, of: other.id, by: me) }),
      ("set own policies", { try await d.setPolicies([], of: general.id, by: me) }),
      ("set other's policies", { try await d.setPolicies([policy.id], of: other.id, by: me) }),
      (
        "set own password as admin",
        {
          try await d.setPassword(.generated, of: general.id, by: me)
        }
      ),
      ("set other's password", { try await d.setPassword(.generated, of: other.id, by: me) }),
      ("enable own API access", { try await d.setAPIAccess(true, of: general.id, by: me) }),
      (
        "generate own API password",
        {
          try await d.setAPIPassword(.generated, of: general.id, by: me)
        }
      ),
      ("edit other's name", { try await d.updateProfile(of: other.id, firstName: "Y", by: me) }),
      ("read other", { _ = try await d.user(other.id, by: me) }),
      ("read other by name", { _ = try await d.user(named: "other@example.com", by: me) }),
      ("read unknown", { _ = try await d.user(UserID(rawValue: UUID()), by: me) }),
      ("list users", { _ = try await d.users(by: me) }),
      ("count users", { _ = try await d.userCount(by: me) }),
      ("read audit", { _ = try await d.auditEvents(by: me) }),
      ("subscribe to audit", { _ = try await d.auditEventStream(by: me) }),
      ("create policy", { try await d.createPolicy(doc, by: me) }),
      ("update policy", { try await d.updatePolicy(policy.id, with: doc, by: me) }),
      ("delete policy", { try await d.deletePolicy(policy.id, by: me) }),
      (
        "import policies",
        {
          try await d.importPolicies([doc], by: me)
        }
      ),
      ("reset throttle", { try await d.resetLoginThrottle(of: other.id, by: me) }),
    ]
    let kdfBefore = h.hasher.kdfCount
    let eventsBefore = try await h.allEvents().count
    for (name, operation) in operations {
      do {
        try await operation()
        Issue.record("\(name) succeeded for a General User")
      } catch UserManagementError.Code.notAuthorized {
      } catch {
        Issue.record("\(name): expected not_authorized, got \(error)")
      }
    }
    #expect(h.hasher.kdfCount == kdfBefore, "refusals cost no hashing")
    #expect(try await h.allEvents().count == eventsBefore, "refusals change nothing")
    // What a General User may do: read themselves, edit their own name, read policies.
    #expect(try await d.user(general.id, by: me).id == general.id)
    #expect(
      try await d.updateProfile(of: general.id, firstName: "  Gen ", by: me).firstName == "Gen")
    #expect(try await d.policies(by: me).count == 1)
  }

  @Test func nobodyChangesTheirOwnStatusOrRole() async throws {
    let h = try await Harness()
    try await h.add("second-admin@example.com", role: .admin)
    await expectError(.selfModificationForbidden) {
      try await h.directory.setStatus(.inactive, of: h.admin.id, by: h.asAdmin)
    }
    await expectError(.selfModificationForbidden) {
      try await h.directory.setRole(.generalUser, of: h.admin.id, by: h.asAdmin)
    }
    await expectError(.selfModificationForbidden) {
      try await h.directory.updateUser(
        h.admin.id, with: UserUpdate(firstName: "New", status: .inactive), by: h.asAdmin)
    }
    await expectError(.invalidOperation) {
      try await h.directory.setPassword(.generated, of: h.admin.id, by: h.asAdmin)
    }
    // Re-stating the current values is not a change and is allowed (the console's form sends
    // every field).
    let same = try await h.directory.updateUser(
      h.admin.id, with: UserUpdate(lastName: "Renamed", status: .active, role: .admin),
      by: h.asAdmin)
    #expect(same.user.lastName == "Renamed")
    #expect(try await h.directory.user(h.admin.id, by: h.asAdmin).isActiveAdmin)
  }

  @Test func inactiveAdministratorsCannotAct() async throws {
    let h = try await Harness()
    let second = try await h.add("second@example.com", role: .admin)
    try await h.directory.setStatus(.inactive, of: second.id, by: h.asAdmin)
    await expectError(.notAuthorized) { _ = try await h.directory.users(by: .user(second.id)) }
    await expectError(.notAuthorized) {
      try await h.directory.setStatus(.inactive, of: h.admin.id, by: .user(second.id))
    }
    await expectError(.notAuthorized) {
      _ = try await h.directory.user(second.id, by: .user(second.id))
    }
  }

  @Test func theLastActiveAdministratorStays() async throws {
    let h = try await Harness()
    let system = Principal.system("maintenance")
    await expectError(.lastActiveAdministrator) {
      try await h.directory.setStatus(.inactive, of: h.admin.id, by: system)
    }
    await expectError(.lastActiveAdministrator) {
      try await h.directory.setRole(.generalUser, of: h.admin.id, by: system)
    }
    let second = try await h.add("second@example.com", role: .admin)
    try await h.directory.setStatus(.inactive, of: h.admin.id, by: .user(second.id))
    #expect(
      try await h.directory.userCount(
        matching: UserFilter(status: .active, role: .admin), by: system) == 1)
  }

  @Test func usernamesAreUniqueCaseInsensitivelyAndKeptAsTyped() async throws {
    let h = try await Harness()
    let user = try await h.add("Grace.Hopper@Navy.MIL")
    #expect(user.username.rawValue == "Grace.Hopper@Navy.MIL")
    await expectError(.usernameTaken) { try await h.add("grace.hopper@navy.mil") }
    await expectError(.usernameTaken) { try await h.add("ADMIN@example.com") }
    await expectError(.invalidUsername) { try await h.add("not an email") }
    #expect(
      try await h.directory.user(named: "GRACE.hopper@navy.mil", by: h.asAdmin).id == user.id)
    // Every edit keeps the username.
    let edited = try await h.directory.updateUser(
      user.id,
      with: UserUpdate(
        firstName: "G", lastName: "H", status: .inactive, role: .admin,
        password: .generated, apiAccessEnabled: true, apiPassword: .generated), by: h.asAdmin)
    #expect(edited.user.username.rawValue == "Grace.Hopper@Navy.MIL")
  }

  @Test func namesAreValidatedWithFieldAndReason() async throws {
    let h = try await Harness()
    let error = await expectError(.invalidField) {
      try await h.directory.addUser(
        NewUser(
          username: "n@example.com", firstName: "Ok", lastName: "Bad\u{7}",
          password: .typed(Harness.password)), by: h.asAdmin)
    }
    #expect(error?.context == ["field": "lastName", "reason": "control_character"])
    let user = try await h.add("m@example.com")
    let empty = await expectError(.invalidField) {
      try await h.directory.updateProfile(of: user.id, firstName: " ", by: h.asAdmin)
    }
    #expect(empty?.context == ["field": "firstName", "reason": "empty"])
  }

  @Test func usersAreNeverDeletedOnlyDeactivated() async throws {
    let h = try await Harness()
    let user = try await h.add("leaver@example.com")
    try await h.directory.setStatus(.inactive, of: user.id, by: h.asAdmin)
    let read = try await h.directory.user(user.id, by: h.asAdmin)
    #expect(read.status == .inactive)
    #expect(try await h.directory.userCount(by: h.asAdmin) == 2)
    await expectError(.accountInactive) {
      _ = try await h.directory.authenticate(
        username: "leaver@example.com", password: Harness.password)
    }
    try await h.directory.setStatus(.active, of: user.id, by: h.asAdmin)
    #expect(
      try await h.directory.authenticate(username: "leaver@example.com", password: Harness.password)
        .user.id == user.id)
  }

  @Test func versionsAndSecurityStamps() async throws {
    let h = try await Harness()
    let user = try await h.add("v@example.com")
    #expect(user.version == 1)
    let renamed = try await h.directory.updateProfile(of: user.id, firstName: "Vee", by: h.asAdmin)
    #expect(renamed.version == 2)
    #expect(renamed.securityStamp == user.securityStamp, "a name change keeps sessions")
    await expectError(.versionConflict) {
      try await h.directory.updateUser(
        user.id, with: UserUpdate(lastName: "Stale"), expectedVersion: 1, by: h.asAdmin)
    }
    let current = try await h.directory.updateUser(
      user.id, with: UserUpdate(lastName: "Fresh"), expectedVersion: 2, by: h.asAdmin)
    #expect(current.user.version == 3)
    var stamp = current.user.securityStamp
    let changes: [UserUpdate] = [
      UserUpdate(status: .inactive), UserUpdate(status: .active), UserUpdate(role: .admin),
      UserUpdate(role: .generalUser), UserUpdate(password: .generated),
      UserUpdate(apiAccessEnabled: true), UserUpdate(apiPassword: .generated),
      UserUpdate(apiAccessEnabled: false),
    ]
    for change in changes {
      let updated = try await h.directory.updateUser(user.id, with: change, by: h.asAdmin).user
      #expect(updated.securityStamp != stamp, "\(change) changes the security stamp")
      stamp = updated.securityStamp
    }
    // A no-op edit commits nothing.
    let events = try await h.allEvents().count
    let noop = try await h.directory.updateUser(
      user.id, with: UserUpdate(lastName: "Fresh"), by: h.asAdmin)
    #expect(noop.user.securityStamp == stamp)
    #expect(try await h.allEvents().count == events)
  }

  @Test func adminSetPasswordsMustBeChanged() async throws {
    let h = try await Harness()
    let created = try await h.directory.addUser(
      NewUser(username: "c@example.com", firstName: "C", lastName: "C", password: .generated),
      by: h.asAdmin)
    let generated = try #require(created.generatedPassword)
    #expect(created.user.mustChangePassword)
    let signIn = try await h.directory.authenticate(username: "c@example.com", password: generated)
    #expect(signIn.mustChangePassword)
    let newPassword = Secret("my own new passphrase 2026")
    let changed = try await h.directory.changeOwnPassword(
      of: created.user.id, current: generated, new: newPassword)
    #expect(!changed.mustChangePassword)
    #expect(changed.securityStamp != created.user.securityStamp)
    #expect(
      !(try await h.directory.authenticate(username: "c@example.com", password: newPassword))
        .mustChangePassword)
    await expectError(.invalidCredentials) {
      _ = try await h.directory.authenticate(username: "c@example.com", password: generated)
    }
    // Reset by an admin sets the flag again; the configuration can turn it off.
    let reset = try await h.directory.setPassword(
      .typed(Harness.password), of: created.user.id, by: h.asAdmin)
    #expect(reset.user.mustChangePassword)
    let relaxed = try await Harness(requirePasswordChange: false)
    #expect(try await !relaxed.add("d@example.com").mustChangePassword)
  }

  @Test func pendingPasswordChangesCanBlockEverythingElse() async throws {
    let directory = UserDirectory(
      store: InMemoryDirectoryStore(),
      configuration: .init(
        passwordHasher: PBKDF2PasswordHasher(insecureIterations: 1),
        requirePasswordChangeBeforeActing: true))
    let root = try await directory.bootstrap(
      NewUser(username: "root@example.com", firstName: "R", lastName: "R", password: .generated)
    ).user
    let created = try await directory.addUser(
      NewUser(
        username: "new.admin@example.com", firstName: "N", lastName: "A", password: .generated,
        role: .admin), by: .user(root.id))
    let me = Principal.user(created.user.id)
    let temporary = try #require(created.generatedPassword)
    await expectError(.passwordChangeRequired) { _ = try await directory.users(by: me) }
    await expectError(.passwordChangeRequired) {
      try await directory.updateProfile(of: created.user.id, firstName: "X", by: me)
    }
    await expectError(.passwordChangeRequired) { _ = try await directory.user(root.id, by: me) }
    #expect(try await directory.user(created.user.id, by: me).mustChangePassword)
    try await directory.changeOwnPassword(
      of: created.user.id, current: temporary, new: Secret("my very own passphrase"))
    #expect(try await directory.users(by: me).users.count == 2)
  }

  @Test func changingOwnPasswordNeedsTheCurrentOneAndThePolicy() async throws {
    let h = try await Harness()
    let user = try await h.add("self@example.com")
    await expectError(.invalidCredentials) {
      try await h.directory.changeOwnPassword(
        of: user.id, current: Secret("wrong password entirely"),
        new: Secret("another fine passphrase"))
    }
    let weak = await expectError(.weakPassword) {
      try await h.directory.changeOwnPassword(
        of: user.id, current: Harness.password, new: Secret("short"))
    }
    #expect(weak?.context["reasons"] == "too_short")
    await expectError(.weakPassword) {
      try await h.directory.changeOwnPassword(
        of: user.id, current: Harness.password, new: Secret("xx-self@example.com-xx"))
    }
    try await h.directory.changeOwnPassword(
      of: user.id, current: Harness.password, new: Secret("another fine passphrase"))
    let events = try await h.directory.auditEvents(AuditQuery(targetUser: user.id), by: h.asAdmin)
    #expect(events.first?.action == .passwordChanged)
    #expect(events.first?.actor == .user(user.id))
  }

  @Test func systemPrincipalIsAuditedAndBoundByInvariants() async throws {
    let h = try await Harness()
    let job = Principal.system("hr-sync")
    let user = try await h.directory.addUser(
      NewUser(
        username: "imported@example.com", firstName: "I", lastName: "I", password: .generated),
      by: job
    ).user
    #expect(user.createdBy == job)
    let event = try #require(
      try await h.directory.auditEvents(AuditQuery(actor: job), by: job).first)
    #expect(event.action == .userCreated)
    await expectError(.invalidField) {
      _ = try await h.directory.users(by: .system(""))
    }
    await expectError(.usernameTaken) {
      try await h.directory.addUser(
        NewUser(
          username: "Imported@example.com", firstName: "I", lastName: "I", password: .generated),
        by: job)
    }
  }

  @Test func policiesAreForGeneralUsersAndMustExist() async throws {
    let h = try await Harness()
    let policy = try await h.directory.createPolicy(
      PolicyDocument(
        name: "Readers",
        permissions: [Permission(resourceType: "doc", allowed: [.view], resourceIds: [.any])]),
      by: h.asAdmin)
    await expectError(.invalidOperation) {
      try await h.add("a@example.com", role: .admin, policies: [policy.id])
    }
    await expectError(.policyNotFound) {
      try await h.add("b@example.com", policies: [PolicyID(rawValue: UUID())])
    }
    let user = try await h.add("c@example.com", policies: [policy.id])
    #expect(user.policies == [policy.id])
    let promoted = try await h.directory.setRole(.admin, of: user.id, by: h.asAdmin)
    #expect(promoted.policies.isEmpty, "administrators hold no policies")
    await expectError(.invalidOperation) {
      try await h.directory.setPolicies([policy.id], of: user.id, by: h.asAdmin)
    }
    let demoted = try await h.directory.setRole(
      .generalUser, policies: [policy.id], of: user.id, by: h.asAdmin)
    #expect(demoted.policies == [policy.id])
    let event = try #require(
      try await h.directory.auditEvents(AuditQuery(targetUser: user.id, limit: 1), by: h.asAdmin)
        .first)
    #expect(event.action == .roleChanged)
    #expect(Set(event.changes.map(\.field)) == ["role", "policies"])
  }

  @Test func apiAccessAndAPIPasswords() async throws {
    let h = try await Harness()
    let user = try await h.add("robot@example.com")
    await expectError(.invalidOperation) {
      try await h.directory.setAPIPassword(.generated, of: user.id, by: h.asAdmin)
    }
    try await h.directory.setAPIAccess(true, of: user.id, by: h.asAdmin)
    let first = try #require(
      try await h.directory.setAPIPassword(.generated, of: user.id, by: h.asAdmin)
        .generatedAPIPassword)
    #expect(first.revealForDisplay().hasPrefix("umk_"))
    #expect(
      try await h.directory.authenticateAPI(username: "ROBOT@example.com", apiPassword: first).id
        == user.id)
    // The login password is not an API password, and vice versa.
    await expectError(.invalidCredentials) {
      _ = try await h.directory.authenticateAPI(
        username: "robot@example.com", apiPassword: Harness.password)
    }
    await expectError(.invalidCredentials) {
      _ = try await h.directory.authenticate(username: "robot@example.com", password: first)
    }
    // Reset: the old one stops working at once.
    let second = try #require(
      try await h.directory.setAPIPassword(.generated, of: user.id, by: h.asAdmin)
        .generatedAPIPassword)
    await expectError(.invalidCredentials) {
      _ = try await h.directory.authenticateAPI(username: "robot@example.com", apiPassword: first)
    }
    #expect(
      try await h.directory.authenticateAPI(username: "robot@example.com", apiPassword: second).id
        == user.id)
    // A mistyped token fails its checksum before any lookup or hashing.
    var typo = Array(second.revealForDisplay().utf8)
    typo[10] = typo[10] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
    let kdf = h.hasher.kdfCount
    await expectError(.invalidCredentials) {
      _ = try await h.directory.authenticateAPI(
        username: "robot@example.com", apiPassword: Secret(bytes: typo))
    }
    #expect(h.hasher.kdfCount == kdf)
    // Disabling access makes it stop working, and re-enabling does not revive it.
    try await h.directory.setAPIAccess(false, of: user.id, by: h.asAdmin)
    await expectError(.invalidCredentials) {
      _ = try await h.directory.authenticateAPI(username: "robot@example.com", apiPassword: second)
    }
    let reenabled = try await h.directory.setAPIAccess(true, of: user.id, by: h.asAdmin)
    #expect(!reenabled.hasAPIPassword)
    // A typed API password follows the password policy and the slow hash.
    await expectError(.weakPassword) {
      try await h.directory.setAPIPassword(.typed(Secret("short")), of: user.id, by: h.asAdmin)
    }
    let typed = Secret("typed api passphrase 123")
    try await h.directory.setAPIPassword(.typed(typed), of: user.id, by: h.asAdmin)
    h.hasher.reset()
    #expect(
      try await h.directory.authenticateAPI(username: "robot@example.com", apiPassword: typed).id
        == user.id)
    #expect(h.hasher.verificationCount == 1)
    // Inactive users cannot use the API.
    try await h.directory.setStatus(.inactive, of: user.id, by: h.asAdmin)
    await expectError(.accountInactive) {
      _ = try await h.directory.authenticateAPI(username: "robot@example.com", apiPassword: typed)
    }
  }

  @Test func generatedSecretsAreNeverStoredOrAudited() async throws {
    let h = try await Harness()
    let created = try await h.directory.addUser(
      NewUser(
        username: "g@example.com", firstName: "G", lastName: "G", password: .generated,
        apiAccessEnabled: true),
      by: h.asAdmin)
    let password = try #require(created.generatedPassword).revealForDisplay()
    let token = try #require(
      try await h.directory.setAPIPassword(.generated, of: created.user.id, by: h.asAdmin)
        .generatedAPIPassword
    ).revealForDisplay()
    let record = try #require(await h.store.user(id: created.user.id))
    let hashes = [record.passwordHash?.encoded, record.apiPasswordHash?.encoded].compactMap { $0 }
    #expect(hashes.count == 2)
    let encoder = JSONEncoder()
    let audit = String(decoding: try encoder.encode(try await h.allEvents()), as: UTF8.self)
    let user = String(decoding: try encoder.encode(created.user), as: UTF8.self)
    for text in [audit, user, "\(created.user)", "\(record)"] {
      #expect(!text.contains(password))
      #expect(!text.contains(token))
      for hash in hashes { #expect(!text.contains(hash)) }
    }
    #expect(audit.contains("\"isSecret\":true"))
  }
}
