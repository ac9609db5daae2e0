import Testing
import UMKCrypto

@testable import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Imports a reading into a directory with the given policies and signs each user in.
struct MigrationImport {
  static let hasher = MigratingPasswordHasher(
    preferred: PBKDF2PasswordHasher(insecureIterations: 2))

  let harness: Harness
  let result: UserImportResult

  init(
    _ reading: MigrationReading, policies: [String] = [],
    hasher: MigratingPasswordHasher = MigrationImport.hasher
  ) async throws {
    harness = try await Harness(hasher: hasher)
    for name in policies {
      _ = try await harness.directory.createPolicy(
        PolicyDocument(
          name: name,
          permissions: [Permission(resourceType: "doc", allowed: [.view], resourceIds: [.any])]),
        by: harness.asAdmin)
    }
    result = try await harness.directory.importUsers(reading.users, by: harness.asAdmin)
  }

  /// Signs in with `password`: succeeds for an active user; an inactive one is refused as
  /// inactive, which the directory says only after the password verified.
  func expectSignIn(
    _ username: String, _ password: String, active: Bool = true,
    sourceLocation: SourceLocation = #_sourceLocation
  ) async {
    do {
      let signedIn = try await harness.directory.signInWithPassword(
        username: username, password: Secret(password))
      #expect(active, "\(username) signed in but is inactive", sourceLocation: sourceLocation)
      #expect(signedIn.user.username.rawValue == username, sourceLocation: sourceLocation)
    } catch {
      #expect(
        !active && error.code == .accountInactive, "\(username): \(error)",
        sourceLocation: sourceLocation)
    }
  }
}

func samplePassword(_ name: String) -> String { MigrationSamples.passwords[name] ?? "" }

@Suite("Migration: Keycloak")
struct KeycloakMigrationTests {
  let options = MigrationOptions(adminRoles: ["realm-admin"], policyRoles: ["staff", "READERS"])

