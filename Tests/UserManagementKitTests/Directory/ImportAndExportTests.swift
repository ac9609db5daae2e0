import Synchronization
import Testing
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Importing and exporting users")
struct ImportTests {
  /// A migrating hasher (every known format verifies) whose own hashes are cheap.
  static let hasher = MigratingPasswordHasher(
    preferred: Argon2PasswordHasher(insecureMemoryKiB: 64, iterations: 1))

  func harness() async throws -> Harness {
    try await Harness(hasher: Self.hasher)
  }

  func vector(_ format: String) throws -> (password: String, hash: PasswordHash) {
    let vector = try #require(passwordHashVectors.first { $0.format == format })
    return (vector.password, PasswordHash(encoded: vector.hash))
  }

  @Test func importsUsersWithTheirHashesInOneCommit() async throws {
    let h = try await harness()
    let viewers = try await h.directory.createPolicy(
      PolicyDocument(
        name: "Viewers",
        permissions: [Permission(resourceType: "dashboard", allowed: [.view], resourceIds: [.any])]
      ), by: h.asAdmin)
    let django = try vector("django-pbkdf2_sha256")
    let bcrypt = try vector("bcrypt")
    let eventsBefore = try await h.allEvents().count
    let kdfBefore = h.hasher.kdfCount

    let result = try await h.directory.importUsers(
      [
        PortableUser(
          username: "Grace@Example.com", firstName: "Grace", lastName: "Hopper",
          policies: ["viewers"], passwordHash: django.hash),
        PortableUser(
          username: "alan@example.com", firstName: "Alan", lastName: "Turing", status: .inactive,
          role: .admin, apiAccessEnabled: true, passwordHash: bcrypt.hash),
        PortableUser(username: "nopass@example.com", firstName: "No", lastName: "Password"),
      ], by: h.asAdmin)

    #expect(result.committed)
    #expect(result.issues.isEmpty)
    #expect(result.passwordHashCount == 2)
    #expect(
      result.users.map(\.username.rawValue) == [
        "Grace@Example.com", "alan@example.com", "nopass@example.com",
      ])
    #expect(h.hasher.kdfCount == kdfBefore, "an import derives no key")
    let grace = try await h.directory.user(named: "grace@example.com", by: h.asAdmin)
    #expect(grace.policies == [viewers.id])
    #expect(grace.hasPassword)
    #expect(!grace.mustChangePassword)
    #expect(grace.createdBy == h.asAdmin)
    let alan = try await h.directory.user(named: "alan@example.com", by: h.asAdmin)
    #expect(alan.role == .admin)
    #expect(alan.status == .inactive)
    #expect(alan.apiAccessEnabled)
    #expect(!alan.hasAPIPassword)
    let nopass = try await h.directory.user(named: "nopass@example.com", by: h.asAdmin)
    #expect(!nopass.hasPassword)

    // One event per user, no hash in any of them.
    let events = try await h.allEvents().dropFirst(eventsBefore)
    #expect(events.count == 3)
    #expect(events.allSatisfy { $0.action == .userImported })
    #expect(events.allSatisfy { $0.actor == h.asAdmin })
    #expect(events.first?.changes.contains { $0.field == "password" && $0.isSecret } == true)
    #expect(events.last?.changes.contains { $0.field == "password" } == false)
    let dump = events.map { String(describing: $0) }.joined()
    #expect(!dump.contains(django.hash.encoded))
    #expect(!dump.contains("fJ/zO1Si"))

