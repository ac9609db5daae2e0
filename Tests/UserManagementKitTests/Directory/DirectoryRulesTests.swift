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
    #expect(h.admin.role == .admin)
    #expect(h.admin.status == .active)
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
    #expect(try #require(events.first).actor == .system("bootstrap"))
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
    let signedIn = try await directory.signInWithPassword(
      username: "ROOT@example.com", password: generated)
    #expect(signedIn.user.id == result.user.id)
  }

  /// A General User who holds a policy, another user, and a policy document to submit.
  struct GeneralUserFixture {
    let h: Harness
    let general: User
    let other: User
    let policy: Policy
    let doc = PolicyDocument(
      name: "Q", permissions: [Permission(resourceType: "t", allowed: [.view], resourceIds: [.any])]
    )
    var me: Principal { .user(general.id) }

    init() async throws {
      h = try await Harness()
      policy = try await h.directory.createPolicy(
        PolicyDocument(
          name: "P",
          permissions: [Permission(resourceType: "t", allowed: [.view], resourceIds: [.any])]),
        by: h.asAdmin)
      general = try await h.add("general@example.com", policies: [policy.id])
      other = try await h.add("other@example.com")
    }
  }

  /// Every operation a General User must be refused.
  enum AdminOperation: String, CaseIterable, Sendable {
    case addUser = "addUser"
    case deactivateOther = "deactivate other"
    case deactivateSelf = "deactivate self"
    case promoteSelf = "promote self"
    case promoteOther = "promote other"
    case setOwnPolicies = "set own policies"
    case setOthersPolicies = "set other's policies"
    case setOwnPasswordAsAdmin = "set own password as admin"
    case setOthersPassword = "set other's password"
    case enableOwnAPIAccess = "enable own API access"
    case generateOwnAPIPassword = "generate own API password"
    case editOthersName = "edit other's name"
    case readOther = "read other"
    case readOtherByName = "read other by name"
    case readUnknown = "read unknown"
    case listUsers = "list users"
    case countUsers = "count users"
    case readAudit = "read audit"
    case subscribeToAudit = "subscribe to audit"
    case createPolicy = "create policy"
    case updatePolicy = "update policy"
    case deletePolicy = "delete policy"
    case importPolicies = "import policies"
    case resetThrottle = "reset throttle"

    /// Runs the operation as the fixture's General User.
    func perform(_ f: GeneralUserFixture) async throws {
      let d = f.h.directory
      let me = f.me
      switch self {
      case .addUser:
        try await d.addUser(
          NewUser(username: "x@example.com", firstName: "X", lastName: "X", password: .generated),
          by: me)
      case .deactivateOther: try await d.setStatus(.inactive, of: f.other.id, by: me)
      case .deactivateSelf: try await d.setStatus(.inactive, of: f.general.id, by: me)
      case .promoteSelf: try await d.setRole(.admin, of: f.general.id, by: me)
      case .promoteOther: try await d.setRole(.admin, of: f.other.id, by: me)
      case .setOwnPolicies: try await d.setPolicies([], of: f.general.id, by: me)
      case .setOthersPolicies: try await d.setPolicies([f.policy.id], of: f.other.id, by: me)
      case .setOwnPasswordAsAdmin: try await d.setPassword(.generated, of: f.general.id, by: me)
      case .setOthersPassword: try await d.setPassword(.generated, of: f.other.id, by: me)
      case .enableOwnAPIAccess: try await d.setAPIAccess(true, of: f.general.id, by: me)
      case .generateOwnAPIPassword:
        try await d.setAPIPassword(.generated, of: f.general.id, by: me)
      case .editOthersName: try await d.updateProfile(of: f.other.id, firstName: "Y", by: me)
      case .readOther: _ = try await d.user(f.other.id, by: me)
      case .readOtherByName: _ = try await d.user(named: "other@example.com", by: me)
      case .readUnknown: _ = try await d.user(UserID(rawValue: UUID()), by: me)
      case .listUsers: _ = try await d.users(by: me)
      case .countUsers: _ = try await d.userCount(by: me)
      case .readAudit: _ = try await d.auditEvents(by: me)
      case .subscribeToAudit: _ = try await d.auditEventStream(by: me)
      case .createPolicy: try await d.createPolicy(f.doc, by: me)
      case .updatePolicy: try await d.updatePolicy(f.policy.id, with: f.doc, by: me)
      case .deletePolicy: try await d.deletePolicy(f.policy.id, by: me)
      case .importPolicies: try await d.importPolicies([f.doc], by: me)
      case .resetThrottle: try await d.resetLoginThrottle(of: f.other.id, by: me)
      }
    }
  }

  @Test(arguments: AdminOperation.allCases)
  func generalUsersAreRefusedEveryAdminOperation(_ operation: AdminOperation) async throws {
    let f = try await GeneralUserFixture()
    let kdfBefore = f.h.hasher.kdfCount
    let eventsBefore = try await f.h.allEvents().count
    await expectError(.notAuthorized) { try await operation.perform(f) }
    #expect(f.h.hasher.kdfCount == kdfBefore, "refusals cost no hashing")
    #expect(try await f.h.allEvents().count == eventsBefore, "refusals change nothing")
  }

  /// What a General User may do: read themselves, edit their own name, read policies.
  @Test func generalUsersReadThemselvesEditTheirOwnNameAndReadPolicies() async throws {
    let f = try await GeneralUserFixture()
    let d = f.h.directory
    #expect(try await d.user(f.general.id, by: f.me).id == f.general.id)
    #expect(
      try await d.updateProfile(of: f.general.id, firstName: "  Gen ", by: f.me).firstName
        == "Gen")
    #expect(try await d.policies(by: f.me).count == 1)
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
      _ = try await h.directory.signInWithPassword(
        username: "leaver@example.com", password: Harness.password)
    }
    try await h.directory.setStatus(.active, of: user.id, by: h.asAdmin)
    #expect(
      try await h.directory.signInWithPassword(
        username: "leaver@example.com", password: Harness.password
      )
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
    let signIn = try await h.directory.signInWithPassword(
      username: "c@example.com", password: generated)
    #expect(signIn.mustChangePassword)
    let newPassword = Secret("my own new passphrase 2026")
    let changed = try await h.directory.changeOwnPassword(
      of: created.user.id, current: generated, new: newPassword)
    #expect(!changed.mustChangePassword)
    #expect(changed.securityStamp != created.user.securityStamp)
    #expect(
      !(try await h.directory.signInWithPassword(username: "c@example.com", password: newPassword))
        .mustChangePassword)
    await expectError(.invalidCredentials) {
      _ = try await h.directory.signInWithPassword(username: "c@example.com", password: generated)
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
      _ = try await h.directory.signInWithPassword(username: "robot@example.com", password: first)
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