  @Test func readsTheRealmExport() throws {
    let reading = MigrationReader.read(.keycloak, MigrationSamples.keycloakRealm, options: options)
    #expect(reading.positionKind == .index)
    #expect(
      reading.users.map(\.username) == [
        "ada@example.com", "bjorn.lindqvist@example.com", "zoe@example.com", "kenji@example.jp",
      ])
    #expect(reading.positions == [0, 1, 2, 3])
    #expect(reading.users.map(\.firstName) == ["Ada", "Björn", "Zoë", "健二"])
    #expect(reading.users.map(\.lastName) == ["Lovelace", "Lindqvist", "Иванова", "山田"])
    #expect(reading.users.map(\.role) == [.admin, .generalUser, .generalUser, .generalUser])
    #expect(reading.users.map(\.status) == [.active, .active, .active, .inactive])
    #expect(reading.users.map(\.policies) == [[], ["staff"], ["staff", "readers"], ["readers"]])
    let hashes = reading.users.map { $0.passwordHash?.encoded ?? "" }
    #expect(hashes[0].hasPrefix("$pbkdf2-sha256$i=27500,l=32$"))
    #expect(hashes[1].hasPrefix("$pbkdf2-sha512$i=30000,l=64$"))
    #expect(hashes[2].hasPrefix("$pbkdf2$20000$"))
    #expect(hashes[3].hasPrefix("$argon2id$v=19$m=7168,t=5,p=1$"))
    #expect(
      reading.formats == ["pbkdf2-sha256": 1, "pbkdf2-sha512": 1, "pbkdf2-sha1": 1, "argon2id": 1])
    #expect(reading.skipped == 1)
    #expect(reading.issues.map(\.position) == [4])
    let issue = try #require(reading.issues.first)
    #expect(issue.error.code == .invalidUsername)
    #expect(issue.error.field == "email")
    #expect(!issue.error.message.contains("kiosk"))
  }

  @Test func importedUsersSignInWithTheirKeycloakPasswords() async throws {
    let reading = MigrationReader.read(.keycloak, MigrationSamples.keycloakRealm, options: options)
    let imported = try await MigrationImport(reading, policies: ["staff", "readers"])
    #expect(imported.result.issues.isEmpty)
    #expect(imported.result.committed)
    await imported.expectSignIn("ada@example.com", samplePassword("ada"))
    await imported.expectSignIn("bjorn.lindqvist@example.com", samplePassword("bjorn"))
    await imported.expectSignIn("zoe@example.com", samplePassword("zoe"))
    await imported.expectSignIn("kenji@example.jp", samplePassword("kenji"), active: false)
  }

  @Test func reportsCredentialProblemsByIndexWithoutHashMaterial() {
    let export = #"""
      {"realm":"x","users":[
        {"username":"a@example.com","credentials":[{"type":"password","secretData":"{\"value\":\"c2VjcmV0c2VjcmV0\",\"salt\":\"c2FsdHNhbHQ=\"}","credentialData":"{\"hashIterations\":1000,\"algorithm\":\"md5-custom\"}"}]},
        {"username":"b@example.com","credentials":[{"type":"password","secretData":"not json","credentialData":"{}"}]},
        {"username":"c@example.com","firstName":"\u0007","credentials":[]},
        {"username":"d@example.com","credentials":[{"type":"password","hashedSaltedValue":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0","salt":"c2FsdHNhbHRzYWx0c2FsdA==","hashIterations":27500,"algorithm":"pbkdf2-sha256"}]}
      ]}
      """#
    let reading = MigrationReader.read(.keycloak, Array(export.utf8))
    #expect(reading.issues.map(\.position) == [0, 1, 2])
    #expect(reading.issues.map(\.error.code) == [.unsupportedHash, .invalidField, .invalidField])
    #expect(reading.issues[2].error.field == "firstName")
    for issue in reading.issues {
      #expect(!issue.error.message.contains("c2Vj"))
      #expect(!issue.error.message.contains("c2Fs"))
    }
    // Keycloak before 11: the fields on the credential itself.
    #expect(reading.users.map(\.username) == ["d@example.com"])
    #expect(
      reading.users.first?.passwordHash?.encoded.hasPrefix("$pbkdf2-sha256$i=27500,l=36$") == true)
    // No names at all: the placeholder.
    #expect(reading.users.first?.firstName == "\u{2014}")
  }

  @Test func refusesAFileThatIsNotARealmExport() {
    let reading = MigrationReader.read(.keycloak, Array("[1,2]".utf8))
    #expect(reading.users.isEmpty)
    #expect(reading.issues.map(\.position) == [0])
  }
}

@Suite("Migration: Django")
struct DjangoMigrationTests {
  @Test func readsDumpdata() {
    let reading = MigrationReader.read(
      .django, MigrationSamples.djangoDump,
      options: MigrationOptions(policyRoles: ["editors", "readers"]))
    #expect(reading.positionKind == .index)
    #expect(
      reading.users.map(\.username) == [
        "ada@example.com", "bjorn@example.se", "zoe@example.com", "kenji@example.jp",
      ])
    #expect(reading.positions == [2, 3, 4, 6])
    #expect(reading.users.map(\.role) == [.admin, .generalUser, .generalUser, .generalUser])
    #expect(reading.users.map(\.status) == [.active, .active, .inactive, .active])
    #expect(
      reading.users.map(\.policies) == [[], ["Editors"], ["Readers"], ["Editors", "Readers"]])
    #expect(reading.users.map(\.lastName) == ["Lovelace", "Lindqvist", "Ivanova", "山田"])
    // The unusable password is no password.
    #expect(reading.users[3].passwordHash == nil)
    #expect(reading.withoutPassword == 1)
    #expect(reading.formats == ["pbkdf2_sha256": 1, "argon2": 1, "bcrypt_sha256": 1])
    #expect(reading.skipped == 2)
    #expect(reading.issues.map(\.position) == [5])
    #expect(reading.issues.first?.error.code == .invalidUsername)
  }

  @Test func staffBecomeAdministratorsWhenAsked() {
    let reading = MigrationReader.read(
      .django, MigrationSamples.djangoDump,
      options: MigrationOptions(djangoAdministrators: .superusersAndStaff))
    #expect(reading.users.map(\.role) == [.admin, .admin, .generalUser, .generalUser])
    let none = MigrationReader.read(
      .django, MigrationSamples.djangoDump, options: MigrationOptions(djangoAdministrators: .none))
    #expect(none.users.allSatisfy { $0.role == .generalUser })
  }

  @Test func importedUsersSignInWithTheirDjangoPasswords() async throws {
    let reading = MigrationReader.read(
      .django, MigrationSamples.djangoDump,
      options: MigrationOptions(policyRoles: ["editors", "readers"]))
    let imported = try await MigrationImport(reading, policies: ["Editors", "Readers"])
    #expect(imported.result.issues.isEmpty)
    await imported.expectSignIn("ada@example.com", samplePassword("ada"))
    await imported.expectSignIn("bjorn@example.se", samplePassword("bjorn"))
    await imported.expectSignIn("zoe@example.com", samplePassword("zoe"), active: false)
  }

  @Test func namesGroupsByNaturalKey() {
    let dump = #"""
      [{"model":"auth.user","pk":9,"fields":{"password":"","username":"n@example.com","email":"","first_name":"N","last_name":"K","is_active":true,"is_staff":false,"is_superuser":false,"groups":[["ops"]]}},
       {"model":"auth.user","fields":{}}, {"pk":3}]
      """#
    let reading = MigrationReader.read(
      .django, Array(dump.utf8), options: MigrationOptions(adminRoles: ["OPS"]))
    #expect(reading.users.map(\.role) == [.admin])
    #expect(reading.users.first?.passwordHash == nil)
    #expect(reading.issues.map(\.position) == [1, 2])
  }
}

@Suite("Migration: ASP.NET Core Identity")
struct ASPNetMigrationTests {
  let now = Date(timeIntervalSince1970: 1_780_000_000)  // 2026

  @Test func readsAspNetUsers() {
    let reading = MigrationReader.read(
      .aspnet, MigrationSamples.aspnetUsersCSV, options: MigrationOptions(now: now))
    #expect(reading.positionKind == .line)
    #expect(
      reading.users.map(\.username) == ["ada@example.com", "bjorn@example.se", "chloe@example.fr"])
    #expect(reading.positions == [2, 3, 4])
    // Locked out until 2099: inactive; a lockout that ended in 2020: active.
    #expect(reading.users.map(\.status) == [.active, .inactive, .active])
    #expect(reading.users.allSatisfy { $0.firstName == "\u{2014}" && $0.lastName == "\u{2014}" })
    #expect(reading.formats == ["aspnet-identity-v3": 2, "aspnet-identity-v2": 1])
    #expect(reading.issues.map(\.position) == [5])
    #expect(reading.issues.first?.error.code == .invalidUsername)
    #expect(reading.issues.first?.error.field == "Email")
  }

  @Test func importedUsersSignInWithTheirIdentityPasswords() async throws {
    let reading = MigrationReader.read(
      .aspnet, MigrationSamples.aspnetUsersCSV, options: MigrationOptions(now: now))
    let imported = try await MigrationImport(reading)
    #expect(imported.result.issues.isEmpty)
    await imported.expectSignIn("ada@example.com", samplePassword("ada"))
    await imported.expectSignIn("bjorn@example.se", samplePassword("bjorn"), active: false)
    await imported.expectSignIn("chloe@example.fr", samplePassword("chloe"))
  }

  @Test func readsNameAndRoleColumnsAndReportsBadRows() {
    let csv =
      "Email,UserName,FirstName,LastName,Roles,LockoutEnd,LockoutEnabled\r\n"
      + "a@example.com,a,\"Anne, Marie\",Ng,\"Admins;Ops\",2099-01-01T00:00:00Z,False\r\n"
      + "b@example.com,b,B,C,Ops,next tuesday,True\r\n" + "c@example.com,c\r\n"
    let reading = MigrationReader.read(
      .aspnet, Array(csv.utf8),
      options: MigrationOptions(adminRoles: ["admins"], policyRoles: ["ops"], now: now))
    #expect(reading.users.map(\.firstName) == ["Anne, Marie"])
    #expect(reading.users.map(\.role) == [.admin])
    // LockoutEnabled false: the lockout does not apply.
    #expect(reading.users.map(\.status) == [.active])
    #expect(reading.issues.map(\.position) == [3, 4])
    #expect(reading.issues.map(\.error.field) == ["LockoutEnd", "csv"])
  }

  @Test(arguments: [
    ("2030-01-01 00:00:00.0000000 +00:00", 1_893_456_000.0),
    ("2030-01-01T02:00:00+02:00", 1_893_456_000.0),
    ("2030-01-01 00:00:00", 1_893_456_000.0),
    ("1970-01-01T00:00:00.5Z", 0.5),
    ("2024-02-29 12:00:00-01:30", 1_709_213_400.0),
  ])
  func readsLockoutDates(text: String, seconds: Double) {
    #expect(MigrationReader.secondsSince1970(text) == seconds)
  }

  @Test(arguments: ["2030-13-01 00:00:00", "2030-01-01", "2030-01-01 00:00:00 +0000", "soon"])
  func refusesMalformedLockoutDates(text: String) {
    #expect(MigrationReader.secondsSince1970(text) == nil)
  }
}

@Suite("Migration: Auth0")
struct Auth0MigrationTests {
  let options = MigrationOptions(adminRoles: ["admin"], policyRoles: ["editors"])

  func read() -> MigrationReading {
    MigrationReader.read(
      .auth0, MigrationSamples.auth0Users, passwordExport: MigrationSamples.auth0Passwords,
      options: options)
  }

  @Test func joinsTheUserAndPasswordExports() {
    let reading = read()
    #expect(reading.positionKind == .line)
    #expect(
      reading.users.map(\.username) == [
        "ada@example.com", "chloe@example.fr", "zoe@example.com", "kenji@example.jp",
      ])
    #expect(reading.positions == [1, 2, 3, 5])
    #expect(reading.users.map(\.role) == [.admin, .generalUser, .generalUser, .generalUser])
    #expect(reading.users.map(\.policies) == [[], ["editors"], [], []])
    #expect(reading.users.map(\.status) == [.active, .active, .inactive, .active])
    // `name` split at its last space; an e-mail address for a name is no name.
    #expect(reading.users.map(\.firstName) == ["Ada", "Chloé", "\u{2014}", "健二"])
    #expect(reading.users.map(\.lastName) == ["Lovelace", "Dubois-Martin", "\u{2014}", "山田"])
    #expect(reading.users.allSatisfy { $0.passwordHash?.encoded.hasPrefix("$2b$10$") == true })
    #expect(reading.formats == ["2b": 4])
    // Omar has a username, not an address: his record is the issue (his password record
    // matched him by id, so it is not reported again).
    #expect(reading.issues.map(\.file) == [.users])
    #expect(reading.issues.map(\.position) == [4])
    #expect(reading.issues.map(\.error.code) == [.invalidUsername])
  }

  @Test func importedUsersSignInWithTheirAuth0Passwords() async throws {
    let imported = try await MigrationImport(read(), policies: ["editors"])
    #expect(imported.result.issues.isEmpty)
    await imported.expectSignIn("ada@example.com", samplePassword("ada"))
    await imported.expectSignIn("chloe@example.fr", samplePassword("chloe"))
    await imported.expectSignIn("zoe@example.com", samplePassword("zoe"), active: false)
    await imported.expectSignIn("kenji@example.jp", samplePassword("kenji"))
  }

  @Test func joinsByEmailWithoutAnIDAndReportsBadLines() {
    let users = """
      {"user_id":"google-oauth2|1","email":"A@Example.com","given_name":"A","family_name":"B"}
      not json

      {"user_id":"auth0|2","email":"b@example.com"}
      """
    let passwords = """
      {"email":"a@example.com","passwordHash":"$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"}
      {"_id":{"$oid":"2"},"passwordHash":"$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"}
      {"_id":{"$oid":"2"},"passwordHash":"$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01235"}
      {"passwordHash":"$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"}
      """
    let reading = MigrationReader.read(
      .auth0, Array(users.utf8), passwordExport: Array(passwords.utf8))
    #expect(reading.users.map(\.username) == ["A@Example.com", "b@example.com"])
    #expect(reading.users.allSatisfy { $0.passwordHash != nil })
    #expect(reading.issues.map(\.description).allSatisfy { !$0.contains("$2b$") })
    #expect(
      reading.issues.map { "\($0.file.rawValue) \($0.position)" } == [
        "passwords 4", "users 2", "passwords 3",
      ])
  }
}

@Suite("Migration: Firebase")
struct FirebaseMigrationTests {
  /// With the project's hash configuration, Firebase users sign in with their passwords.
  @Test func importedUsersSignInWithTheirFirebasePasswords() async throws {
    let parameters = try FirebaseScryptParameters(
      base64SignerKey: MigrationSamples.firebaseSignerKey,
      base64SaltSeparator: MigrationSamples.firebaseSaltSeparator,
      rounds: MigrationSamples.firebaseRounds, memoryCost: MigrationSamples.firebaseMemoryCost)
    let hasher = MigratingPasswordHasher(
      preferred: PBKDF2PasswordHasher(insecureIterations: 2), firebase: parameters)
    let imported = try await MigrationImport(
      MigrationReader.read(.firebase, MigrationSamples.firebaseJSON), hasher: hasher)
    #expect(imported.result.issues.isEmpty)
    await imported.expectSignIn("ada@example.com", samplePassword("ada"))
    await imported.expectSignIn("chloe@example.fr", samplePassword("chloe"), active: false)
    await imported.expectSignIn("kenji@example.jp", samplePassword("kenji"))
  }

  @Test func readsTheJSONExport() throws {
    let reading = MigrationReader.read(.firebase, MigrationSamples.firebaseJSON)
    #expect(reading.positionKind == .index)
    #expect(
      reading.users.map(\.username) == ["ada@example.com", "chloe@example.fr", "kenji@example.jp"])
    #expect(reading.positions == [0, 1, 2])
    #expect(reading.users.map(\.status) == [.active, .inactive, .active])
    #expect(reading.users.map(\.firstName) == ["Ada", "Chloé", "山田"])
    #expect(reading.users.map(\.lastName) == ["Lovelace", "Dubois-Martin", "健二"])
    #expect(reading.formats == ["firebase-scrypt": 3])
    #expect(reading.issues.map(\.position) == [3])
    #expect(reading.issues.first?.error.code == .invalidUsername)
    try expectFirebaseShape(reading.users)
  }

  @Test func readsTheCSVExportToTheSameHashes() throws {
    let csv = MigrationReader.read(.firebase, MigrationSamples.firebaseCSV)
    let json = MigrationReader.read(.firebase, MigrationSamples.firebaseJSON)
    #expect(csv.positionKind == .line)
    #expect(csv.positions == [1, 2, 3])
    #expect(csv.users.map(\.passwordHash) == json.users.map(\.passwordHash))
    // The CSV has no disabled column.
    #expect(csv.users.allSatisfy { $0.status == .active })
    #expect(csv.issues.map(\.position) == [4])
    try expectFirebaseShape(csv.users)
  }

  /// `$firebase-scrypt$<salt>$<hash>`, standard base64 without padding, decoding to the
  /// export's own salt (16 bytes) and hash (the 64-byte signer key, encrypted).
  func expectFirebaseShape(_ users: [PortableUser]) throws {
    for user in users {
      let encoded = try #require(user.passwordHash?.encoded)
      #expect(encoded.hasPrefix(MigrationReader.firebaseScryptPrefix))
      #expect(!encoded.contains("="))
      let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
      #expect(parts.count == 4)
      #expect(Base64.decode(parts[2], variant: .standardUnpadded)?.count == 16)
      #expect(Base64.decode(parts[3], variant: .standardUnpadded)?.count == 64)
    }
  }

  @Test func reportsAHashWithoutASalt() {
    let export = #"{"users":[{"localId":"x","email":"x@example.com","passwordHash":"AAAA"}]}"#
    let reading = MigrationReader.read(.firebase, Array(export.utf8))
    #expect(reading.issues.map(\.error.field) == ["salt"])
  }
}
