import Testing
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Imported password hashes")
struct PasswordMigrationTests {
  let hasher = MigratingPasswordHasher(
    preferred: Argon2PasswordHasher(insecureMemoryKiB: 64, iterations: 1))

  @Test(arguments: passwordHashVectors)
  func verifiesHashesWrittenByOtherSystems(format: String, password: String, encoded: String)
    throws
  {
    let hash = PasswordHash(encoded: encoded)
    #expect(hasher.canVerify(hash))
    #expect(try hasher.verify(Secret(password), against: hash) == .validNeedsRehash)
    #expect(try hasher.verify(Secret(password + "x"), against: hash) == .invalid)
    #expect(try hasher.needsRehash(hash))
  }

  @Test func vectorsCoverEveryFormatOfTheOtherSystems() {
    #expect(passwordHashVectors.count >= 137)
    #expect(
      Set(passwordHashVectors.map(\.format)) == [
        "django-pbkdf2_sha256", "django-pbkdf2_sha1", "django-argon2", "passlib-pbkdf2-sha256",
        "passlib-pbkdf2-sha512", "passlib-pbkdf2", "argon2id", "argon2i", "aspnet-identity-v2",
        "aspnet-identity-v3", "bcrypt", "django-bcrypt", "django-bcrypt_sha256", "ldap-sha",
        "ldap-ssha", "ldap-ssha256", "ldap-ssha512", "sha256-crypt", "sha512-crypt",
        "drupal7-sha512",
      ])
  }

  @Test func legacyHashesSeeTheExactBytesTheOldSystemHashed() throws {
    // These systems hashed the decomposed spelling as given; the composed one is different.
    for vector in passwordHashVectors
    where vector.password.hasPrefix("cafe\u{301}")
      && !vector.format.hasPrefix("argon2")
    {
      let hash = PasswordHash(encoded: vector.hash)
      #expect(try hasher.verify(Secret("caf\u{E9} au lait"), against: hash) == .invalid)
      #expect(try hasher.verify(Secret("cafe\u{301} au lait"), against: hash) == .validNeedsRehash)
    }
  }

  @Test func legacyFormatsCanBeTurnedOff() throws {
    let strict = MigratingPasswordHasher(
      preferred: Argon2PasswordHasher(insecureMemoryKiB: 64, iterations: 1),
      acceptsLegacyFormats: false)
    let django = try #require(passwordHashVectors.first { $0.format == "django-pbkdf2_sha256" })
    #expect(!strict.canVerify(PasswordHash(encoded: django.hash)))
    #expect(throws: UserManagementError.self) {
      _ = try strict.verify(Secret(django.password), against: PasswordHash(encoded: django.hash))
    }
  }

  @Test(arguments: [
    "pbkdf2_sha256$99999999999$salt$aGFzaA==", "pbkdf2_sha256$1000$salt$notbase64!",
    "pbkdf2_sha256$1000$$aGFzaA==", "$pbkdf2-sha256$99999999999$AAEC$AAEC",
    "$pbkdf2-sha256$1000$AAEC",
    "AQAAAAMAAAPoAAAAEAABAgMEBQYHCAkKCwwNDg8A6b+Q5v/5gBndnBKiBiA27187WD3zrXpRRPbHcnNx7A==",
    "AAABAgM=", "argon2$argon2id$v=19$m=999999999,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
    "$2z$10$abcdefghijklmnopqrstuu", "md5$salt$hash", "", "plaintext-password",
    "$2b$31$..CA.uOD/eaGAOmJB.yMBuaOWmnNUFfwORoH..MfuhEhaBiFsYEfG",
    "$2x$04$..CA.uOD/eaGAOmJB.yMBuaOWmnNUFfwORoH..MfuhEhaBiFsYEfG",
    "$2b$04$..CA.uOD/eaGAOmJB.yMBuaOWmnNUFfwORoH..MfuhEhaBiFsYEf",
    "bcrypt_sha256$$2b$17$..CA.uOD/eaGAOmJB.yMBuZ678wDNOfOEzT0Y9.06r0y12ffl8fb.",
  ])
  func refusesMalformedOrHostileLegacyHashes(_ encoded: String) async {
    await expectError(.unsupportedHash) {
      _ = try hasher.verify(Secret("pw"), against: PasswordHash(encoded: encoded))
    }
  }

  @Test func ourOwnFormatsVerifyAcrossAlgorithms() throws {
    let pbkdf2 = try PBKDF2PasswordHasher(insecureIterations: 3).hash(Secret("pw"))
    #expect(try hasher.verify(Secret("pw"), against: pbkdf2) == .validNeedsRehash)
    let argon = try hasher.hash(Secret("pw"))
    #expect(argon.encoded.hasPrefix("$argon2id$"))
    #expect(try hasher.verify(Secret("pw"), against: argon) == .valid)
    #expect(try !hasher.needsRehash(argon))
  }

  @Test func censusCountsFormatsAndRehashes() throws {
    var hashes: [PasswordHash?] = passwordHashVectors.map { PasswordHash(encoded: $0.hash) }
    let current = try hasher.hash(Secret("a"))
    hashes += [current, current, nil, PasswordHash(encoded: "garbage")]
    let census = hasher.census(of: hashes)
    #expect(census.total == passwordHashVectors.count + 4)
    #expect(census.withoutPassword == 1)
    #expect(census.unsupported == 1)
    #expect(census.needingRehash == passwordHashVectors.count)
    let currentGroup = try #require(census.groups.first { !$0.group.needsRehash })
    #expect(currentGroup.count == 2)
    #expect(
      currentGroup.group
        == .init(algorithm: "argon2id", parameters: "v=19,m=64,t=1,p=1", needsRehash: false))
    #expect(census.groups.reduce(0) { $0 + $1.count } == census.total - 2)
    #expect(census.groups.contains { $0.group.algorithm == "aspnet-identity-v3" })
  }

  @Test func importedUsersSignInAndAreRehashed() async throws {
    let store = InMemoryDirectoryStore()
    let directory = UserDirectory(
      store: store, configuration: .init(passwordHasher: CountingPasswordHasher(hasher)))
    let admin = try await directory.bootstrap(
      NewUser(username: "admin@example.com", firstName: "A", lastName: "A", password: .generated)
    ).user
    let django = try #require(passwordHashVectors.first { $0.format == "django-pbkdf2_sha256" })
    // A host import writes the user with the hash the old system stored.
    let imported = try await directory.addUser(
      NewUser(username: "old@example.com", firstName: "O", lastName: "O", password: .generated),
      by: .system("import"))
    var record = try #require(await store.user(id: imported.user.id))
    record.passwordHash = PasswordHash(encoded: django.hash)
    record.user.version += 1
    try await store.commit(ChangeSet(users: [record]))
    let signedIn = try await directory.signInWithPassword(
      username: "old@example.com", password: Secret(django.password))
    #expect(signedIn.rehashed)
    let after = try #require(await store.user(id: imported.user.id)?.passwordHash)
    #expect(after.encoded.hasPrefix("$argon2id$"))
    _ = admin
  }
}
