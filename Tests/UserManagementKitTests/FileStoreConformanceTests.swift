import Testing
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

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
final class SplitStore: ForwardingDirectoryStore {
  let writer: FileDirectoryStore
  let reader: FileDirectoryStore

  init(directory: String) throws {
    writer = try FileDirectoryStore(directory: directory, options: compactingOptions)
    reader = try FileDirectoryStore(directory: directory, options: compactingOptions)
  }

  var base: any DirectoryStore { reader }
  func subscribeToAuditEvents() -> AsyncStream<AuditEvent> { writer.subscribeToAuditEvents() }
  func commit(_ changes: ChangeSet) async throws { try await writer.commit(changes) }
}

/// Opens the store anew from its files after every commit.
final class ReopeningStore: ForwardingDirectoryStore {
  let directory: String
  let current: Locked<FileDirectoryStore>

  init(directory: String) throws {
    self.directory = directory
    current = Locked(try FileDirectoryStore(directory: directory, options: compactingOptions))
  }

  var base: any DirectoryStore { current.withLock { $0 } }

  func commit(_ changes: ChangeSet) async throws {
    var thrown: (any Error)?
    do {
      try await base.commit(changes)
    } catch {
      thrown = error
    }
    let reopened = try FileDirectoryStore(directory: directory, options: compactingOptions)
    current.withLock { $0 = reopened }
    if let thrown { throw thrown }
  }
}
