import Testing
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// The account-security state survives the file store's encoding: from the log, and from a
/// snapshot after compaction.
@Suite("FileDirectoryStore: account-security state on disk")
struct FileStoreAccountSecurityTests {
  @Test func secondFactorsTokensAndKeysSurviveReopeningAndCompaction() async throws {
    let temporary = try TemporaryDirectory()
    let clock = TestClock()
    let configuration = UserDirectory.Configuration(
      passwordHasher: PBKDF2PasswordHasher(insecureIterations: 2), now: clock.function,
      accountSecurity: .init(
        keyring: try SecretKeyring(
          current: try SecretKey(id: "k1", bytes: [UInt8](repeating: 5, count: 32)))))
    let store = try FileDirectoryStore(directory: temporary.store)
    let directory = UserDirectory(store: store, configuration: configuration)
    let admin = try await directory.bootstrap(
      NewUser(
        username: "admin@example.com", firstName: "Ada", lastName: "Admin",
        password: .typed(Secret("correct horse battery staple 9")), apiAccessEnabled: true))
    let id = admin.user.id
    let enrollment = try await directory.enrollSecondFactor(
      for: id, password: Secret("correct horse battery staple 9"), by: .user(id))
    let recoveryCodes = try await directory.confirmSecondFactor(
      for: id, code: try authenticatorCode(enrollment.secret, at: clock.now), by: .user(id))
    let key = try await directory.createAPIKey(
      for: id, name: "CI", scopes: [APIKeyScope(resourceType: "doc", actions: [.view])],
      expiresAt: clock.now.addingTimeInterval(3600),
      proof: .secondFactor(.recovery(recoveryCodes[0])), by: .user(id))
    let verification = try await directory.emailVerificationToken(for: id, by: .user(id))
    _ = try await directory.verifyEmail(token: verification)
    _ = try #require(try await directory.passwordResetToken(for: "admin@example.com"))
    let written = try #require(try await store.user(id: id))
    #expect(!written.security.isEmpty && written.user.emailVerified)
    store.close()

    let reopened = try FileDirectoryStore(directory: temporary.store)
    #expect(try await reopened.user(id: id) == written)
    try await reopened.compact()
    reopened.close()
    let compacted = try FileDirectoryStore(directory: temporary.store)
    #expect(try await compacted.user(id: id) == written)
    // And the directory uses it: the key still authenticates.
    let again = UserDirectory(store: compacted, configuration: configuration)
    _ = try await again.authenticateAPIKey(key.secret)
    compacted.close()
  }
}