    // They sign in with the passwords of the old system, and are upgraded.
    let signedIn = try await h.directory.signInWithPassword(
      username: "grace@example.com", password: Secret(django.password))
    #expect(signedIn.rehashed)
    await expectError(.invalidCredentials) {
      _ = try await h.directory.signInWithPassword(
        username: "nopass@example.com", password: Secret("anything at all"))
    }
  }

  @Test func reportsEveryProblemWithItsIndexAndImportsNothing() async throws {
    let h = try await harness()
    try await h.add("taken@example.com")
    let usersBefore = try await h.directory.userCount(by: h.asAdmin)
    let eventsBefore = try await h.allEvents().count
    let items = [
      PortableUser(username: "ok@example.com", firstName: "O", lastName: "K"),
      PortableUser(username: "not an address", firstName: "N", lastName: "A"),
      PortableUser(username: "TAKEN@example.com", firstName: "T", lastName: "T"),
      PortableUser(username: "dup@example.com", firstName: "D", lastName: "1"),
      PortableUser(username: "DUP@example.com", firstName: "D", lastName: "2"),
      PortableUser(username: "blank@example.com", firstName: "  ", lastName: "B"),
      PortableUser(
        username: "policy@example.com", firstName: "P", lastName: "P", policies: ["Nope"]),
      PortableUser(
        username: "admin2@example.com", firstName: "A", lastName: "P", role: .admin,
        policies: ["Nope"]),
      PortableUser(
        username: "hash@example.com", firstName: "H", lastName: "H",
        passwordHash: PasswordHash(encoded: "md5$salt$secret-material")),
      PortableUser(
        username: "costly@example.com", firstName: "C", lastName: "C",
        passwordHash: PasswordHash(
          encoded: "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA")),
      PortableUser(
        username: "broken@example.com", firstName: "B", lastName: "B",
        passwordHash: PasswordHash(encoded: "$pbkdf2-sha256$i=1000,l=32$!!$AAEC")),
    ]

    for dryRun in [false, true] {
      let result = try await h.directory.importUsers(items, dryRun: dryRun, by: h.asAdmin)
      #expect(!result.committed)
      #expect(result.users.isEmpty)
      #expect(result.issues.map(\.index) == [1, 2, 4, 5, 6, 7, 8, 9, 10])
      #expect(
        result.issues.map(\.error.code) == [
          .invalidUsername, .usernameTaken, .usernameTaken, .invalidField, .policyNotFound,
          .invalidOperation, .unsupportedHash, .unsupportedHash, .unsupportedHash,
        ])
      #expect(result.issues[2].error.context["index"] == "3")
      #expect(result.issues[7].error.context["reason"] == "cost_limit")
      #expect(result.issues.allSatisfy { !$0.error.message.contains("secret-material") })
    }
    #expect(try await h.directory.userCount(by: h.asAdmin) == usersBefore)
    #expect(try await h.allEvents().count == eventsBefore)
  }

  @Test func dryRunValidatesWithoutCommitting() async throws {
    let h = try await harness()
    let result = try await h.directory.importUsers(
      [
        PortableUser(
          username: "a@example.com", firstName: "A", lastName: "A",
          passwordHash: try vector("argon2id").hash)
      ], dryRun: true, by: h.asAdmin)
    #expect(result.issues.isEmpty)
    #expect(!result.committed)
    #expect(result.users.map(\.username.rawValue) == ["a@example.com"])
    await expectError(.userNotFound) {
      _ = try await h.directory.user(named: "a@example.com", by: h.asAdmin)
    }
  }

  @Test func onlyActiveAdministratorsImportAndExport() async throws {
    let h = try await harness()
    let general = try await h.add("general@example.com")
    let item = [PortableUser(username: "x@example.com", firstName: "X", lastName: "X")]
    await expectError(.notAuthorized) {
      _ = try await h.directory.importUsers(item, by: .user(general.id))
    }
    await expectError(.notAuthorized) {
      _ = try await h.directory.importUsers(item, dryRun: true, by: .user(general.id))
    }
    await expectError(.notAuthorized) {
      _ = try await h.directory.exportUsers(by: .user(general.id))
    }
    await expectError(.notAuthorized) {
      _ = try await h.directory.passwordHashCensus(by: .user(general.id))
    }
    // A trusted host job may import, as it may add users.
    let result = try await h.directory.importUsers(item, by: .system("hr-sync"))
    #expect(result.committed)
  }

  @Test func exportRoundTripsThroughImport() async throws {
    let source = try await harness()
    _ = try await source.directory.createPolicy(
      PolicyDocument(
        name: "Editors",
        permissions: [Permission(resourceType: "doc", allowed: [.edit], resourceIds: [.any])]),
      by: source.asAdmin)
    _ = try await source.directory.importUsers(
      [
        PortableUser(
          username: "e@example.com", firstName: "E", lastName: "E", policies: ["EDITORS"],
          apiAccessEnabled: true, passwordHash: try vector("django-argon2").hash),
        PortableUser(username: "n@example.com", firstName: "N", lastName: "N", status: .inactive),
      ], by: source.asAdmin)

    let withoutHashes = try await source.directory.exportUsers(by: source.asAdmin)
    #expect(
      withoutHashes.map(\.username) == ["Admin@Example.com", "e@example.com", "n@example.com"])
    #expect(withoutHashes.allSatisfy { $0.passwordHash == nil })
    try #require(withoutHashes.count == 3)
    #expect(withoutHashes[1].policies == ["Editors"])
    #expect(withoutHashes[1].apiAccessEnabled)

    let exported = try await source.directory.exportUsers(
      includingPasswordHashes: true, by: source.asAdmin)
    try #require(exported.count == 3)
    #expect(exported[1].passwordHash == (try vector("django-argon2").hash))
    #expect(exported[2].passwordHash == nil)

    let target = try await harness()
    _ = try await target.directory.createPolicy(
      PolicyDocument(
        name: "editors",
        permissions: [Permission(resourceType: "doc", allowed: [.view], resourceIds: [.any])]),
      by: target.asAdmin)
    let result = try await target.directory.importUsers(
      Array(exported.dropFirst()), by: target.asAdmin)
    #expect(result.committed)
    let again = try await target.directory.exportUsers(
      includingPasswordHashes: true, by: target.asAdmin)
    try #require(Array(again.dropFirst()).map(\.username) == ["e@example.com", "n@example.com"])
    #expect(again[1].passwordHash == exported[1].passwordHash)
    #expect(again[1].policies == ["editors"])
    _ = try await target.directory.signInWithPassword(
      username: "e@example.com", password: Secret(try vector("django-argon2").password))
  }

  @Test func theResultCountsTheHashesWeakerThanTheDirectorysOwn() async throws {
    let h = try await harness()
    let own = try Self.hasher.hash(Secret("a password hashed here"))
    let items = [
      PortableUser(
        username: "ldap@example.com", firstName: "L", lastName: "L",
        passwordHash: try vector("ldap-ssha").hash),
      PortableUser(
        username: "weak-argon@example.com", firstName: "W", lastName: "W",
        passwordHash: try vector("argon2id").hash),
      PortableUser(username: "own@example.com", firstName: "O", lastName: "O", passwordHash: own),
      PortableUser(username: "none@example.com", firstName: "N", lastName: "N"),
    ]
    let planned = try await h.directory.importUsers(items, dryRun: true, by: h.asAdmin)
    #expect(planned.passwordHashCount == 3)
    #expect(planned.passwordHashesNeedingRehash == 2, "a legacy format, and Argon2 at m=32")
    let imported = try await h.directory.importUsers(items, by: h.asAdmin)
    #expect(imported.committed && imported.passwordHashesNeedingRehash == 2)
  }

  /// The `user.password_hash_exported` events in `h`'s directory, oldest first.
  func hashExportEvents(_ h: Harness) async throws -> [AuditEvent] {
    try await h.directory.auditEvents(AuditQuery(limit: 10_000, newestFirst: false), by: h.asAdmin)
      .filter { $0.action == .passwordHashExported }
  }

  @Test func aHashExportIsAuditedForEachUserWhoseHashItHolds() async throws {
    let h = try await harness()
    let imported = try await h.directory.importUsers(
      [
        PortableUser(
          username: "h@example.com", firstName: "H", lastName: "H",
          passwordHash: try vector("django-argon2").hash),
        PortableUser(username: "n@example.com", firstName: "N", lastName: "N"),
      ], by: h.asAdmin)
    let withHash = try #require(imported.users.first)

    _ = try await h.directory.exportUsers(by: h.asAdmin)
    #expect(try await hashExportEvents(h).isEmpty, "an export without hashes discloses none")

    _ = try await h.directory.exportUsers(includingPasswordHashes: true, by: h.asAdmin)
    let events = try await hashExportEvents(h)
    // The administrator's own hash and h's; n has no password, so nothing of n's left.
    #expect(
      Set(events.map(\.target)) == [
        .user(h.admin.id, username: "Admin@Example.com"),
        .user(withHash.id, username: "h@example.com"),
      ])
    #expect(events.count == 2)
    #expect(events.allSatisfy { $0.actor == h.asAdmin && $0.changes.isEmpty })
    let ofUser = try await h.directory.auditEvents(
      AuditQuery(targetUser: withHash.id), by: h.asAdmin)
    #expect(ofUser.contains { $0.action == .passwordHashExported }, "found in the user's history")

    _ = try await h.directory.exportUsers(includingPasswordHashes: true, by: .system("backup"))
    #expect(try await hashExportEvents(h).filter { $0.actor == .system("backup") }.count == 2)
  }

  @Test func aHashExportThatCannotBeAuditedReturnsNoHash() async throws {
    struct AuditFull: Error {}
    /// Refuses the export's audit commits; everything else reaches the in-memory store.
    final class RefusesHashExportAudits: ForwardingDirectoryStore, Sendable {
      let base: any DirectoryStore = InMemoryDirectoryStore()
      func commit(_ changes: ChangeSet) async throws {
        if changes.auditEvents.contains(where: { $0.action == .passwordHashExported }) {
          throw AuditFull()
        }
        try await base.commit(changes)
      }
    }
    let directory = UserDirectory(
      store: RefusesHashExportAudits(),
      configuration: .init(passwordHasher: PBKDF2PasswordHasher(insecureIterations: 2)))
    let admin = try await directory.bootstrap(
      NewUser(
        username: "admin@example.com", firstName: "A", lastName: "A",
        password: .typed(Harness.password))
    ).user
    await expectError(.storageFailure) {
      _ = try await directory.exportUsers(includingPasswordHashes: true, by: .user(admin.id))
    }
    // Without hashes there is nothing to audit, and the export goes through.
    #expect(try await directory.exportUsers(by: .user(admin.id)).count == 1)
  }

  @Test func aHashExportIsAuditedInBoundedChangeSetsThatPinTheActor() async throws {
    /// Keeps every change set that carries export events.
    final class RecordingStore: ForwardingDirectoryStore, Sendable {
      let base: any DirectoryStore = InMemoryDirectoryStore()
      let exports = Mutex<[ChangeSet]>([])
      func commit(_ changes: ChangeSet) async throws {
        try await base.commit(changes)
        if changes.auditEvents.contains(where: { $0.action == .passwordHashExported }) {
          exports.withLock { $0.append(changes) }
        }
      }
    }
    let store = RecordingStore()
    let directory = UserDirectory(
      store: store, configuration: .init(passwordHasher: Self.hasher))
    let admin = try await directory.bootstrap(
      NewUser(
        username: "admin@example.com", firstName: "A", lastName: "A",
        password: .typed(Harness.password))
    ).user
    let hash = try vector("django-pbkdf2_sha256").hash
    let limit = UserDirectory.passwordHashExportEventsPerCommit
    let items = (0..<(2 * limit + 399)).map { index in
      PortableUser(
        username: "user\(index)@example.com", firstName: "User", lastName: "\(index)",
        passwordHash: hash)
    }
    #expect(try await directory.importUsers(items, by: .user(admin.id)).committed)
    let actor = try await directory.user(admin.id, by: .user(admin.id))

    let exported = try await directory.exportUsers(
      includingPasswordHashes: true, by: .user(admin.id))
    #expect(exported.count == 2 * limit + 400)
    let commits = store.exports.withLock { $0 }
    #expect(commits.map(\.auditEvents.count) == [limit, limit, 400])
    #expect(
      commits.allSatisfy {
        $0.preconditions == [.userVersion(admin.id, actor.version)] && $0.users.isEmpty
          && $0.policies.isEmpty && $0.throttleUpdates.isEmpty
      })
    let targets = commits.flatMap(\.auditEvents).compactMap(\.target.userID)
    #expect(Set(targets).count == 2 * limit + 400, "every user once")
  }

  @Test func censusCountsTheStoredHashes() async throws {
    let h = try await harness()
    _ = try await h.directory.importUsers(
      [
        PortableUser(
          username: "d@example.com", firstName: "D", lastName: "D",
          passwordHash: try vector("django-pbkdf2_sha256").hash),
        PortableUser(username: "n@example.com", firstName: "N", lastName: "N"),
      ], by: h.asAdmin)
    let census = try await h.directory.passwordHashCensus(by: h.asAdmin)
    #expect(census.total == 3)
    #expect(census.withoutPassword == 1)
    // The harness wraps its hasher in a counting one, so the census judges by the default
    // migrating hasher, for which the harness's cheap Argon2id hash of the admin is weak too.
    #expect(census.needingRehash == 2)
    #expect(census.groups.contains { $0.group.algorithm == "django-pbkdf2_sha256" })
  }

  @Test func aThousandUsersImportAsOneChangeSet() async throws {
    let h = try await harness()
    let hash = try vector("bcrypt").hash
    let items = (0..<1000).map { index in
      PortableUser(
        username: "user\(index)@example.com", firstName: "User", lastName: "\(index)",
        passwordHash: hash)
    }
    let result = try await h.directory.importUsers(items, by: h.asAdmin)
    #expect(result.committed)
    #expect(result.users.count == 1000)
    #expect(try await h.directory.userCount(by: h.asAdmin) == 1001)
  }

  @Test func anImportSurvivesReopeningAFileStore() async throws {
    let temporary = try TemporaryDirectory()
    let store = try FileDirectoryStore(directory: temporary.store)
    let first = UserDirectory(store: store, configuration: .init(passwordHasher: Self.hasher))
    let admin = try await first.bootstrap(
      NewUser(username: "admin@example.com", firstName: "A", lastName: "A", password: .generated)
    ).user
    let asAdmin = Principal.user(admin.id)
    let hash = try vector("django-pbkdf2_sha256").hash
    let items = (0..<500).map { index in
      PortableUser(
        username: "user\(index)@example.com", firstName: "User", lastName: "\(index)",
        passwordHash: index.isMultiple(of: 2) ? hash : nil)
    }
    #expect(try await first.importUsers(items, by: asAdmin).committed)
    store.close()

    let reopened = try FileDirectoryStore(directory: temporary.store)
    defer { reopened.close() }
    let directory = UserDirectory(
      store: reopened, configuration: .init(passwordHasher: Self.hasher))
    #expect(try await directory.userCount(by: asAdmin) == 501)
    let events = try await directory.auditEvents(
      AuditQuery(limit: 1000, newestFirst: false), by: asAdmin)
    #expect(events.filter { $0.action == .userImported }.count == 500)
    let exported = try await directory.exportUsers(includingPasswordHashes: true, by: asAdmin)
    #expect(exported.filter { $0.passwordHash == hash }.count == 250)
    _ = try await directory.signInWithPassword(
      username: "user0@example.com", password: Secret(try vector("django-pbkdf2_sha256").password))
  }

  @Test func malformedNativeHashesAreRefusedByTheCensusRules() throws {
    // The migrating hasher now parses its other native formats when asked whether they need
    // a rehash, so that a malformed one is caught before anyone signs in.
    for encoded in [
      "$pbkdf2-sha256$i=1000,l=32$!!$AAEC", "$argon2i$v=19$m=64,t=1$c29tZXNhbHRzYWx0$aGFzaA",
    ] {
      #expect(throws: UserManagementError.self) {
        _ = try Self.hasher.needsRehash(PasswordHash(encoded: encoded))
      }
    }
  }
}
