import Testing
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// The typed accessors of ``UserManagementError`` carry each refusal's details, read from
/// errors that the public API throws (not from errors built by hand).
@Suite("Typed error details")
struct ErrorDetailsTests {
  @Test func aThrottledSignInSaysWhenToRetry() async throws {
    let h = try await Harness(
      throttle: LoginThrottlePolicy(freeAttempts: 1, baseDelay: .seconds(10)))
    try await h.add("slow@example.com")
    _ = try? await h.directory.signInWithPassword(
      username: "slow@example.com", password: Secret("not the password at all"))
    let throttled = try #require(
      await expectError(.throttled) {
        _ = try await h.directory.signInWithPassword(
          username: "slow@example.com", password: Harness.password)
      })
    #expect(throttled.retryAfter == .seconds(10))
  }

  @Test func aLockedCredentialHasNoRetryTime() async throws {
    let h = try await Harness(
      throttle: LoginThrottlePolicy(freeAttempts: 0, lockoutThreshold: 1, lockoutDuration: nil))
    try await h.add("locked@example.com")
    _ = try? await h.directory.signInWithPassword(
      username: "locked@example.com", password: Secret("not the password at all"))
    let locked = try #require(
      await expectError(.throttled) {
        _ = try await h.directory.signInWithPassword(
          username: "locked@example.com", password: Harness.password)
      })
    #expect(locked.retryAfter == nil)
  }

  @Test func aWeakPasswordListsTheRulesItBroke() async throws {
    let h = try await Harness()
    let weak = try #require(
      await expectError(.weakPassword) {
        try await h.add("weak@example.com", password: Secret("password"))
      })
    #expect(weak.passwordViolations == ["too_short", "common_password"])
    #expect(weak.field == "password")
  }

  @Test func deletingAHeldPolicySaysHowManyHoldIt() async throws {
    let h = try await Harness()
    let policy = try await h.directory.createPolicy(
      PolicyDocument(
        name: "Readers",
        permissions: [Permission(resourceType: "doc", allowed: ["read"], resourceIds: [.any])]),
      by: h.asAdmin)
    try await h.add("a@example.com", policies: [policy.id])
    try await h.add("b@example.com", policies: [policy.id])
    try await h.add("c@example.com", policies: [policy.id])
    let inUse = try #require(
      await expectError(.policyInUse) {
        try await h.directory.deletePolicy(policy.id, by: h.asAdmin)
      })
    #expect(inUse.policyHolderCount == 3)
  }

  @Test func anInvalidFieldNamesTheFieldAndTheReason() async throws {
    let h = try await Harness()
    let user = try await h.add("named@example.com")
    let invalid = try #require(
      await expectError(.invalidField) {
        try await h.directory.updateProfile(of: user.id, firstName: " ", by: h.asAdmin)
      })
    #expect(invalid.field == "firstName")
    #expect(invalid.reason == "empty")
  }

  @Test func detailsOfOtherCodesAreAbsent() async throws {
    let h = try await Harness()
    let user = try await h.add("plain@example.com")
    let refused = try #require(
      await expectError(.notAuthorized) {
        try await h.directory.setRole(.admin, of: h.admin.id, by: .user(user.id))
      })
    #expect(refused.retryAfter == nil)
    #expect(refused.passwordViolations.isEmpty)
    #expect(refused.policyHolderCount == nil)
    #expect(refused.field == nil)
    #expect(refused.reason == nil)
    #expect(refused.storeLocation == nil)
  }

  /// A log frame whose header was zeroed, with intact frames after it, is corruption at that
  /// frame's offset in that log file.
  @Test func aCorruptFileStoreSaysWhereTheDamageIs() async throws {
    let temporary = try TemporaryDirectory()
    let workload = StoreWorkload(users: 4)
    let store = try FileDirectoryStore(directory: temporary.store)
    for step in workload.steps.prefix(3) { try await store.commit(step) }
    let files = try FileManager.default.contentsOfDirectory(atPath: temporary.store)
    let log = try #require(files.filter { $0.hasPrefix("log-") }.max())
    let path = temporary.store + "/" + log
    // Where the next frame starts: the end of the log's data (the file goes on with zeros).
    let before = store.statistics.logBytes
    try await store.commit(workload.steps[3])
    try await store.commit(workload.steps[4])
    store.close()
    var bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
    bytes.replaceSubrange(before..<before + 8, with: [UInt8](repeating: 0, count: 8))
    try Data(bytes).write(to: URL(fileURLWithPath: path))

    let corrupt = try #require(
      #expect(throws: UserManagementError.self) {
        try FileDirectoryStore(directory: temporary.store)
      })
    #expect(corrupt.code == .corruptStore)
    let location = try #require(corrupt.storeLocation)
    #expect(location.file.hasSuffix(log))
    #expect(location.offset == UInt64(before))
  }

  /// A host's store fails with its own error, whose text quotes stored values.
  @Test func aHostStoresOwnErrorIsKeptButNeverShown() async throws {
    let directory = UserDirectory(
      store: FailingCommitsStore(),
      configuration: .init(passwordHasher: InsecureFastPasswordHasher()))
    let failure = try #require(
      await expectError(.storageFailure) {
        try await directory.bootstrap(
          NewUser(
            username: "root@example.com", firstName: "Root", lastName: "Admin",
            password: .typed(Secret("correct horse battery staple 9"))))
      })
    let underlying = try #require(failure.underlyingError as? HostStoreError)
    #expect(underlying == HostStoreError())
    #expect(!failure.description.contains(HostStoreError.quotedValue))
    #expect(!failure.message.contains(HostStoreError.quotedValue))
    #expect(!failure.context.values.contains { $0.contains(HostStoreError.quotedValue) })
    #expect(!failure.context.keys.contains { $0.contains(HostStoreError.quotedValue) })
    let withoutUnderlying = UserManagementError(
      failure.code, failure.message, context: failure.context)
    #expect(failure == withoutUnderlying)
    #expect(failure.hashValue == withoutUnderlying.hashValue)
  }

  /// The error a host's store throws: its text quotes a stored value.
  struct HostStoreError: Error, Equatable, CustomStringConvertible {
    static let quotedValue = "row 17: alice@example.com"
    var description: String { "constraint failed at \(Self.quotedValue)" }
  }

  /// Reads from an empty in-memory store, fails every commit with ``HostStoreError``.
  final class FailingCommitsStore: ForwardingDirectoryStore {
    let base: any DirectoryStore = InMemoryDirectoryStore()
    func commit(_ changes: ChangeSet) async throws { throw HostStoreError() }
  }
}
