import FoundationEssentials
import Testing
import UserManagementKit
import UserManagementKitTesting

/// A fresh, empty directory under the system's temporary directory, removed with its contents
/// when the value is released.
final class TemporaryDirectory: Sendable {
  let path: String

  init() throws {
    let base = FileManager.default.temporaryDirectory.path
    path = base + "/umk-test-" + UUID().uuidString.lowercased()
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  /// A path inside this directory for a store, not yet created.
  var store: String { path + "/store" }

  deinit {
    try? FileManager.default.removeItem(atPath: path)
  }
}

@Suite("FileDirectoryStore conformance")
struct FileStoreConformanceTests {
  /// The store as an application uses it.
  @Test(arguments: DirectoryStoreConformance.Check.allCases)
  func conformance(_ check: DirectoryStoreConformance.Check) async throws {
    let temporary = try TemporaryDirectory()
    try await DirectoryStoreConformance {
      try FileDirectoryStore(directory: temporary.store)
    }.run(check)
  }

  /// Commits through one instance, reads through another on the same directory (as two
  /// processes would), compacting often: every read must see every commit.
  @Test(arguments: DirectoryStoreConformance.Check.allCases)
  func conformanceAcrossInstances(_ check: DirectoryStoreConformance.Check) async throws {
    let temporary = try TemporaryDirectory()
    try await DirectoryStoreConformance {
      try SplitStore(directory: temporary.store)
    }.run(check)
  }

  /// Reopens the store from its files after every commit: everything must survive the trip
  /// through the disk.
  @Test(arguments: DirectoryStoreConformance.Check.allCases.filter { $0 != .auditSubscription })
  func conformanceAfterReopening(_ check: DirectoryStoreConformance.Check) async throws {
    let temporary = try TemporaryDirectory()
    try await DirectoryStoreConformance {
      try ReopeningStore(directory: temporary.store)
    }.run(check)
  }
}

/// Small compaction thresholds, so that tests compact often.
let compactingOptions = FileDirectoryStore.Options(minimumCompactionLogSize: 4096)

/// Writes through one store instance and reads through another.
final class SplitStore: DirectoryStore {
  let writer: FileDirectoryStore
  let reader: FileDirectoryStore

  init(directory: String) throws {
    writer = try FileDirectoryStore(directory: directory, options: compactingOptions)
    reader = try FileDirectoryStore(directory: directory, options: compactingOptions)
  }

  func user(id: UserID) async throws -> UserRecord? { try await reader.user(id: id) }
  func user(usernameKey: String) async throws -> UserRecord? {
    try await reader.user(usernameKey: usernameKey)
  }
  func users(matching query: UserQuery) async throws -> UserPage {
    try await reader.users(matching: query)
  }
  func countUsers(matching filter: UserFilter) async throws -> Int {
    try await reader.countUsers(matching: filter)
  }
  func loginThrottle(for user: UserID, kind: CredentialKind) async throws -> LoginThrottleState {
    try await reader.loginThrottle(for: user, kind: kind)
  }
  func policy(id: PolicyID) async throws -> Policy? { try await reader.policy(id: id) }
  func policy(nameKey: String) async throws -> Policy? {
    try await reader.policy(nameKey: nameKey)
  }
  func policies() async throws -> [Policy] { try await reader.policies() }
  func auditEvents(matching query: AuditQuery) async throws -> [AuditEvent] {
    try await reader.auditEvents(matching: query)
  }
  func subscribeToAuditEvents() -> AsyncStream<AuditEvent> { writer.subscribeToAuditEvents() }
  func commit(_ changes: ChangeSet) async throws { try await writer.commit(changes) }
}

/// Opens the store anew from its files after every commit.
final class ReopeningStore: DirectoryStore {
  let directory: String
  let current: Locked<FileDirectoryStore>

  init(directory: String) throws {
    self.directory = directory
    current = Locked(try FileDirectoryStore(directory: directory, options: compactingOptions))
  }

  private var store: FileDirectoryStore { current.withLock { $0 } }

  func user(id: UserID) async throws -> UserRecord? { try await store.user(id: id) }
  func user(usernameKey: String) async throws -> UserRecord? {
    try await store.user(usernameKey: usernameKey)
  }
  func users(matching query: UserQuery) async throws -> UserPage {
    try await store.users(matching: query)
  }
  func countUsers(matching filter: UserFilter) async throws -> Int {
    try await store.countUsers(matching: filter)
  }
  func loginThrottle(for user: UserID, kind: CredentialKind) async throws -> LoginThrottleState {
    try await store.loginThrottle(for: user, kind: kind)
  }
  func policy(id: PolicyID) async throws -> Policy? { try await store.policy(id: id) }
  func policy(nameKey: String) async throws -> Policy? { try await store.policy(nameKey: nameKey) }
  func policies() async throws -> [Policy] { try await store.policies() }
  func auditEvents(matching query: AuditQuery) async throws -> [AuditEvent] {
    try await store.auditEvents(matching: query)
  }
  func subscribeToAuditEvents() -> AsyncStream<AuditEvent> { store.subscribeToAuditEvents() }
  func commit(_ changes: ChangeSet) async throws {
    var thrown: (any Error)?
    do {
      try await store.commit(changes)
    } catch {
      thrown = error
    }
    let reopened = try FileDirectoryStore(directory: directory, options: compactingOptions)
    current.withLock { $0 = reopened }
    if let thrown { throw thrown }
  }
}
