import Testing
import UserManagementKit
import UserManagementKitTesting

@Suite("InMemoryDirectoryStore conformance")
struct InMemoryConformanceTests {
  @Test(arguments: DirectoryStoreConformance.Check.allCases)
  func conformance(_ check: DirectoryStoreConformance.Check) async throws {
    try await DirectoryStoreConformance { InMemoryDirectoryStore() }.run(check)
  }

  /// The suite must be able to fail: a store that ignores preconditions is caught.
  @Test func suiteCatchesABrokenStore() async throws {
    let suite = DirectoryStoreConformance { PreconditionIgnoringStore() }
    await #expect(throws: ConformanceFailure.self) {
      try await suite.run(.failedCommitsApplyNothing)
    }
    await #expect(throws: ConformanceFailure.self) {
      try await suite.run(.directoryIsEmptyPrecondition)
    }
  }
}

/// A deliberately broken store: it drops preconditions before committing.
final class PreconditionIgnoringStore: DirectoryStore {
  let base: any DirectoryStore = InMemoryDirectoryStore()
  func user(id: UserID) async throws -> UserRecord? { try await base.user(id: id) }
  func user(usernameKey: String) async throws -> UserRecord? {
    try await base.user(usernameKey: usernameKey)
  }
  func users(matching query: UserQuery) async throws -> UserPage {
    try await base.users(matching: query)
  }
  func countUsers(matching filter: UserFilter) async throws -> Int {
    try await base.countUsers(matching: filter)
  }
  func loginThrottle(for user: UserID, kind: CredentialKind) async throws -> LoginThrottleState {
    try await base.loginThrottle(for: user, kind: kind)
  }
  func policy(id: PolicyID) async throws -> Policy? { try await base.policy(id: id) }
  func policy(nameKey: String) async throws -> Policy? { try await base.policy(nameKey: nameKey) }
  func policies() async throws -> [Policy] { try await base.policies() }
  func auditEvents(matching query: AuditQuery) async throws -> [AuditEvent] {
    try await base.auditEvents(matching: query)
  }
  func subscribeToAuditEvents() -> AsyncStream<AuditEvent> { base.subscribeToAuditEvents() }
  func commit(_ changes: ChangeSet) async throws {
    var copy = changes
    copy.preconditions = []
    try await base.commit(copy)
  }
}
